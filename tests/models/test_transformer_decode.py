"""The one-token decode plan computes what the modules compute, and steps aside when it must."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lmlab.models.transformer import decode
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


def _steps(model: GPT, ids: torch.Tensor, n_prompt: int, *, plan: bool = True):
    """(final state, logits of the prompt and of each step); `plan=False`: through the modules."""
    state, logits = model.start(ids[:, :n_prompt])
    if not plan:
        model._decode_plan = None
    out = [logits]
    for t in range(n_prompt, ids.shape[1]):
        state, logits = model.step(state, ids[:, t])
        out.append(logits)
    return state, out


def _module_steps(model: GPT, ids: torch.Tensor, n_prompt: int) -> list[torch.Tensor]:
    return _steps(model, ids, n_prompt, plan=False)[1]


@pytest.mark.parametrize("variant", VARIANTS)
def test_plan_steps_equal_module_steps(variant):
    model = _tiny(**variant)
    ids = torch.randint(0, 50, (3, 14), generator=torch.Generator().manual_seed(1))
    expected = _module_steps(model, ids, 5)
    state, got = _steps(model, ids, 5)
    assert model._decode_plan is not None
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


needs_onednn = pytest.mark.skipif(not decode._onednn_available(), reason="torch built without oneDNN")


@needs_onednn
@pytest.mark.parametrize("variant", VARIANTS)
def test_packed_projections_equal_the_module_path(variant, monkeypatch):
    """With every projection packed for oneDNN (threshold lowered), the logits stay the same."""
    monkeypatch.setattr(decode, "PACK_MIN_ELEMENTS", 1)
    model = _tiny(**variant)
    ids = torch.randint(0, 50, (3, 10), generator=torch.Generator().manual_seed(6))
    expected = _module_steps(model, ids, 4)
    _, got = _steps(model, ids, 4)
    plan = model._decode_plan
    assert plan.head.pack_for == 3 and all(layer.qkv.pack_for == 3 for layer in plan.layers)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@needs_onednn
def test_packed_weights_follow_in_place_changes(monkeypatch):
    monkeypatch.setattr(decode, "PACK_MIN_ELEMENTS", 1)
    model = _tiny()
    ids = torch.randint(0, 50, (2, 8), generator=torch.Generator().manual_seed(5))
    state, _ = model.start(ids[:, :6])
    with torch.no_grad():  # the tied head and a layer change in place: the packed copies must too
        model.tok_emb.weight.mul_(-1.0)
        model.blocks[1].ff.up.weight.mul_(2.0)
    _, fast = model.step(state.clone(), ids[:, 6])
    model._decode_plan = None
    _, slow = model.step(state, ids[:, 6])
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)


def test_small_or_large_models_are_not_packed(monkeypatch):
    model = _tiny()  # every weight is below PACK_MIN_ELEMENTS
    plan = decode.DecodePlan.build(model, batch=2)
    assert plan.head.pack_for is None and all(layer.up.pack_for is None for layer in plan.layers)
    monkeypatch.setattr(decode, "PACK_MIN_ELEMENTS", 1)
    monkeypatch.setattr(decode, "PACK_MAX_MODEL_BYTES", 1000)  # "too large to copy"
    plan = decode.DecodePlan.build(model, batch=2)
    assert plan.head.pack_for is None


def test_a_failing_onednn_kernel_falls_back_to_blas(monkeypatch):
    class Broken:
        def _reorder_linear_weight(self, *args):
            raise RuntimeError("no such kernel in this build")

    layer = torch.nn.Linear(8, 16)
    proj = decode.Projection(layer, pack_for=2)
    monkeypatch.setattr(torch.ops, "mkldnn", Broken())
    x = torch.randn(2, 8)
    torch.testing.assert_close(proj(x), layer(x))
    assert proj.pack_for is None
