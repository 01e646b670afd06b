"""One Trainer for every neural model: the task is an objective, the data an indexable dataset.

    trainer = Trainer(model, causal_lm, train_batches, eval_batches,
                      TrainConfig(max_steps=2000, lr=3e-3, warmup_steps=100, out_dir="runs/lstm"))
    history = trainer.fit()                       # or .fit(resume_from="runs/lstm/checkpoints/last")

The loop, read top to bottom (after nanoGPT's `train.py`): for each optimiser step, set the rate
from the schedule (a pure function of the step), run `grad_accum` micro-batches forward and
backward under autocast (bf16 on GPUs), clip the gradient norm, step AdamW (fused where the
platform has it; weight decay only on matrices), log, evaluate every `eval_every` steps, keep the
best checkpoint, stop early when evaluation stops improving.

Data are any sequence of batches (`len` and `[i]`, each a dict of tensors): a list, or the
`RandomWindows`/`PaddedBatches` of `lmlab.data.tokens`. Micro-batch k of the run is batch
`order_e[k % N]` of epoch e = k // N, where `order_e` is a permutation seeded by (seed, e). So the
data position is a function of the step alone, resuming is exact, and process r of W takes
micro-batches k = (step * grad_accum + m) * W + r (data parallel, `distributed.py`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch

from lmlab.config import Config
from lmlab.device import autocast, resolve_device, seed_everything
from lmlab.errors import DataError, LmlabError, check_choice, check_range
from lmlab.progress import progress_bar
from lmlab.train import distributed as D
from lmlab.train.checkpoint import capture_rng, load_checkpoint, save_checkpoint
from lmlab.train.logs import MetricsLog
from lmlab.train.objectives import Objective
from lmlab.train.schedule import SCHEDULES, lr_at

log = logging.getLogger("lmlab")


class TrainingDiverged(LmlabError, RuntimeError):
    """The loss became NaN or infinite."""


@dataclasses.dataclass
class TrainConfig(Config):
    """Everything about how to train (nothing about what): JSON-serialisable, saved in checkpoints.

    `max_steps` counts optimiser steps; when it is None the run lasts `epochs` passes over the data.
    `eval_every`/`save_every` = 0 means only at the end. `resume_from`: a checkpoint folder that
    `fit()` continues from ("auto": `out_dir/checkpoints/last` when it exists). `early_stopping` = evaluations without
    improvement before stopping (0 = never). `precision` "auto" = bf16 autocast on capable GPUs.
    """

    max_steps: int | None = None
    epochs: float = 1.0
    lr: float = 1e-3
    warmup_steps: int = 0
    schedule: Literal["cosine", "linear", "constant"] = "cosine"
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.999
    grad_clip: float = 1.0
    grad_accum: int = 1
    eval_every: int = 0
    eval_batches: int | None = None
    save_every: int = 0
    log_every: int = 10
    early_stopping: int = 0
    keep_best: bool = True
    shuffle: bool = True
    seed: int = 0
    device: str = "auto"
    precision: Literal["auto", "fp32"] = "auto"
    out_dir: str | None = None
    resume_from: str | None = None
    progress: bool = False
    tensorboard: bool = True

    def __post_init__(self) -> None:
        if self.max_steps is not None:
            check_range("max_steps", self.max_steps, 1)
        check_range("epochs", self.epochs, 0, low_open=True)
        check_range("lr", self.lr, 0, low_open=True)
        check_range("warmup_steps", self.warmup_steps, 0)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_range("weight_decay", self.weight_decay, 0)
        check_range("grad_clip", self.grad_clip, 0)
        check_range("grad_accum", self.grad_accum, 1)
        for name in ("eval_every", "save_every", "early_stopping"):
            check_range(name, getattr(self, name), 0)
        check_range("log_every", self.log_every, 1)
        check_choice("precision", self.precision, ("auto", "fp32"))


@dataclasses.dataclass
class History:
    """What `fit` returns: every logged record, and how the run ended."""

    records: list[dict[str, Any]]
    steps: int
    stop_reason: str
    best_eval_loss: float | None = None
    best_step: int | None = None

    def losses(self, split: str = "train") -> list[float]:
        """The logged losses of one split, in step order."""
        return [r["loss"] for r in self.records if r["split"] == split]


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch


def count_tokens(batch: dict[str, Any]) -> int:
    """Tokens in a batch for throughput: kept positions of every mask, else every *ids tensor."""
    masks = [v for k, v in batch.items() if k.endswith("mask") and isinstance(v, torch.Tensor)]
    if masks:
        return int(sum(int(m.sum()) for m in masks))
    return int(sum(v.numel() for k, v in batch.items() if k.endswith("ids") and isinstance(v, torch.Tensor)))


def build_optimizer(model: torch.nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (biases, norms' gains: none); fused if available."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    kwargs = {"lr": config.lr, "betas": (config.beta1, config.beta2)}
    try:
        return torch.optim.AdamW(groups, fused=device.type in ("cuda", "cpu"), **kwargs)
    except (RuntimeError, ValueError):
        return torch.optim.AdamW(groups, **kwargs)


class Trainer:
    """Train `model` on `objective` over `train_data` (see the module docstring)."""

    def __init__(self, model: torch.nn.Module, objective: Objective, train_data: Sequence[Any],
                 eval_data: Sequence[Any] | None = None, config: TrainConfig | None = None) -> None:
        self.config = config or TrainConfig()
        self.objective = objective
        if not hasattr(train_data, "__len__") or not hasattr(train_data, "__getitem__") or not len(train_data):
            raise DataError("train_data must be a non-empty sequence of batches (len and [i])",
                            fix="pass a list of batch dicts or lmlab.data.tokens batches")
        self.train_data, self.eval_data = train_data, eval_data
        self.dist = D.setup(resolve_device(self.config.device).type)
        self.device = D.local_device(self.dist, resolve_device(self.config.device))
        seed_everything(self.config.seed)
        self.model = model.to(self.device)
        self.wrapped = D.wrap(self.model, self.dist, self.device)
        self.optimizer = build_optimizer(self.model, self.config, self.device)
        per_step = self.config.grad_accum * self.dist.world_size
        self.total_steps = self.config.max_steps or max(
            1, math.ceil(self.config.epochs * len(train_data) / per_step))
        self.step = 0
        self.history: list[dict[str, Any]] = []
        self.best_eval_loss: float | None = None
        self.best_step: int | None = None
        self._bad_evals = 0
        self._orders: dict[int, torch.Tensor] = {}
        self._rng_at_step_start: tuple[Any, ...] | None = None

    # -- data position ---------------------------------------------------------------------------
    def _batch(self, k: int) -> Any:
        """Micro-batch number k of the run (epochs reshuffled with a generator seeded per epoch)."""
        n = len(self.train_data)
        epoch, i = divmod(k, n)
        if self.config.shuffle:
            if epoch not in self._orders:  # one epoch's order cached at a time
                g = torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
                self._orders = {epoch: torch.randperm(n, generator=g)}
            i = int(self._orders[epoch][i])
        return self.train_data[i]

    def _checkpoint_dir(self, name: str) -> Path | None:
        return Path(self.config.out_dir) / "checkpoints" / name if self.config.out_dir else None

    # -- checkpoints -----------------------------------------------------------------------------
    def save(self, name: str = "last") -> Path | None:
        """Write checkpoint `name` (main process only); returns its folder or None without out_dir."""
        path = self._checkpoint_dir(name)
        if path is None or not self.dist.is_main:
            return path
        n = len(self.train_data)
        k = self.step * self.config.grad_accum * self.dist.world_size
        state = {"step": self.step, "total_steps": self.total_steps,
                 "data_position": {"epoch": k // n, "batch_in_epoch": k % n, "micro_batches_done": k},
                 "best_eval_loss": self.best_eval_loss, "best_step": self.best_step,
                 "bad_evals": self._bad_evals, "history": self.history,
                 "world_size": self.dist.world_size, "train_config": self.config.to_dict()}
        # A Ctrl-C mid-step leaves the generators part-way through the step: save their state at
        # the step boundary, so the resumed run draws the same dropout masks as an uninterrupted one.
        save_checkpoint(path, self.model, self.optimizer, state, rng=self._rng_at_step_start)
        log.info("checkpoint written: %s (step %d)", path, self.step)
        return path

    def resume(self, path: str | Path) -> None:
        """Restore model, optimiser, RNG states, step, history and best metric from a checkpoint."""
        state = load_checkpoint(path, self.model, self.optimizer)
        if state.get("world_size", 1) != self.dist.world_size:
            log.warning("resuming a %s-process run with %s processes: the data order changes",
                        state.get("world_size"), self.dist.world_size)
        self.step = int(state["step"])
        self.history = list(state["history"])
        self.best_eval_loss, self.best_step = state["best_eval_loss"], state["best_step"]
        self._bad_evals = int(state["bad_evals"])

    # -- evaluation ------------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Objective metrics averaged over the evaluation batches, weighted by metrics["n"]."""
        if not self.eval_data:
            return {}
        self.model.eval()
        limit = len(self.eval_data) if self.config.eval_batches is None else min(
            self.config.eval_batches, len(self.eval_data))
        sums: dict[str, float] = {}
        total = 0.0
        for i in range(limit):
            with autocast(self.device) if self.config.precision == "auto" else contextlib.nullcontext():
                _, metrics = self.objective(self.model, _to_device(self.eval_data[i], self.device))
            w = float(metrics.get("n", 1))
            total += w
            for key, value in metrics.items():
                if key != "n":
                    sums[key] = sums.get(key, 0.0) + float(value) * w
        self.model.train()
        out = {k: v / total for k, v in sums.items()}
        if "ppl" in out and "loss" in out:
            out["ppl"] = math.exp(min(out["loss"], 50.0))  # the ppl of the mean loss, not a mean of ppls
        return out

    # -- the loop --------------------------------------------------------------------------------
    def _train_step(self) -> tuple[float, dict[str, float], int]:
        cfg = self.config
        self._rng_at_step_start = capture_rng()
        self.optimizer.zero_grad(set_to_none=True)
        lr = lr_at(self.step, base_lr=cfg.lr, warmup_steps=cfg.warmup_steps, total_steps=self.total_steps,
                   schedule=cfg.schedule, min_lr_ratio=cfg.min_lr_ratio)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        loss_sum, tokens, metrics = 0.0, 0, {}
        for m in range(cfg.grad_accum):
            k = (self.step * cfg.grad_accum + m) * self.dist.world_size + self.dist.rank
            batch = _to_device(self._batch(k), self.device)
            tokens += count_tokens(batch)
            # Only the last micro-batch synchronises gradients across processes.
            sync = m == cfg.grad_accum - 1 or not self.dist.enabled
            with (contextlib.nullcontext() if sync else self.wrapped.no_sync()), \
                    (autocast(self.device) if cfg.precision == "auto" else contextlib.nullcontext()):
                loss, metrics = self.objective(self.wrapped, batch)
            if not torch.isfinite(loss.detach()):
                loss_sum = float("nan")
                break
            (loss / cfg.grad_accum).backward()
            loss_sum += float(loss.detach())
        if D.any_across(not math.isfinite(loss_sum), self.dist):
            last = self._checkpoint_dir("last")
            kept = f"the last good checkpoint is {last}" if last and last.exists() else "no checkpoint was written"
            raise TrainingDiverged(f"the loss became NaN/inf at step {self.step + 1}; {kept}",
                                   fix="lower the learning rate, keep --grad-clip on, or check the data")
        if cfg.grad_clip > 0:
            metrics["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip))
        self.optimizer.step()
        self.step += 1
        self._rng_at_step_start = None  # between steps the current generator states are the right ones
        return D.mean_across(loss_sum / cfg.grad_accum, self.dist), {**metrics, "lr": lr}, tokens

    def fit(self, resume_from: str | Path | None = None) -> History:
        """Train until `total_steps` (or early stopping); Ctrl-C writes a checkpoint, then re-raises."""
        cfg = self.config
        resume_from = resume_from or cfg.resume_from
        if resume_from == "auto":
            last = self._checkpoint_dir("last")
            resume_from = last if last is not None and last.exists() else None
        if resume_from is not None:
            self.resume(resume_from)
        logs = MetricsLog(cfg.out_dir if self.dist.is_main else None, tensorboard=cfg.tensorboard)
        self.model.train()
        stop_reason = "max_steps"
        t0, tokens_window = time.perf_counter(), 0
        restore = _sigterm_as_interrupt()
        try:
            with progress_bar(self.total_steps, "training", unit="step",
                              enabled=cfg.progress and self.dist.is_main) as bar:
                bar.advance(self.step)
                while self.step < self.total_steps:
                    loss, metrics, tokens = self._train_step()
                    tokens_window += tokens * self.dist.world_size
                    bar.advance(1)
                    if self.step % cfg.log_every == 0 or self.step == self.total_steps or self.step == 1:
                        elapsed = max(time.perf_counter() - t0, 1e-9)
                        record = {"step": self.step, "split": "train", "loss": loss,
                                  "lr": metrics["lr"], "tokens_per_s": tokens_window / elapsed}
                        if "grad_norm" in metrics:
                            record["grad_norm"] = metrics["grad_norm"]
                        self.history.append(record)
                        logs.write(record)
                        bar.update(loss=loss, tok_s=f"{record['tokens_per_s']:,.0f}")
                        t0, tokens_window = time.perf_counter(), 0
                    due = (cfg.eval_every and self.step % cfg.eval_every == 0) or self.step == self.total_steps
                    if self.eval_data and due and self._after_eval(logs):
                        stop_reason = "early_stopping"
                        break
                    if cfg.save_every and self.step % cfg.save_every == 0:
                        self.save("last")
        except KeyboardInterrupt:
            self.save("last")
            logs.close(self.history)
            raise
        finally:
            restore()
        self.save("last")
        logs.close(self.history)
        return History(self.history, self.step, stop_reason, self.best_eval_loss, self.best_step)

    def _after_eval(self, logs: MetricsLog) -> bool:
        """Evaluate, log, keep the best checkpoint; True when early stopping says stop."""
        metrics = self.evaluate()
        record = {"step": self.step, "split": "eval", **metrics}
        self.history.append(record)
        logs.write(record)
        log.info("step %d eval %s", self.step, {k: round(v, 4) for k, v in metrics.items()})
        loss = metrics.get("loss")
        if loss is None:
            return False
        if self.best_eval_loss is None or loss < self.best_eval_loss:
            self.best_eval_loss, self.best_step, self._bad_evals = loss, self.step, 0
            if self.config.keep_best:
                self.save("best")
            return False
        self._bad_evals += 1
        return bool(self.config.early_stopping) and self._bad_evals >= self.config.early_stopping


def _sigterm_as_interrupt():
    """Treat SIGTERM (cluster pre-emption) like Ctrl-C so a checkpoint is written; returns undo."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:
        return lambda: None
    return lambda: signal.signal(signal.SIGTERM, previous)
