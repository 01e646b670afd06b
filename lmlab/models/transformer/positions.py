"""Position information for Transformers: sinusoidal, learned absolute, rotary, relative bias.

- Sinusoidal (Vaswani et al., 2017, the course formula):
      PE(pos, 2i) = sin(pos / 10000^(2i / d)),   PE(pos, 2i + 1) = cos(pos / 10000^(2i / d))
- Learned absolute: one trained vector per position (GPT-2, BERT).
- Rotary, RoPE (Su et al., 2021, "RoFormer"): rotate each pair of query/key features by an angle
  pos * theta_i, so q . k depends on the positions only through their difference. The pairs are
  the two halves of the head (the GPT-NeoX / Llama layout). theta_i = base^(-2i / Dh); Llama 2
  uses base 10000, Llama 3 500000, Qwen2 1000000, and Llama 3.1+ rescales the low frequencies
  for longer contexts (`rope_frequencies`, "llama3" scaling).
- Relative position bias (Raffel et al., 2020, T5): a learned scalar per head and log-spaced bucket
  of the distance key - query, added to the attention scores.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal_table(max_len: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """The course's sinusoidal table (max_len, d_model): even features sin, odd features cos."""
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]  # (L, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # (d/2,)
    angle = pos / base ** (two_i / d_model)  # (L, d/2)
    table = torch.zeros(max_len, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return table.float()


class SinusoidalPositions(nn.Module):
    """Fixed sinusoidal position vectors (not trained, not saved): positions (T,) -> (T, D)."""

    def __init__(self, max_len: int, d_model: int) -> None:
        super().__init__()
        self.register_buffer("table", sinusoidal_table(max_len, d_model), persistent=False)

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        return self.table[positions]


class LearnedPositions(nn.Embedding):
    """One trained vector per absolute position (GPT-2 `wpe`, BERT `position_embeddings`)."""


ROPE_SCALINGS = ("llama3",)


def rope_frequencies(d_head: int, base: float = 10000.0, scaling: dict | None = None) -> torch.Tensor:
    """The rotation frequencies theta_i = base^(-2i / Dh), (Dh/2,) float64, optionally rescaled.

    `scaling={"rope_type": "llama3", "factor": 32, "low_freq_factor": 1, "high_freq_factor": 4,
    "original_max_position_embeddings": 8192}` (Llama 3.1+): wavelengths longer than the original
    context / low_freq_factor are slowed down by `factor`, those shorter than original context /
    high_freq_factor are kept, and the band between is interpolated smoothly.
    """
    inv_freq = 1.0 / base ** (torch.arange(0, d_head, 2, dtype=torch.float64) / d_head)
    if not scaling:
        return inv_freq
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind not in ROPE_SCALINGS:
        from lmlab.errors import ConfigError

        raise ConfigError(f"rope scaling {kind!r} is not supported",
                          fix=f"use one of {', '.join(ROPE_SCALINGS)} or no scaling")
    factor, low, high = (float(scaling[k]) for k in ("factor", "low_freq_factor", "high_freq_factor"))
    original = float(scaling["original_max_position_embeddings"])
    wavelength = 2 * math.pi / inv_freq
    smooth = ((original / wavelength - low) / (high - low)).clamp(0.0, 1.0)  # 0: slow, 1: keep
    scaled = (1 - smooth) * inv_freq / factor + smooth * inv_freq
    return torch.where(wavelength < original / high, inv_freq,
                       torch.where(wavelength > original / low, inv_freq / factor, scaled))


class RotaryEmbedding(nn.Module):
    """RoPE on (B, H, T, Dh) queries or keys at positions (T,); the cos/sin tables are cached."""

    def __init__(self, d_head: int, max_len: int, base: float = 10000.0,
                 scaling: dict | None = None) -> None:
        super().__init__()
        inv_freq = rope_frequencies(d_head, base, scaling)
        angle = torch.arange(max_len, dtype=torch.float64)[:, None] * inv_freq  # (L, Dh/2)
        angle = torch.cat([angle, angle], dim=-1)  # (L, Dh)
        self.register_buffer("cos", angle.cos().float(), persistent=False)
        self.register_buffer("sin", angle.sin().float(), persistent=False)

    def forward(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * self.cos[positions].to(x.dtype) + rotated * self.sin[positions].to(x.dtype)


def relative_position_bucket(relative: torch.Tensor, *, bidirectional: bool, n_buckets: int = 32,
                             max_distance: int = 128) -> torch.Tensor:
    """T5's bucketing of key - query distances: exact for small ones, log-spaced up to max_distance.

    Args:
        relative: int tensor of (key position - query position).
        bidirectional: encoders give half the buckets to each sign; decoders see only the past.
    Returns:
        int64 tensor of bucket ids in [0, n_buckets).
    """
    bucket = torch.zeros_like(relative)
    if bidirectional:
        n_buckets //= 2
        bucket = bucket + (relative > 0).long() * n_buckets
        distance = relative.abs()
    else:
        distance = (-relative).clamp(min=0)
    max_exact = n_buckets // 2
    is_small = distance < max_exact
    log_ratio = torch.log(distance.float().clamp(min=1) / max_exact) / math.log(max_distance / max_exact)
    large = max_exact + (log_ratio * (n_buckets - max_exact)).long()
    large = large.clamp(max=n_buckets - 1)
    return bucket + torch.where(is_small, distance, large)


class RelativePositionBias(nn.Module):
    """Learned bias (1, H, Tq, Tk) from bucketed relative distances (T5)."""

    def __init__(self, n_heads: int, *, bidirectional: bool, n_buckets: int = 32,
                 max_distance: int = 128) -> None:
        super().__init__()
        self.bidirectional, self.n_buckets, self.max_distance = bidirectional, n_buckets, max_distance
        self.embedding = nn.Embedding(n_buckets, n_heads)

    def forward(self, q_positions: torch.Tensor, k_positions: torch.Tensor) -> torch.Tensor:
        relative = k_positions[None, :] - q_positions[:, None]  # (Tq, Tk)
        buckets = relative_position_bucket(relative, bidirectional=self.bidirectional,
                                           n_buckets=self.n_buckets, max_distance=self.max_distance)
        return self.embedding(buckets).permute(2, 0, 1).unsqueeze(0)  # (1, H, Tq, Tk)
