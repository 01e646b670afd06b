"""GPT: presets match GPT-2's parameter counts; cache == recompute; save/load; optimiser groups."""

from __future__ import annotations

import pytest
import torch

import lmlab
from lmlab.errors import ConfigError, DataError
from lmlab.models.base import LanguageModel, perplexity, token_log_probs
from lmlab.models.transformer.gpt import GPT, GPTConfig


@pytest.mark.parametrize("name,count", [
    ("gpt2-small", 124_439_808), ("gpt2-medium", 354_823_168),
    ("gpt2-large", 774_030_080), ("gpt2-xl", 1_557_611_200)])
def test_presets_have_the_published_parameter_counts(name, count):
    with torch.device("meta"):
        model = GPT(GPTConfig.preset(name))
    assert model.get_num_params(non_embedding=False) == count


def _tiny(**kw):
    torch.manual_seed(0)
    return GPT(GPTConfig.preset("gpt-tiny", vocab_size=50, max_seq_len=32, **kw)).eval()


@pytest.mark.parametrize("variant", [
    {}, {"pos": "rotary", "norm": "rmsnorm", "activation": "swiglu", "bias": False},
    {"pos": "sinusoidal", "attention": "math", "tie_embeddings": False}])
def test_cache_equals_recompute(variant):
    model = _tiny(**variant)
    assert isinstance(model, LanguageModel)
    ids = torch.randint(0, 50, (3, 12), generator=torch.Generator().manual_seed(0))
    full = model(ids)  # (B, T, V)
    state, logits = model.start(ids[:, :4])
    torch.testing.assert_close(logits, full[:, 3], atol=1e-5, rtol=1e-4)
    for t in range(4, 12):
        state, logits = model.step(state, ids[:, t])
        torch.testing.assert_close(logits, full[:, t], atol=1e-5, rtol=1e-4)
    assert state.length == 12


def test_teacher_forced_scoring_equals_the_step_path():
    model = _tiny()
    ids = torch.randint(0, 50, (2, 9), generator=torch.Generator().manual_seed(1))
    fast = token_log_probs(model, ids)

    class StepOnly:  # the same model seen through start/step only
        vocab_size = 50
        start, step = model.start, model.step

    torch.testing.assert_close(fast, token_log_probs(StepOnly(), ids), atol=1e-5, rtol=1e-4)
    assert perplexity(model, [ids[0].tolist()]).ppl > 1


def test_padding_mask_leaves_real_positions_unchanged():
    model = _tiny()
    ids = torch.randint(0, 50, (1, 6), generator=torch.Generator().manual_seed(2))
    padded = torch.cat([ids, torch.zeros(1, 3, dtype=torch.long)], dim=1)
    mask = torch.tensor([[True] * 6 + [False] * 3])
    torch.testing.assert_close(model(padded, mask)[:, :6], model(ids), atol=1e-5, rtol=1e-4)


def test_too_long_sequences_and_bad_configs_are_user_errors():
    model = _tiny()
    with pytest.raises(DataError, match="max_seq_len"):
        model(torch.zeros(1, 33, dtype=torch.long))
    with pytest.raises(ConfigError, match="divisible"):
        GPTConfig(d_model=10, n_heads=3)
    with pytest.raises(ConfigError, match="pos"):
        GPTConfig(pos="alibi")


def test_save_and_load_round_trip(tmp_path):
    model = _tiny()
    model.save(tmp_path / "gpt")
    again = lmlab.load(tmp_path / "gpt")
    assert isinstance(again, GPT)
    ids = torch.randint(0, 50, (2, 7))
    torch.testing.assert_close(again(ids), model(ids))
    assert again.lm_head.weight.data_ptr() == again.tok_emb.weight.data_ptr()  # still tied


def test_init_optimizer_groups_and_mfu():
    model = GPT(GPTConfig.preset("gpt-tiny", n_layers=4))
    down = torch.cat([b.ff.down.weight.flatten() for b in model.blocks])
    assert down.std().item() == pytest.approx(0.02 / (2 * 4) ** 0.5, rel=0.1)
    decay, no_decay = model.optimizer_groups(0.1)
    assert all(p.dim() == 2 for p in decay["params"]) and all(p.dim() == 1 for p in no_decay["params"])
    n_group = sum(p.numel() for g in (decay, no_decay) for p in g["params"])
    assert n_group == model.get_num_params(non_embedding=False)
    # 6 N + 12 L D T FLOPs per token; one token per second over a peak of that many FLOP/s is 1.
    flops = model.flops_per_token()
    assert model.estimate_mfu(1, 1.0, peak_flops=flops) == pytest.approx(1.0)


def test_one_training_step_lowers_the_loss():
    model = _tiny().train()
    ids = torch.randint(0, 50, (4, 16), generator=torch.Generator().manual_seed(3))
    opt = model.configure_optimizer(lr=1e-2)
    losses = []
    for _ in range(5):
        logits = model(ids[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 50), ids[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
