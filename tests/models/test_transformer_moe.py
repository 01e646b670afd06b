"""MoE feed-forward: dispatch == reference (values, gradients); == transformers' Mixtral block and
load-balancing loss; router logits kept only while training; bad configs; a drop-in GPT MLP."""

from __future__ import annotations

import pytest
import torch

from lmlab.errors import ConfigError, DataError
from lmlab.models.transformer.gpt import GPT, GPTConfig
from lmlab.models.transformer.moe import MoEFeedForward, load_balancing_loss, moe_aux_loss


def _moe(d=16, d_ff=32, e=4, k=2, std=0.2, seed=0, **kw) -> MoEFeedForward:
    """A MoE layer with larger weights than the 0.02 init, so routing and outputs are not tiny."""
    torch.manual_seed(seed)
    moe = MoEFeedForward(d, d_ff, e, k, **kw)
    with torch.no_grad():
        for p in moe.parameters():
            p.normal_(0.0, std)
    return moe


def _both(moe: MoEFeedForward, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    moe.path = "reference"
    ref = moe(x)
    moe.path = "dispatch"
    return ref, moe(x)


@pytest.mark.parametrize("shape", [(1, 1, 8), (2, 5, 8), (3, 7, 8), (1, 33, 8)])
@pytest.mark.parametrize("e,k", [(4, 1), (4, 2), (6, 2), (3, 3)])
def test_dispatch_equals_reference(shape, e, k):
    moe = _moe(d=8, d_ff=12, e=e, k=k, seed=sum(shape) + e + k).eval()
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    ref, fast = _both(moe, x)
    assert fast.shape == x.shape
    torch.testing.assert_close(fast, ref, atol=1e-6, rtol=0)


def test_experts_without_tokens():
    moe = _moe(e=5, k=2).eval()
    with torch.no_grad():
        moe.router.weight[2:] = -1.0  # positive inputs: experts 2, 3, 4 always score lowest
    x = torch.rand(2, 6, 16) + 0.1
    _, _, experts = moe.route(x.reshape(-1, 16))
    assert set(experts.unique().tolist()) == {0, 1}
    ref, fast = _both(moe, x)
    torch.testing.assert_close(fast, ref, atol=1e-6, rtol=0)


def test_gradients_dispatch_equal_reference():
    moe = _moe(k=2).train()
    x = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(3))
    target = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(4))
    grads = {}
    for path in ("reference", "dispatch"):
        moe.path = path
        moe.zero_grad()
        xi = x.clone().requires_grad_(True)
        ((moe(xi) - target) ** 2).sum().backward()
        grads[path] = [xi.grad, moe.router.weight.grad, moe.gate_up.grad, moe.down.grad]
    for ref, fast in zip(grads["reference"], grads["dispatch"], strict=True):
        assert ref is not None and ref.abs().sum() > 0
        torch.testing.assert_close(fast, ref, atol=1e-5, rtol=0)


def test_dense_top_k_is_the_probability_weighted_sum_of_all_experts():
    moe = _moe(e=3, k=3).eval()
    x = torch.randn(4, 16)
    probs = torch.softmax(moe.router(x), dim=-1)
    dense = sum(probs[:, e, None] * moe.expert(e, x) for e in range(3))
    torch.testing.assert_close(moe(x[None])[0], dense, atol=1e-6, rtol=0)


def test_normalize_top_k_off_keeps_the_softmax_probabilities():
    on, off = _moe(k=2).eval(), _moe(k=2, normalize_top_k=False).eval()
    x = torch.randn(1, 6, 16)
    kept = torch.softmax(on.router(x), dim=-1).topk(2, dim=-1).values.sum(-1, keepdim=True)
    torch.testing.assert_close(off(x), on(x) * kept, atol=1e-6, rtol=0)


@pytest.mark.parametrize("path", ["reference", "dispatch"])
def test_matches_transformers_mixtral_block(path):
    pytest.importorskip("transformers")
    from transformers import MixtralConfig
    from transformers.models.mixtral import modeling_mixtral

    config = MixtralConfig(hidden_size=16, intermediate_size=32, num_local_experts=4,
                           num_experts_per_tok=2)
    config._experts_implementation = "eager"
    torch.manual_seed(0)
    hf = modeling_mixtral.MixtralSparseMoeBlock(config).eval()
    with torch.no_grad():
        for p in hf.parameters():
            p.normal_(0.0, 0.2)
    ours = MoEFeedForward(16, 32, 4, 2, path=path).eval()
    state = hf.state_dict()
    ours.load_state_dict({"router.weight": state["gate.weight"],
                          "gate_up": state["experts.gate_up_proj"], "down": state["experts.down_proj"]})
    x = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), hf(x.clone()), atol=1e-5, rtol=0)


def test_gate_is_the_first_half_of_gate_up():
    moe = _moe(d=4, d_ff=3, e=1, k=1).eval()
    x = torch.randn(5, 4)
    gate, up = moe.gate_up[0, :3], moe.gate_up[0, 3:]
    want = (torch.nn.functional.silu(x @ gate.T) * (x @ up.T)) @ moe.down[0].T
    torch.testing.assert_close(moe(x[None])[0], want, atol=1e-6, rtol=0)


