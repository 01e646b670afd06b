"""The Llama family (Llama, Mistral, Qwen2, Mixtral) against transformers on the same weights."""

from __future__ import annotations

import json

import pytest
import torch

import lmlab
from lmlab.errors import ModelFormatError
from lmlab.generate import generate
from lmlab.io.hf import export_hf, import_hf
from lmlab.models.transformer.llama import Llama, LlamaConfig
from lmlab.models.transformer.positions import rope_frequencies

transformers = pytest.importorskip("transformers")

V = 97
COMMON = dict(vocab_size=V, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
LLAMA3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 16}


def _hf(kind: str):
    t = transformers
    if kind == "llama":
        return t.LlamaForCausalLM(t.LlamaConfig(**COMMON, rope_theta=500000.0, rope_scaling=LLAMA3))
    if kind == "mistral":  # a window shorter than the test sequences
        return t.MistralForCausalLM(t.MistralConfig(**COMMON, sliding_window=5))
    if kind == "qwen2":
        return t.Qwen2ForCausalLM(t.Qwen2Config(**COMMON, tie_word_embeddings=True))
    return t.MixtralForCausalLM(t.MixtralConfig(**COMMON, num_local_experts=4,
                                                num_experts_per_tok=2))


@pytest.fixture(scope="module", params=["llama", "mistral", "qwen2", "mixtral"])
def pair(request, tmp_path_factory):
    """(kind, transformers model, lmlab model opened from its saved folder, folder)."""
    torch.manual_seed(0)
    theirs = _hf(request.param).eval()
    with torch.no_grad():  # larger weights than the default init, so mismatches show
        for p in theirs.parameters():
            p.normal_(0.0, 0.2)
    folder = tmp_path_factory.mktemp(request.param)
    theirs.save_pretrained(folder)
    ours = lmlab.load(folder)
    return request.param, theirs, ours, folder


