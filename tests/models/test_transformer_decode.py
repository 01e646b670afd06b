"""The one-token decode plan computes what the modules compute, and steps aside when it must."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lmlab.models.transformer.decode import DecodePlan
from lmlab.models.transformer.gpt import GPT, GPTConfig

VARIANTS = [
    {},
    {"pos": "rotary", "norm": "rmsnorm", "activation": "swiglu", "bias": False},
    {"pos": "sinusoidal", "attention": "math", "tie_embeddings": False, "activation": "relu"},
    {"pos": "none", "activation": "gelu", "norm_eps": 1e-3},
]


def _tiny(**kw) -> GPT:
    torch.manual_seed(0)
    model = GPT(GPTConfig.preset("gpt-tiny", vocab_size=50, max_seq_len=32, **kw)).eval()
    with torch.no_grad():  # non-trivial norms and biases, so a wrong one shows
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))
    return model


def _module_steps(model: GPT, ids: torch.Tensor, n_prompt: int) -> list[torch.Tensor]:
    """Logits of each step through the modules (the plan switched off)."""
    state, logits = model.start(ids[:, :n_prompt])
    model._decode_plan = None
    out = [logits]
    for t in range(n_prompt, ids.shape[1]):
        state, logits = model.step(state, ids[:, t])
        out.append(logits)
    return out


@pytest.mark.parametrize("variant", VARIANTS)
def test_plan_steps_equal_module_steps(variant):
    model = _tiny(**variant)
    ids = torch.randint(0, 50, (3, 14), generator=torch.Generator().manual_seed(1))
    expected = _module_steps(model, ids, 5)
    state, logits = model.start(ids[:, :5])
    assert model._decode_plan is not None
    got = [logits]
    for t in range(5, 14):
        state, logits = model.step(state, ids[:, t])
        got.append(logits)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert state.length == 14


def test_plan_sees_weights_changed_in_place():
    model = _tiny()
    ids = torch.randint(0, 50, (1, 6), generator=torch.Generator().manual_seed(2))
    state, _ = model.start(ids[:, :3])
    plan = model._decode_plan
    with torch.no_grad():
        model.blocks[0].ff.down.weight.mul_(3.0)  # e.g. an optimiser step between generations
    _, fast = model.step(state.clone(), ids[:, 3])
    model._decode_plan = None
    _, slow = model.step(state, ids[:, 3])
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)
    assert plan is not None


class _Wrapped(nn.Module):
    """A stand-in for LoRA: the plan cannot see inside it, so it must not be used."""

    def __init__(self, inner: nn.Linear) -> None:
        super().__init__()
        self.inner = inner
        self.weight, self.bias = inner.weight, inner.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) + 1.0


def test_no_plan_for_wrapped_hooked_recording_or_training_models():
    model = _tiny()
    assert DecodePlan.build(model) is not None
    model.blocks[1].attn.out = _Wrapped(model.blocks[1].attn.out)
    assert DecodePlan.build(model) is None
    ids = torch.randint(0, 50, (2, 6), generator=torch.Generator().manual_seed(3))
    state, _ = model.start(ids[:, :5])
    _, logits = model.step(state, ids[:, 5])
    torch.testing.assert_close(logits, model(ids)[:, -1], atol=1e-5, rtol=1e-5)  # the wrapper counts

    model = _tiny()
    handle = model.blocks[0].norm_ff.register_forward_hook(lambda m, i, o: o * 0)
    assert DecodePlan.build(model) is None
    handle.remove()
    model.blocks[0].attn.record_weights = True
    assert DecodePlan.build(model) is None
    model.blocks[0].attn.record_weights = False
    assert DecodePlan.build(model.train()) is None


def test_wide_vocabulary_head_equals_linear_and_follows_in_place_changes():
    """A vocabulary >= 4x the width goes through oneDNN on CPUs that have it; same logits."""
    torch.manual_seed(4)
    model = GPT(GPTConfig.preset("gpt-tiny", vocab_size=512, max_seq_len=32)).eval()  # 512 >= 4 x 64
    ids = torch.randint(0, 512, (2, 8), generator=torch.Generator().manual_seed(5))
    state, _ = model.start(ids[:, :6])
    head = model._decode_plan.head
    assert head.onednn == torch.backends.mkldnn.is_available()
    _, fast = model.step(state.clone(), ids[:, 6])
    full = model(ids[:, :7])[:, -1]
    torch.testing.assert_close(fast, full, atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        model.tok_emb.weight.mul_(-1.0)  # the tied head changes in place: the packed copy must too
    _, fast = model.step(state.clone(), ids[:, 6])
    model._decode_plan = None
    _, slow = model.step(state, ids[:, 6])
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)
