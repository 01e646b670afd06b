"""LoRA adapters: only they train, merging is exact, PEFT-layout save/load (and peft itself)."""

from __future__ import annotations

import json

import pytest
import torch

from lmlab.align import (
    LoRAConfig,
    LoRALinear,
    apply_lora,
    count_parameters,
    load_adapters,
    merge_lora,
    save_adapters,
)
from lmlab.errors import ConfigError
from tests.align.conftest import tiny_gpt, tiny_llama

ALL_GPT = ("qkv", "out", "up", "down", "lm_head")
ALL_LLAMA = ("qkv", "out", "gate_up", "down", "lm_head")


def _randomise(model):
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, LoRALinear):
            with torch.no_grad():
                m.lora_B.weight.copy_(torch.randn(m.lora_B.weight.shape, generator=g) * 0.05)


def _ids(model, n=12):
    return torch.randint(4, model.config.vocab_size, (2, n), generator=torch.Generator().manual_seed(2))


@pytest.mark.parametrize("family,targets", [("gpt", ALL_GPT), ("llama", ALL_LLAMA)])
def test_merged_logits_equal_adapter_logits(tokenizer, family, targets):
    model = (tiny_gpt if family == "gpt" else tiny_llama)(tokenizer)
    base = model(_ids(model)).detach()
    info = apply_lora(model, LoRAConfig(rank=4, alpha=8, targets=targets))
    assert torch.allclose(model(_ids(model)), base, atol=1e-6)  # B = 0: the base model exactly
    _randomise(model)
    adapted = model(_ids(model)).detach()
    assert not torch.allclose(adapted, base, atol=1e-3)
    assert "trainable parameters of" in str(info) and info.trainable < info.total / 5
    merge_lora(model)
    assert not any(isinstance(m, LoRALinear) for m in model.modules())
    torch.testing.assert_close(model(_ids(model)), adapted, atol=1e-5, rtol=0)
    # the untied head keeps the embeddings as they were, and the model saves and loads
    assert model.config.tie_embeddings is False


def test_only_adapters_get_gradients(gpt):
    info = apply_lora(gpt, LoRAConfig(rank=2, targets=("qkv", "down")))
    gpt.train()
    logits = gpt(_ids(gpt))
    logits.float().pow(2).mean().backward()
    trainable = {n for n, p in gpt.named_parameters() if p.requires_grad}
    assert trainable and all(".lora_A." in n or ".lora_B." in n for n in trainable)
    assert all(p.grad is None for n, p in gpt.named_parameters() if n not in trainable)
    assert all(gpt.get_parameter(n).grad is not None for n in trainable)
    per_layer = (2 * 32 + 96 * 2) + (2 * 128 + 32 * 2)  # qkv: A (2, 32), B (96, 2); down: A (2, 128), B (32, 2)
    assert count_parameters(gpt)[0] == info.trainable == 2 * per_layer


def test_bad_targets_and_double_wrapping(gpt):
    with pytest.raises(ConfigError, match="unknown LoRA targets"):
        LoRAConfig(targets=("q_proj",))
    with pytest.raises(ConfigError, match="no linear layer"):
        apply_lora(gpt, LoRAConfig(targets=("gate_up",)))  # a GELU GPT has `up`, not `gate_up`
    apply_lora(gpt, LoRAConfig(targets=("qkv",)))
    with pytest.raises(ConfigError, match="already has LoRA"):
        apply_lora(gpt, LoRAConfig(targets=("qkv",)))


@pytest.mark.parametrize("family,targets", [("gpt", ALL_GPT), ("llama", ALL_LLAMA)])
def test_save_and_load_adapters_in_peft_layout(tokenizer, tmp_path, family, targets):
    make = tiny_gpt if family == "gpt" else tiny_llama
    model = make(tokenizer)
    apply_lora(model, LoRAConfig(rank=4, alpha=8, targets=targets))
    _randomise(model)
    expected = model(_ids(model)).detach()
    folder = save_adapters(model, tmp_path / "adapter")
    cfg = json.loads((folder / "adapter_config.json").read_text())
    assert cfg["peft_type"] == "LORA" and cfg["r"] == 4 and cfg["lora_alpha"] == 8
    from safetensors.torch import load_file

    keys = set(load_file(str(folder / "adapter_model.safetensors")))
    if family == "llama":  # the fused qkv becomes q_proj, k_proj, v_proj
        assert "base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight" in keys
        assert set(cfg["target_modules"]) >= {"q_proj", "k_proj", "v_proj", "gate_proj", "up_proj"}
    else:
        assert "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight" in keys
        assert cfg["fan_in_fan_out"] is True
    fresh = make(tokenizer)
    load_adapters(fresh, folder)
    torch.testing.assert_close(fresh(_ids(fresh)), expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("family,targets", [("gpt", ALL_GPT), ("llama", ALL_LLAMA)])
def test_peft_loads_the_adapters_onto_the_exported_base(tokenizer, tmp_path, family, targets):
    peft = pytest.importorskip("peft")
    transformers = pytest.importorskip("transformers")
    from lmlab.io.hf import export_hf

    model = (tiny_gpt if family == "gpt" else tiny_llama)(tokenizer)
    export_hf(model, tmp_path / "base")
    apply_lora(model, LoRAConfig(rank=4, alpha=8, targets=targets))
    _randomise(model)
    save_adapters(model, tmp_path / "adapter")
    ids = _ids(model)
    ours = model(ids).detach()
    hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "base").eval()
    with torch.no_grad():
        plain = hf(ids).logits
        peft_model = peft.PeftModel.from_pretrained(hf, tmp_path / "adapter").eval()
        theirs = peft_model(ids).logits
    assert not torch.allclose(plain, theirs, atol=1e-3)
    torch.testing.assert_close(theirs, ours, atol=1e-4, rtol=0)