def test_logits_equal_transformers(pair):
    kind, theirs, ours, _ = pair
    assert isinstance(ours, Llama)
    ids = torch.randint(0, V, (2, 20), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(ours(ids), theirs(ids).logits, atol=1e-4)
    c = ours.config
    assert (c.n_kv_heads, c.kv_heads) == (2, 2)
    assert (c.sliding_window == 5) == (kind == "mistral")
    assert (c.n_experts == 4) == (kind == "mixtral")
    assert c.tie_embeddings == (kind == "qwen2")


def test_greedy_generation_equals_transformers(pair):
    _, theirs, ours, _ = pair
    prompt = torch.randint(0, V, (1, 7), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        want = theirs.generate(prompt, max_new_tokens=12, do_sample=False, eos_token_id=None,
                               pad_token_id=0)[0, 7:].tolist()
    got = generate(ours, prompt[0], max_new_tokens=12, stop_token_ids=())
    assert got.ids == want


def test_cached_decoding_equals_recompute(pair):
    """Step by step through the KV cache equals the full forward pass, past the sliding window
    too, through the decode plan (eval) and the module path (a forward hook turns the plan off)."""
    _, _, ours, _ = pair
    ids = torch.randint(0, V, (3, 16), generator=torch.Generator().manual_seed(3))
    full = torch.log_softmax(ours(ids), -1)
    for hooked in (False, True):
        handle = ours.blocks[0].register_forward_hook(lambda *a: None) if hooked else None
        try:
            state, logits = ours.start(ids[:, :4])
            assert (ours._decode_plan is None) == (hooked or ours.config.n_experts > 0)
            assert state.k.shape[2] == ours.config.kv_heads  # the cache holds only the KV heads
            for t in range(4, 16):
                assert torch.allclose(torch.log_softmax(logits, -1), full[:, t - 1], atol=1e-4)
                state, logits = ours.step(state, ids[:, t])
        finally:
            if handle is not None:
                handle.remove()


def test_export_round_trips_and_loads_in_transformers(pair, tmp_path):
    kind, theirs, ours, _ = pair
    out = export_hf(ours, tmp_path / "export")
    assert json.loads((out / "config.json").read_text())["model_type"] == kind
    again = import_hf(out)
    back = getattr(transformers, theirs.__class__.__name__).from_pretrained(out).eval()
    ids = torch.randint(0, V, (2, 12), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        assert torch.equal(again(ids), ours(ids))
        assert torch.allclose(back(ids).logits, ours(ids), atol=1e-5)


def test_lmlab_folder_round_trip(pair, tmp_path):
    _, _, ours, _ = pair
    again = lmlab.load(ours.save(tmp_path / "m"))
    ids = torch.randint(0, V, (1, 9), generator=torch.Generator().manual_seed(5))
    assert type(again) is Llama and again.config == ours.config
    assert torch.equal(again(ids), ours(ids))


def test_sharded_and_bfloat16_checkpoints(tmp_path):
    torch.manual_seed(0)
    theirs = _hf("llama").eval()
    theirs.save_pretrained(tmp_path / "one")
    theirs.save_pretrained(tmp_path / "sharded", max_shard_size="20KB")
    assert (tmp_path / "sharded" / "model.safetensors.index.json").exists()
    ours = import_hf(tmp_path / "one")
    ids = torch.randint(0, V, (1, 9), generator=torch.Generator().manual_seed(6))
    assert torch.equal(import_hf(tmp_path / "sharded")(ids), ours(ids))
    half = import_hf(tmp_path / "sharded", dtype="bfloat16")
    assert {p.dtype for p in half.parameters()} == {torch.bfloat16}
    assert torch.allclose(half(ids).float(), ours(ids), atol=0.05)
    stored = import_hf(tmp_path / "one", dtype="auto")  # transformers saved float32
    assert {p.dtype for p in stored.parameters()} == {torch.float32}


def test_llama3_rope_frequencies_equal_transformers():
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    cfg = transformers.LlamaConfig(**COMMON, rope_theta=500000.0, rope_scaling=LLAMA3)
    theirs, _ = ROPE_INIT_FUNCTIONS["llama3"](cfg, "cpu")
    ours = rope_frequencies(8, 500000.0, LLAMA3)
    assert torch.allclose(ours.float(), theirs.float(), rtol=1e-6)
    assert not torch.allclose(ours, rope_frequencies(8, 500000.0))  # the scaling did something


#: published parameter counts of the checkpoints the presets describe
PUBLISHED = {"smollm2-135m": 134_515_008, "smollm2-360m": 361_821_120,
             "qwen2.5-0.5b": 494_032_768, "tinyllama-1.1b": 1_100_048_384,
             "llama-3.2-1b": 1_235_814_400, "llama-2-7b": 6_738_415_616,
             "mistral-7b": 7_241_732_096, "mixtral-8x7b": 46_702_792_704}


@pytest.mark.parametrize("preset", sorted(PUBLISHED))
def test_presets_have_the_published_parameter_counts(preset):
    config = LlamaConfig.preset(preset, max_seq_len=16)  # the rotary tables are not parameters
    with torch.device("meta"):
        model = Llama(config)
    assert model.get_num_params() == PUBLISHED[preset]


def test_presets_equal_transformers_shapes_on_meta():
    t = transformers
    theirs_cfg = t.Qwen2Config(vocab_size=151936, hidden_size=896, intermediate_size=4864,
                               num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                               tie_word_embeddings=True)
    with torch.device("meta"):
        theirs = t.Qwen2ForCausalLM(theirs_cfg)
        ours = Llama(LlamaConfig.preset("qwen2.5-0.5b", max_seq_len=16))
    want = sum(p.numel() for p in theirs.parameters())
    assert ours.get_num_params() == want == PUBLISHED["qwen2.5-0.5b"]


def test_tokenizer_and_chat_template_come_from_the_folder(tmp_path):
    """A Llama-style folder: its tokenizer adds <s> (so the model's bos_id is <s>), ends with
    </s>, carries a chat template; text reads as transformers' tokenizer reads it."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

    texts = ["El perro ladra en la granja .", "¿ Dónde está la niña ?", "¡ Qué río tan grande !"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(texts * 5, trainers.BpeTrainer(vocab_size=90, special_tokens=[
        "<unk>", "<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    template = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{{ eos_token }}"
                "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>",
                                                eos_token="</s>", unk_token="<unk>",
                                                chat_template=template)
    torch.manual_seed(0)
    config = transformers.LlamaConfig(**{**COMMON, "vocab_size": max(V, tok.get_vocab_size())},
                                      bos_token_id=1, eos_token_id=2)
    transformers.LlamaForCausalLM(config).save_pretrained(tmp_path)
    fast.save_pretrained(tmp_path)
    model = lmlab.load(tmp_path)
    assert (model.bos_id, model.eos_id) == (1, 2)
    text = "El perro ladra"
    assert lmlab.generate(model, text, max_new_tokens=2).prompt_ids == fast(text)["input_ids"]
    assert model.chat_template == fast.chat_template
    again = lmlab.load(model.save(tmp_path / "lmlab"))
    assert again.chat_template == template and (again.bos_id, again.eos_id) == (1, 2)


def test_mixture_of_experts_trains_with_its_balancing_loss():
    from lmlab.train.objectives import causal_lm

    torch.manual_seed(0)
    model = Llama(LlamaConfig.preset("mixtral-tiny", vocab_size=V)).train()
    batch = {"ids": torch.randint(0, V, (2, 12))}
    loss, metrics = causal_lm(model, batch)
    assert metrics["aux_loss"] > 0 and loss.item() == pytest.approx(metrics["loss"] + metrics["aux_loss"], rel=1e-5)
    loss.backward()
    assert model.blocks[0].ff.router.weight.grad.abs().sum() > 0
    model.eval()
    assert "aux_loss" not in causal_lm(model, batch)[1]


def test_bad_folders_are_one_line_errors(pair, tmp_path):
    _, _, _, folder = pair
    config = json.loads((folder / "config.json").read_text())
    for name in ("config.json", "model.safetensors"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    (tmp_path / "config.json").write_text(json.dumps({**config, "model_type": "gemma"}))
    with pytest.raises(ModelFormatError, match=r"'gemma' has no key map.*llama, mistral, qwen2, mixtral"):
        lmlab.load(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({**config, "intermediate_size": 40}))
    with pytest.raises(ModelFormatError, match=r"has shape .* but blocks\.0\.ff"):
        lmlab.load(tmp_path)


def test_a_checkpoint_with_a_distinct_head_is_not_tied(tmp_path):
    """A config that says "tied" over a file that stores a different head: like transformers,
    the head stays its own."""
    torch.manual_seed(0)
    theirs = transformers.Qwen2ForCausalLM(transformers.Qwen2Config(**COMMON, tie_word_embeddings=True))
    theirs.lm_head.weight = torch.nn.Parameter(theirs.lm_head.weight.detach() + 0.5)
    theirs.save_pretrained(tmp_path)
    theirs = transformers.Qwen2ForCausalLM.from_pretrained(tmp_path).eval()
    ours = lmlab.load(tmp_path)
    assert not ours.config.tie_embeddings
    ids = torch.randint(0, V, (1, 8))
    with torch.no_grad():
        assert torch.allclose(ours(ids), theirs(ids).logits, atol=1e-4)
