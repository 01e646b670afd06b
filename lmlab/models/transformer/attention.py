"""Scaled dot-product attention, written out and through torch's fused kernel; multi-head attention.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + bias, masked) V      (Vaswani et al., 2017)

Two backends compute the same function and are chosen by name (after the attention registry of
transformers' `modeling_gpt2.py`):

- ``"math"``: the formula written out, the one to read; it can return the attention weights
  (B, H, Tq, Tk) for visualisation.
- ``"sdpa"``: `torch.nn.functional.scaled_dot_product_attention`, which dispatches to the flash /
  memory-efficient kernels when the device has them. The fast default for the models.

Masks follow the project convention: bool, True = keep (attend). `causal=True` aligns the causal
triangle to the bottom right, so a query block of Tq new tokens after Tk - Tq cached ones sees
everything up to its own position (the KV-cache case); a sliding `window` (Mistral) also hides
keys `window` or more positions back. A test keeps both backends equal.

Grouped-query attention (Ainslie et al., 2023; Llama 2/3, Mistral, Qwen2) gives the keys and values
fewer heads than the queries: each of the Hkv key/value heads serves H / Hkv query heads, and the
KV cache holds only Hkv heads. H = Hkv is multi-head attention, Hkv = 1 multi-query attention.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from lmlab.errors import ConfigError, check_choice

AttentionBackend = Literal["math", "sdpa"]


def padding_mask(lengths_or_mask: torch.Tensor) -> torch.Tensor:
    """(B, Tk) keep-mask (bool, True = real token) -> (B, 1, 1, Tk) mask broadcastable over heads."""
    return lengths_or_mask.bool()[:, None, None, :]


def causal_mask(t_q: int, t_k: int, device: torch.device | None = None) -> torch.Tensor:
    """(Tq, Tk) bool keep-mask, bottom-right aligned: query i sees keys j <= i + (Tk - Tq)."""
    offset = t_k - t_q
    return torch.ones(t_q, t_k, dtype=torch.bool, device=device).tril(diagonal=offset)


def sliding_mask(t_q: int, t_k: int, window: int, device: torch.device | None = None) -> torch.Tensor:
    """(Tq, Tk) bool keep-mask, causal and bottom-right aligned, seeing at most `window` keys:
    query i (at absolute position i + Tk - Tq) sees keys j with 0 <= position - j < window."""
    offset = t_k - t_q
    ones = torch.ones(t_q, t_k, dtype=torch.bool, device=device)
    return ones.tril(diagonal=offset) & ~ones.tril(diagonal=offset - window)


def _combine(mask: torch.Tensor | None, causal: bool, t_q: int, t_k: int,
             device: torch.device, window: int | None = None) -> torch.Tensor | None:
    if not causal:
        return mask
    tri = causal_mask(t_q, t_k, device) if window is None else sliding_mask(t_q, t_k, window, device)
    return tri if mask is None else mask & tri


def repeat_kv(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Grouped-query keys or values (B, Hkv, T, Dh) -> (B, H, T, Dh), each head repeated H / Hkv
    times (query head h reads key/value head h // (H / Hkv))."""
    b, h_kv, t, d = x.shape
    if h_kv == n_heads:
        return x
    return x[:, :, None].expand(b, h_kv, n_heads // h_kv, t, d).reshape(b, n_heads, t, d)


def attention_math(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *,
                   mask: torch.Tensor | None = None, causal: bool = False,
                   bias: torch.Tensor | None = None, dropout_p: float = 0.0,
                   scale: float | None = None, window: int | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention written out.

    Args:
        q: (B, H, Tq, Dh); k, v: (B, H, Tk, Dh), or (B, Hkv, Tk, Dh) with Hkv dividing H
            (grouped-query attention: `repeat_kv`).
        mask: bool keep-mask broadcastable to (B, H, Tq, Tk), or None.
        causal: also hide future keys (bottom-right aligned).
        window: with causal, also hide keys `window` or more positions back (sliding window).
        bias: additive float scores broadcastable to (B, H, Tq, Tk) (e.g. T5 relative positions).
        dropout_p: dropout on the attention weights (pass 0 at evaluation).
        scale: multiplier of Q K^T; 1/sqrt(Dh) when None.
    Returns:
        (out (B, H, Tq, Dh), weights (B, H, Tq, Tk)); fully masked rows give zero weights.
    """
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    k, v = repeat_kv(k, q.shape[1]), repeat_kv(v, q.shape[1])
    scores = (q @ k.transpose(-2, -1)) * scale  # (B, H, Tq, Tk)
    if bias is not None:
        scores = scores + bias
    keep = _combine(mask, causal, q.shape[-2], k.shape[-2], q.device, window)
    if keep is not None:
        scores = scores.masked_fill(~keep, float("-inf"))
    weights = torch.softmax(scores.float(), dim=-1).to(q.dtype)
    weights = torch.nan_to_num(weights, nan=0.0)  # a row with every key masked attends to nothing
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p)
    return weights @ v, weights  # (B, H, Tq, Dh), (B, H, Tq, Tk)


def attention_sdpa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *,
                   mask: torch.Tensor | None = None, causal: bool = False,
                   bias: torch.Tensor | None = None, dropout_p: float = 0.0,
                   scale: float | None = None, window: int | None = None) -> tuple[torch.Tensor, None]:
    """The same function through `F.scaled_dot_product_attention`; weights are not materialised."""
    t_q, t_k = q.shape[-2], k.shape[-2]
    if window is not None and t_k <= window:
        window = None  # every key is inside the window
    if window is not None and causal and t_q == 1 and mask is None and bias is None:
        k, v, window = k[:, :, -window:], v[:, :, -window:], None  # one query: the last keys
    k, v = repeat_kv(k, q.shape[1]), repeat_kv(v, q.shape[1])
    if bias is None and mask is None and window is None and (not causal or t_q == t_k or t_q == 1):
        # Fast paths: torch's is_causal is top-left aligned, equal to ours when Tq == Tk, and a
        # single query after the cache sees every key.
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p,
                                              is_causal=causal and t_q > 1, scale=scale), None
    keep = _combine(mask, causal, t_q, t_k, q.device, window)
    attn_mask: torch.Tensor | None = keep
    if bias is not None:
        attn_mask = bias.to(q.dtype) if keep is None else bias.to(q.dtype).masked_fill(~keep, float("-inf"))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p,
                                          scale=scale), None


ATTENTION_BACKENDS: dict[str, Callable[..., tuple[torch.Tensor, torch.Tensor | None]]] = {
    "math": attention_math,
    "sdpa": attention_sdpa,
}


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *,
                                 backend: AttentionBackend = "math", **kwargs
                                 ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Dispatch to a backend by name ("math" or "sdpa"); see `attention_math` for arguments."""
    check_choice("attention backend", backend, ATTENTION_BACKENDS)
    return ATTENTION_BACKENDS[backend](q, k, v, **kwargs)


class MultiHeadAttention(nn.Module):
    """Multi-head (self- or cross-) attention with a fused projection and a named backend.

    Self-attention projects x once to [q; k; v] (one ((H + 2 Hkv) Dh, D) matmul); cross-attention
    projects the queries from x and [k; v] from the encoder memory. `n_kv_heads` < `n_heads` is
    grouped-query attention; `qkv_bias` puts biases on the q, k, v projections only (Qwen2) when
    it differs from `bias`; `window` is a sliding window over the keys (Mistral). With
    `record_weights = True` the "math" backend runs and the last weights (B, H, Tq, Tk) are kept
    in `self.last_weights`.
    """

    def __init__(self, d_model: int, n_heads: int, *, bias: bool = True, dropout: float = 0.0,
                 cross: bool = False, backend: AttentionBackend = "sdpa",
                 scale: float | None = None, n_kv_heads: int | None = None,
                 qkv_bias: bool | None = None, window: int | None = None) -> None:
        super().__init__()
        check_choice("attention backend", backend, ATTENTION_BACKENDS)
        self.n_heads, self.d_head, self.cross = n_heads, d_model // n_heads, cross
        self.n_kv_heads = n_kv_heads or n_heads
        if n_heads % self.n_kv_heads:
            raise ConfigError(f"n_heads={n_heads} is not a multiple of n_kv_heads={self.n_kv_heads}",
                              fix="choose n_kv_heads dividing n_heads (e.g. 32 heads, 8 KV heads)")
        in_bias = bias if qkv_bias is None else qkv_bias
        d_kv = self.n_kv_heads * self.d_head
        if cross:
            self.q = nn.Linear(d_model, d_model, bias=in_bias)
            self.kv = nn.Linear(d_model, 2 * d_kv, bias=in_bias)
        else:
            self.qkv = nn.Linear(d_model, d_model + 2 * d_kv, bias=in_bias)
        self.out = nn.Linear(d_model, d_model, bias=bias)
        self.window = window
        self.dropout = dropout
        self.backend: AttentionBackend = backend
        self.scale = scale
        self.record_weights = False
        self.last_weights: torch.Tensor | None = None

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, -1, self.d_head).transpose(1, 2)  # (B, H, T, Dh)

    def project_kv(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-attention keys and values of the encoder memory (B, S, D) -> 2 x (B, H, S, Dh)."""
        k, v = self.kv(memory).split(self.n_kv_heads * self.d_head, dim=-1)
        return self._heads(k), self._heads(v)

    def forward(self, x: torch.Tensor, *, mask: torch.Tensor | None = None, causal: bool = False,
                bias: torch.Tensor | None = None, rotary=None, positions: torch.Tensor | None = None,
                cache=None, layer: int = 0,
                memory_kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """Attend from x (B, T, D); returns (B, T, D).

        Args:
            mask: bool keep-mask broadcastable to (B, H, T, Tk).
            causal: hide future positions.
            bias: additive scores (B or 1, H, T, Tk).
            rotary: a `RotaryEmbedding` applied to q and k at `positions` (T,).
            cache: a `KVCache`; this layer's new k, v are written at its current length and the
                whole cached prefix is attended to.
            memory_kv: precomputed cross-attention keys and values (see `project_kv`).
        """
        b, t, d = x.shape
        if self.cross:
            q = self._heads(self.q(x))
            k, v = memory_kv  # type: ignore[misc]
        else:
            d_kv = self.n_kv_heads * self.d_head
            q, k, v = self.qkv(x).split((d, d_kv, d_kv), dim=-1)
            q, k, v = self._heads(q), self._heads(k), self._heads(v)  # (B, H or Hkv, T, Dh)
            if rotary is not None:
                q, k = rotary(q, positions), rotary(k, positions)
            if cache is not None:
                k, v = cache.update(layer, k, v)  # (B, H, Tk, Dh): the cached prefix + these T
        backend = "math" if self.record_weights else self.backend
        y, weights = ATTENTION_BACKENDS[backend](
            q, k, v, mask=mask, causal=causal, bias=bias, scale=self.scale,
            dropout_p=self.dropout if self.training else 0.0, window=self.window)
        if self.record_weights:
            self.last_weights = weights.detach()
        return self.out(y.transpose(1, 2).reshape(b, t, d))  # (B, T, D)
