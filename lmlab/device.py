"""Device and dtype resolution, autocast and seeding: the one place that asks what hardware exists."""

from __future__ import annotations

import contextlib
import os
import random
from typing import Literal

import numpy as np

from lmlab.errors import ConfigError, check_choice

DeviceName = Literal["auto", "cpu", "cuda", "mps"]
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str = "auto"):
    """Turn "auto" | "cpu" | "cuda" | "cuda:N" | "mps" into a `torch.device`, checking it exists."""
    import torch

    base = name.split(":")[0]
    check_choice("device", base, DEVICE_CHOICES)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if base == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was requested but no CUDA GPU is available",
                          fix="use --device cpu or --device auto")
    if base == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("device 'mps' was requested but Apple MPS is not available",
                          fix="use --device cpu or --device auto")
    return torch.device(name)


def autocast_dtype(device) -> object | None:
    """bf16 on CUDA devices that support it, else None (full float32)."""
    import torch

    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def autocast(device):
    """An autocast context for `device` (bf16 on capable GPUs), or a no-op context on CPU."""
    import torch

    dtype = autocast_dtype(device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) for reproducible runs."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    torch.manual_seed(seed)
