"""GPT-2 weights through the Hugging Face layout: equal to transformers' GPT2LMHeadModel."""

from __future__ import annotations

import json

import pytest
import torch

from lmlab.errors import ModelFormatError
from lmlab.io.hf import export_hf, import_hf
from lmlab.models.transformer.gpt import GPT, GPTConfig

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def hf_gpt2(tmp_path_factory):
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(vocab_size=99, n_positions=40, n_embd=32, n_layer=3, n_head=4,
                                  resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = transformers.GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():  # make the biases and norms non-trivial
        for name, p in model.named_parameters():
            if name.endswith("bias") or "ln_" in name:
                p.add_(0.1 * torch.randn_like(p))
    folder = tmp_path_factory.mktemp("hf") / "gpt2"
    model.save_pretrained(folder)
    return model, folder


def test_import_matches_transformers_logits_and_hidden_states(hf_gpt2):
    ref, folder = hf_gpt2
    ours = import_hf(folder)
    assert isinstance(ours, GPT) and ours.config.d_model == 32
    ids = torch.randint(0, 99, (2, 11), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = ref(ids, output_hidden_states=True)
        h, states = ours.hidden(ids, all_layers=True)
        logits = ours(ids)
    torch.testing.assert_close(logits, out.logits, atol=1e-4, rtol=1e-4)
    for mine, theirs in zip(states[:-1], out.hidden_states[:-1], strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(h, out.hidden_states[-1], atol=1e-4, rtol=1e-4)  # after ln_f
    _state, last = ours.start(ids[:, :5])
    torch.testing.assert_close(last, out.logits[:, 4], atol=1e-4, rtol=1e-4)


def test_export_loads_in_transformers_and_round_trips(tmp_path, hf_gpt2):
    ref, folder = hf_gpt2
    ours = import_hf(folder)
    export_hf(ours, tmp_path / "out")
    again = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "out").eval()
    ids = torch.randint(0, 99, (1, 9))
    with torch.no_grad():
        torch.testing.assert_close(again(ids).logits, ref(ids).logits, atol=1e-5, rtol=1e-5)
    back = import_hf(tmp_path / "out")
    for (k, a), b in zip(ours.state_dict().items(), back.state_dict().values(), strict=True):
        assert torch.equal(a, b), k


def test_pytorch_bin_is_read_with_weights_only(tmp_path, hf_gpt2):
    import shutil

    ref, src = hf_gpt2
    folder = tmp_path / "bin"
    folder.mkdir()
    shutil.copy(src / "config.json", folder / "config.json")
    torch.save(ref.state_dict(), folder / "pytorch_model.bin")  # the classic .bin layout
    ids = torch.randint(0, 99, (1, 6))
    with torch.no_grad():
        torch.testing.assert_close(import_hf(folder)(ids), ref(ids).logits, atol=1e-4, rtol=1e-4)
    torch.save({"x": object}, folder / "pytorch_model.bin")  # a pickled class: refused
    with pytest.raises(ModelFormatError, match="plain tensor"):
        import_hf(folder)


def test_key_and_shape_mismatches_are_named(tmp_path, hf_gpt2):
    from safetensors.torch import load_file, save_file

    _, folder = hf_gpt2
    config = json.loads((folder / "config.json").read_text())
    weights = load_file(str(folder / "model.safetensors"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text(json.dumps(config))
    w = dict(weights)
    w.pop("transformer.h.1.ln_2.bias")
    w["transformer.h.0.extra.weight"] = torch.zeros(2)
    save_file(w, str(bad / "model.safetensors"))
    with pytest.raises(ModelFormatError, match=r"h\.1\.ln_2\.bias.*h\.0\.extra\.weight"):
        import_hf(bad)
    (bad / "config.json").write_text(json.dumps({**config, "n_embd": 48, "n_head": 4}))
    save_file(weights, str(bad / "model.safetensors"))
    with pytest.raises(ModelFormatError, match="shape"):
        import_hf(bad)
    (bad / "config.json").write_text(json.dumps({**config, "model_type": "falcon"}))
    with pytest.raises(ModelFormatError, match=r"'falcon' has no key map.*gpt2, bert, llama, mistral, qwen2, mixtral"):
        import_hf(bad)


def test_swiglu_models_do_not_export_as_gpt2(tmp_path):
    model = GPT(GPTConfig.preset("gpt-tiny", activation="swiglu"))
    with pytest.raises(ModelFormatError, match="GPT-2"):
        export_hf(model, tmp_path / "x")
