"""Learning-rate schedules as pure functions of the step: linear warm-up, then cosine or linear decay.

    lr_at(step, base_lr=3e-4, warmup_steps=100, total_steps=1000, schedule="cosine")

Warm-up ramps linearly from base_lr/warmup_steps to base_lr (Goyal et al. 2017, "Accurate, Large
Minibatch SGD"); cosine decay follows SGDR (Loshchilov & Hutter 2017) without restarts, down to
`min_lr_ratio * base_lr` at `total_steps`. A pure function (nanoGPT's `get_lr`) needs no state
in a checkpoint: the step alone reproduces the rate.
"""

from __future__ import annotations

import math
from typing import Literal

from lmlab.errors import check_choice, check_range

Schedule = Literal["cosine", "linear", "constant"]
SCHEDULES = ("cosine", "linear", "constant")


def lr_at(step: int, *, base_lr: float, warmup_steps: int, total_steps: int,
          schedule: Schedule = "cosine", min_lr_ratio: float = 0.1) -> float:
    """Learning rate for optimiser step `step` (0-based).

    Args:
        step: optimiser steps already taken (0 for the first update).
        base_lr: peak rate, reached at the end of warm-up.
        warmup_steps: steps of linear warm-up (0 = none).
        total_steps: steps of the whole run; decay ends there and the rate stays at the minimum.
        schedule: "cosine", "linear" or "constant" after warm-up.
        min_lr_ratio: final rate as a fraction of `base_lr`.

    >>> lr_at(0, base_lr=1.0, warmup_steps=4, total_steps=10)
    0.25
    >>> lr_at(10, base_lr=1.0, warmup_steps=0, total_steps=10, schedule="linear", min_lr_ratio=0.0)
    0.0
    """
    check_choice("schedule", schedule, SCHEDULES)
    check_range("min_lr_ratio", min_lr_ratio, 0, 1)
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if schedule == "constant":
        return base_lr
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    min_lr = base_lr * min_lr_ratio
    if schedule == "linear":
        return base_lr - (base_lr - min_lr) * progress
    return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + math.cos(math.pi * progress))
