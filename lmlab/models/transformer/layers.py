"""Transformer building blocks: norms, feed-forward networks and the residual block.

- LayerNorm (Ba et al., 2016) and RMSNorm (Zhang & Sennrich, 2019: x / rms(x) * g, no centring,
  no bias; used by T5 and Llama).
- Feed-forward: Linear -> GELU/ReLU -> Linear (Vaswani et al.; GPT-2 uses the tanh approximation of
  GELU), and SwiGLU (Shazeer, 2020: down(silu(gate(x)) * up(x)), gate and up fused in one matmul).
- `Block` receives its parts (attention, feed-forward, norms) instead of building them, after
  torchtune's component builders, so written-out, fused or LoRA variants swap in without
  subclassing. It runs them pre-norm (GPT-2, T5: x + f(norm(x))) or post-norm (original Transformer,
  BERT: norm(x + f(x))).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from lmlab.errors import ConfigError, check_choice, check_range

NormKind = Literal["layernorm", "rmsnorm"]
Activation = Literal["gelu", "gelu_tanh", "relu", "swiglu"]
ACTIVATIONS = ("gelu", "gelu_tanh", "relu", "swiglu")


def check_sizes(cfg, sizes: tuple[str, ...]) -> None:
    """Validate the shared fields of a Transformer config (sizes >= 1, dropout, norm, activation,
    attention backend, d_model divisible by n_heads), naming the bad one."""
    for name in sizes:
        check_range(name, getattr(cfg, name), 1)
    check_range("dropout", cfg.dropout, 0, 1, high_open=True)
    check_choice("norm", cfg.norm, ("layernorm", "rmsnorm"))
    check_choice("activation", cfg.activation, ACTIVATIONS)
    check_choice("attention", cfg.attention, ("math", "sdpa"))
    if cfg.d_model % cfg.n_heads:
        raise ConfigError(f"d_model={cfg.d_model} is not divisible by n_heads={cfg.n_heads}",
                          fix="choose n_heads dividing d_model (e.g. d_model=768, n_heads=12)")


class RMSNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * weight, over the last dimension (computed in float32)."""

    def __init__(self, d_model: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * self.weight


def make_norm(kind: NormKind, d_model: int, eps: float = 1e-5) -> nn.Module:
    """A LayerNorm or RMSNorm of width d_model."""
    check_choice("norm", kind, ("layernorm", "rmsnorm"))
    return nn.LayerNorm(d_model, eps=eps) if kind == "layernorm" else RMSNorm(d_model, eps)


def activate(h: torch.Tensor, activation: str) -> torch.Tensor:
    """The non-linearity of a feed-forward layer: "relu", "gelu", "gelu_tanh" element-wise, or
    "swiglu" on h = [gate; up] (..., 2 d_ff) -> silu(gate) * up (..., d_ff)."""
    if activation == "relu":
        return F.relu(h)
    if activation == "swiglu":
        gate, up = h.chunk(2, dim=-1)
        return F.silu(gate) * up
    return F.gelu(h, approximate="tanh" if activation == "gelu_tanh" else "none")


class FeedForward(nn.Module):
    """Position-wise MLP: down(act(up(x))), (B, T, D) -> (B, T, D)."""

    def __init__(self, d_model: int, d_ff: int, activation: Activation = "gelu", *,
                 bias: bool = True) -> None:
        super().__init__()
        check_choice("activation", activation, ("gelu", "gelu_tanh", "relu"))
        self.up = nn.Linear(d_model, d_ff, bias=bias)
        self.down = nn.Linear(d_ff, d_model, bias=bias)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(activate(self.up(x), self.activation))


class SwiGLU(nn.Module):
    """Gated feed-forward: down(silu(gate(x)) * up(x)); gate and up share one (2 d_ff, D) matmul."""

    def __init__(self, d_model: int, d_ff: int, *, bias: bool = False) -> None:
        super().__init__()
        self.gate_up = nn.Linear(d_model, 2 * d_ff, bias=bias)
        self.down = nn.Linear(d_ff, d_model, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(activate(self.gate_up(x), "swiglu"))


def make_feed_forward(activation: Activation, d_model: int, d_ff: int, *, bias: bool = True) -> nn.Module:
    """The feed-forward network named by `activation` ("gelu", "gelu_tanh", "relu", "swiglu")."""
    check_choice("activation", activation, ACTIVATIONS)
    if activation == "swiglu":
        return SwiGLU(d_model, d_ff, bias=bias)
    return FeedForward(d_model, d_ff, activation, bias=bias)


class Block(nn.Module):
    """One Transformer layer from given parts: self-attention, optional cross-attention, MLP.

    Args:
        attn: self-attention module (`MultiHeadAttention`), called as attn(x, **attn_kwargs).
        ff: feed-forward module (B, T, D) -> (B, T, D).
        norm_attn, norm_ff: the norms around them.
        prenorm: True for x + f(norm(x)); False for norm(x + f(x)).
        cross, norm_cross: cross-attention over an encoder memory and its norm (decoders).
        dropout: residual dropout probability.
    """

    def __init__(self, attn: nn.Module, ff: nn.Module, norm_attn: nn.Module, norm_ff: nn.Module, *,
                 prenorm: bool = True, cross: nn.Module | None = None,
                 norm_cross: nn.Module | None = None, dropout: float = 0.0) -> None:
        super().__init__()
        self.attn, self.ff, self.norm_attn, self.norm_ff = attn, ff, norm_attn, norm_ff
        self.cross, self.norm_cross = cross, norm_cross
        self.prenorm = prenorm
        self.drop = nn.Dropout(dropout)
        self.has_dropout = dropout > 0

    def forward(self, x: torch.Tensor, memory_kv=None, cross_kwargs: dict | None = None,
                **attn_kwargs) -> torch.Tensor:
        """x (B, T, D) -> (B, T, D); attn_kwargs go to the self-attention (mask, causal, cache...)."""
        if self.prenorm and not (self.has_dropout and self.training) and self.cross is None:
            x = x + self.attn(self.norm_attn(x), **attn_kwargs)  # the inference fast path
            return x + self.ff(self.norm_ff(x))
        if self.prenorm:
            x = x + self.drop(self.attn(self.norm_attn(x), **attn_kwargs))
            if self.cross is not None:
                x = x + self.drop(self.cross(self.norm_cross(x), memory_kv=memory_kv,
                                             **(cross_kwargs or {})))
            return x + self.drop(self.ff(self.norm_ff(x)))
        x = self.norm_attn(x + self.drop(self.attn(x, **attn_kwargs)))
        if self.cross is not None:
            x = self.norm_cross(x + self.drop(self.cross(x, memory_kv=memory_kv, **(cross_kwargs or {}))))
        return self.norm_ff(x + self.drop(self.ff(x)))
