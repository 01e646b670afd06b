"""Attention backends agree; masks; positions; norms and feed-forwards; the KV cache."""

from __future__ import annotations

import math

import pytest
import torch

from lmlab.errors import ConfigError
from lmlab.models.transformer.attention import (
    MultiHeadAttention,
    attention_math,
    attention_sdpa,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)
from lmlab.models.transformer.kv_cache import KVCache
from lmlab.models.transformer.layers import RMSNorm, SwiGLU, make_feed_forward
from lmlab.models.transformer.positions import (
    RelativePositionBias,
    RotaryEmbedding,
    relative_position_bucket,
    sinusoidal_table,
)


def _qkv(b=2, h=3, tq=5, tk=5, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, h, tq, d, generator=g), torch.randn(b, h, tk, d, generator=g),
            torch.randn(b, h, tk, d, generator=g))


def test_math_attention_on_a_hand_computed_case():
    # One query, two keys: scores q.k / sqrt(2) = [0, 2/sqrt 2]; softmax -> [1/(1+e^sqrt2), ...].
    q = torch.tensor([[[[1.0, 1.0]]]])
    k = torch.tensor([[[[1.0, -1.0], [1.0, 1.0]]]])
    v = torch.tensor([[[[10.0, 0.0], [0.0, 10.0]]]])
    out, w = attention_math(q, k, v)
    w1 = 1 / (1 + math.exp(math.sqrt(2)))
    torch.testing.assert_close(w[0, 0, 0], torch.tensor([w1, 1 - w1]))
    torch.testing.assert_close(out[0, 0, 0], torch.tensor([10 * w1, 10 * (1 - w1)]))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("tq,tk", [(5, 5), (1, 6), (3, 7)])
@pytest.mark.parametrize("with_mask", [False, True])
@pytest.mark.parametrize("with_bias", [False, True])
def test_backends_agree(causal, tq, tk, with_mask, with_bias):
    q, k, v = _qkv(tq=tq, tk=tk)
    mask = padding_mask(torch.tensor([[True] * tk, [True] * (tk - 1) + [False]])) if with_mask else None
    bias = torch.randn(1, 3, tq, tk) if with_bias else None
    a, w = scaled_dot_product_attention(q, k, v, backend="math", mask=mask, causal=causal, bias=bias)
    b, none = scaled_dot_product_attention(q, k, v, backend="sdpa", mask=mask, causal=causal, bias=bias)
    assert none is None
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, tq))


def test_causal_mask_is_bottom_right_aligned_and_hides_the_future():
    assert causal_mask(2, 4).tolist() == [[True, True, True, False], [True, True, True, True]]
    q, k, v = _qkv(tq=4, tk=4)
    _, w = attention_math(q, k, v, causal=True)
    assert torch.all(w.triu(diagonal=1) == 0)
    # The output at position t does not change when later keys/values change.
    k2, v2 = k.clone(), v.clone()
    k2[:, :, 3], v2[:, :, 3] = 100.0, -100.0
    a, _ = attention_sdpa(q, k, v, causal=True)
    b, _ = attention_sdpa(q, k2, v2, causal=True)
    torch.testing.assert_close(a[:, :, :3], b[:, :, :3])


def test_padding_mask_gives_padded_keys_zero_weight():
    q, k, v = _qkv(b=1, tq=3, tk=3)
    keep = torch.tensor([[True, True, False]])
    _, w = attention_math(q, k, v, mask=padding_mask(keep))
    assert torch.all(w[..., 2] == 0)
    out_short, _ = attention_math(q, k[:, :, :2], v[:, :, :2])
    out_masked, _ = attention_sdpa(q, k, v, mask=padding_mask(keep))
    torch.testing.assert_close(out_masked, out_short, atol=1e-6, rtol=1e-5)


def test_unknown_backend_is_a_config_error():
    q, k, v = _qkv()
    with pytest.raises(ConfigError, match="backend"):
        scaled_dot_product_attention(q, k, v, backend="flash3")


def test_multi_head_attention_records_weights_and_matches_backends():
    torch.manual_seed(0)
    mha = MultiHeadAttention(16, 4).eval()
    x = torch.randn(2, 5, 16)
    fast = mha(x, causal=True)
    mha.record_weights = True
    slow = mha(x, causal=True)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)
    assert mha.last_weights.shape == (2, 4, 5, 5)


def test_sinusoidal_table_is_the_course_formula():
    table = sinusoidal_table(50, 6)
    pos, i = 7, 1  # features 2i = 2 and 2i+1 = 3
    angle = pos / 10000 ** (2 * i / 6)
    assert table[pos, 2].item() == pytest.approx(math.sin(angle), abs=1e-6)
    assert table[pos, 3].item() == pytest.approx(math.cos(angle), abs=1e-6)
    assert table[0].tolist() == [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]


def test_rotary_scores_depend_only_on_relative_position():
    rope = RotaryEmbedding(8, 64)
    g = torch.Generator().manual_seed(1)
    q, k = torch.randn(1, 1, 1, 8, generator=g), torch.randn(1, 1, 1, 8, generator=g)

    def score(i, j):
        return (rope(q, torch.tensor([i])) * rope(k, torch.tensor([j]))).sum().item()

    assert score(3, 1) == pytest.approx(score(12, 10), abs=1e-5)
    assert score(0, 0) == pytest.approx((q * k).sum().item(), abs=1e-6)
    assert torch.allclose(rope(q, torch.tensor([5])).norm(), q.norm())  # a rotation


def test_relative_position_buckets():
    rel = torch.arange(-5, 6)
    uni = relative_position_bucket(rel, bidirectional=False, n_buckets=32, max_distance=128)
    assert uni.tolist() == [5, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0]  # the future all shares bucket 0
    bi = relative_position_bucket(rel, bidirectional=True, n_buckets=32, max_distance=128)
    assert bi.tolist() == [5, 4, 3, 2, 1, 0, 17, 18, 19, 20, 21]
    far = relative_position_bucket(torch.tensor([-1000, -128, -16]), bidirectional=False)
    assert far.tolist() == [31, 31, 16]  # log-spaced after max_exact = 16, capped at the last
    bias = RelativePositionBias(4, bidirectional=True)(torch.arange(3), torch.arange(5))
    assert bias.shape == (1, 4, 3, 5)


def test_rmsnorm_and_swiglu():
    x = torch.tensor([[3.0, 4.0]])
    torch.testing.assert_close(RMSNorm(2, eps=0.0)(x), x / math.sqrt(12.5))
    ff = SwiGLU(4, 6)
    x = torch.randn(2, 3, 4)
    gate, up = ff.gate_up(x).chunk(2, dim=-1)
    torch.testing.assert_close(ff(x), ff.down(torch.nn.functional.silu(gate) * up))
    with pytest.raises(ConfigError, match="activation"):
        make_feed_forward("tanh", 4, 8)


def test_kv_cache_writes_in_place_and_grows():
    cache = KVCache(2, 1, 1, 2, capacity=2)
    buf = cache.k
    k1 = torch.ones(1, 1, 2, 2)
    keys, _ = cache.update(0, k1, k1)
    cache.advance(2)
    assert keys.shape == (1, 1, 2, 2) and cache.k is buf  # written into the preallocated buffer
    cache.reserve(1)
    assert cache.capacity == 4
    keys, _ = cache.update(0, 2 * torch.ones(1, 1, 1, 2), torch.zeros(1, 1, 1, 2))
    assert keys[0, 0, :, 0].tolist() == [1.0, 1.0, 2.0]
    fork = cache.clone()
    fork.k.zero_()
    assert cache.k[0, 0, 0, 0, 0] == 1.0