def _hf_loss():
    pytest.importorskip("transformers")
    from transformers.models.mixtral.modeling_mixtral import load_balancing_loss_func
    return load_balancing_loss_func


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("masked", [False, True])
def test_load_balancing_loss_matches_transformers(k, masked):
    hf_loss = _hf_loss()
    g = torch.Generator().manual_seed(k)
    layers = tuple(torch.randn(3 * 7, 6, generator=g) * 2 for _ in range(3))  # 3 layers, B=3, T=7
    mask = None
    if masked:
        mask = torch.ones(3, 7, dtype=torch.long)
        mask[0, 4:] = 0
        mask[2, 1:] = 0
    want = hf_loss(layers, 6, k, mask)
    torch.testing.assert_close(load_balancing_loss(layers, 6, k, mask), want, atol=1e-6, rtol=1e-6)
    # the same layers concatenated into one (L*N, E) tensor, as older transformers passed them
    torch.testing.assert_close(load_balancing_loss(torch.cat(layers), 6, k, mask), want,
                               atol=1e-6, rtol=1e-6)


def test_padding_does_not_count():
    logits = torch.randn(2 * 4, 5)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])
    kept = logits.view(2, 4, 5)[mask.bool()]
    torch.testing.assert_close(load_balancing_loss(logits, 5, 2, mask), load_balancing_loss(kept, 5, 2))


@pytest.mark.parametrize("k", [1, 2])
def test_balanced_routing_costs_top_k(k):
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]])  # one token per expert, probabilities mirrored
    torch.testing.assert_close(load_balancing_loss(logits, 2, k), torch.tensor(float(k)))


def test_load_balancing_loss_bad_inputs():
    with pytest.raises(DataError):
        load_balancing_loss([], 4, 2)
    with pytest.raises(DataError, match="mask has 6 tokens"):
        load_balancing_loss(torch.randn(7, 4), 4, 2, torch.ones(2, 3))


def test_router_logits_are_kept_only_while_training():
    moe = _moe()
    x = torch.randn(2, 5, 16)
    moe.train()(x)
    assert moe.last_router_logits.shape == (10, 4) and moe.last_router_logits.requires_grad
    torch.testing.assert_close(moe.last_router_logits, moe.router(x.reshape(10, 16)))
    moe.eval()(x)
    assert moe.last_router_logits is None


def test_moe_aux_loss_pools_the_layers_and_reaches_the_router():
    assert moe_aux_loss(torch.nn.Linear(3, 3)) is None
    model = torch.nn.Sequential(_moe(seed=1), _moe(seed=2)).train()
    assert moe_aux_loss(model) is None  # no forward yet
    model(torch.randn(2, 5, 16))
    logits = [m.last_router_logits for m in model]
    aux = moe_aux_loss(model, coef=0.1)
    torch.testing.assert_close(aux, 0.1 * load_balancing_loss(logits, 4, 2))
    aux.backward()
    assert all(m.router.weight.grad.abs().sum() > 0 for m in model)
    model.eval()(torch.randn(2, 5, 16))
    assert moe_aux_loss(model) is None


def test_jitter_only_while_training():
    plain, noisy = _moe().eval(), _moe(jitter=0.1).eval()
    x = torch.randn(2, 5, 16)
    torch.testing.assert_close(noisy(x), plain(x))
    noisy.train()(x)
    assert not torch.allclose(noisy.last_router_logits, noisy.router(x.reshape(10, 16)))


@pytest.mark.parametrize("e,k,name", [(4, 5, "top_k"), (0, 1, "n_experts"), (4, 0, "top_k")])
def test_bad_configs(e, k, name):
    with pytest.raises(ConfigError, match=name) as info:
        MoEFeedForward(16, 32, e, k)
    assert "\n" not in str(info.value)


def test_bad_path():
    with pytest.raises(ConfigError, match="path"):
        MoEFeedForward(16, 32, 4, 2, path="fast")
    moe = MoEFeedForward(16, 32, 4, 2)
    moe.path = "fast"
    with pytest.raises(ConfigError, match="path"):
        moe(torch.randn(1, 2, 16))


def test_init_is_normal_002():
    moe = MoEFeedForward(64, 128, 8, 2)
    for w in (moe.router.weight, moe.gate_up, moe.down):
        assert abs(w.std().item() - 0.02) < 0.002
    assert moe.gate_up.shape == (8, 256, 64) and moe.down.shape == (8, 64, 128)


def test_drop_in_feed_forward_of_gpt():
    torch.manual_seed(0)
    model = GPT(GPTConfig.preset("gpt-tiny", vocab_size=50, max_seq_len=16))
    d = model.config.d_model
    for block in model.blocks:
        block.ff = MoEFeedForward(d, 2 * d, 4, 2)
    ids = torch.randint(0, 50, (2, 8))
    logits = model.train()(ids)
    assert logits.shape == (2, 8, 50)
    aux = moe_aux_loss(model)
    assert aux is not None and aux.item() > 0
    (logits.logsumexp(-1).mean() + aux).backward()
    assert all(block.ff.gate_up.grad is not None for block in model.blocks)
    model.eval()(ids)
    assert moe_aux_loss(model) is None
