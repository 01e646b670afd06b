"""Supervised fine-tuning (SFT): next-token loss on the assistant's tokens only, on the one Trainer.

    data = read_sft_data("alpaca.json")
    model, history = sft(model, data.examples, TrainConfig(max_steps=500, lr=1e-3),
                         template="alpaca", lora=LoRAConfig(rank=8))

An instruction-tuned model is a pretrained LM trained further on conversations rendered through
its chat template (Ouyang et al. 2022; Wei et al. 2022, FLAN; Sanh et al. 2022, T0 is the same
recipe on prompted task data). The loss is the mean cross-entropy of the reply tokens given
everything before them ("completion-only"): the prompt, the system message and the user's turns
are read but never predicted, in every turn of a multi-turn conversation (`ChatFormat.encode`).

Batches (`SFTBatches`) hold `ids` (B, T), `labels` (B, T) bool (True: ids[:, t] is a reply token
to predict) and, when packed, `segments` (B, T) (0 = padding, k = k-th example of the row) and
`positions` (B, T). Packing puts several short examples in one window; the objective then gives
the model a block-diagonal causal mask and positions restarting at 0 for each example, so no
token attends to another example and each sees the positions it would alone: the packed loss
equals the unpacked one (a test keeps it so). Unpacked rows are right-padded, which a causal LM
never sees.

Examples longer than `max_len` (default: the model's context) follow `truncation`: "drop" (skip
and count them), "truncate" (keep the first `max_len` tokens, if a reply token is left), or
"error" (a one-line `DataError` naming the example).
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
import torch.nn.functional as F

from lmlab.align.data import SFTExample
from lmlab.align.format import ChatFormat, Encoded
from lmlab.errors import ConfigError, DataError, check_choice
from lmlab.train.objectives import IGNORE
from lmlab.train.trainer import History, TrainConfig, Trainer

log = logging.getLogger("lmlab")

TRUNCATION = ("drop", "truncate", "error")


@dataclass
class EncodeReport:
    """What `encode_examples` kept: counts, and the examples dropped or cut (by index)."""

    kept: int = 0
    too_long: list[int] = field(default_factory=list)   # dropped (truncation="drop")
    truncated: list[int] = field(default_factory=list)  # cut to max_len
    invalid: list[tuple[int, str]] = field(default_factory=list)  # the template rejected them

    def summary(self) -> str:
        parts = [f"{self.kept} examples encoded"]
        if self.too_long:
            parts.append(f"{len(self.too_long)} longer than the context dropped")
        if self.truncated:
            parts.append(f"{len(self.truncated)} truncated")
        if self.invalid:
            i, why = self.invalid[0]
            parts.append(f"{len(self.invalid)} rejected (first, example {i}: {why})")
        return ", ".join(parts)


def encode_examples(examples: Sequence[SFTExample], fmt: ChatFormat, *, max_len: int | None,
                    truncation: Literal["drop", "truncate", "error"] = "drop"
                    ) -> tuple[list[Encoded], EncodeReport]:
    """Encode every example with `fmt`; `max_len` counts tokens (the model reads max_len - 1).

    A conversation the template rejects (an unknown role, roles out of order) is skipped and
    reported, never a crash mid-training.
    """
    check_choice("truncation", truncation, TRUNCATION)
    report, out = EncodeReport(), []
    for i, example in enumerate(examples):
        where = f"example {i}" + (f" (line {example.line})" if example.line else "")
        try:
            enc = fmt.encode(example.messages)
        except DataError as exc:
            report.invalid.append((i, str(exc)))
            continue
        if max_len is not None and len(enc) > max_len:
            if truncation == "error":
                raise DataError(f"{where} has {len(enc)} tokens, more than max_len={max_len}",
                                fix="use --truncation drop|truncate or a longer --max-len")
            if truncation == "drop" or not any(enc.labels[1:max_len]):
                report.too_long.append(i)
                continue
            enc = Encoded(enc.ids[:max_len], enc.labels[:max_len])
            report.truncated.append(i)
        out.append(enc)
    report.kept = len(out)
    if report.too_long or report.truncated or report.invalid:
        log.warning("SFT data: %s", report.summary())
    if not out:
        raise DataError(f"no example left to train on ({report.summary()})",
                        fix="use longer --max-len, --truncation truncate, or check the data")
    return out, report


class SFTBatches:
    """Fixed batches of encoded examples for the Trainer (`len`, `[i]` -> dict of tensors).

    Args:
        encoded: examples from `encode_examples`.
        batch_size: rows per batch.
        pack: put several examples in each row of `window` tokens (first fit, in a seeded order).
        window: row length when packing (the longest example when None).
        pad_id: id put in the padding (never scored, never attended to by real tokens).
        seed: the order examples are grouped in.
    """

    def __init__(self, encoded: Sequence[Encoded], batch_size: int, *, pack: bool = False,
                 window: int | None = None, pad_id: int = 0, seed: int = 0) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size={batch_size} must be >= 1", fix="use 1 or more")
        order = list(range(len(encoded)))
        random.Random(seed).shuffle(order)
        self.pad_id, self.pack = pad_id, pack
        if pack:
            window = window or max(len(e) for e in encoded)
            longest = max(len(e) for e in encoded)
            if longest > window:
                raise ConfigError(f"an example has {longest} tokens, more than the window {window}",
                                  fix="encode with max_len <= window")
            rows: list[list[int]] = []
            room: list[int] = []
            for i in order:  # first fit: the first row with room for it, else a new row
                n = len(encoded[i])
                k = next((r for r, free in enumerate(room) if free >= n), None)
                if k is None:
                    rows.append([])
                    room.append(window)
                    k = len(rows) - 1
                rows[k].append(i)
                room[k] -= n
            self.rows = rows
        else:  # similar lengths together (less padding), batches in a seeded order
            by_len = sorted(order, key=lambda i: len(encoded[i]))
            self.rows = [[i] for i in by_len]
        self.encoded, self.window = encoded, window
        groups = [self.rows[k:k + batch_size] for k in range(0, len(self.rows), batch_size)]
        if not pack:
            random.Random(seed + 1).shuffle(groups)
        self.batches = [self._collate(g) for g in groups]

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return self.batches[i]

    @property
    def n_examples(self) -> int:
        return sum(len(r) for r in self.rows)

    def _collate(self, rows: list[list[int]]) -> dict[str, torch.Tensor]:
        width = self.window if self.pack else max(len(self.encoded[r[0]]) for r in rows)
        b = len(rows)
        ids = torch.full((b, width), self.pad_id, dtype=torch.long)
        labels = torch.zeros(b, width, dtype=torch.bool)
        segments = torch.zeros(b, width, dtype=torch.long)
        positions = torch.zeros(b, width, dtype=torch.long)
        for r, members in enumerate(rows):
            at = 0
            for k, i in enumerate(members, 1):
                e = self.encoded[i]
                n = len(e)
                ids[r, at:at + n] = torch.tensor(e.ids)
                labels[r, at:at + n] = torch.tensor(e.labels)
                segments[r, at:at + n] = k
                positions[r, at:at + n] = torch.arange(n)
                at += n
            positions[r, at:] = torch.arange(width - at)  # padding: its own segment 0
        batch = {"ids": ids, "labels": labels, "mask": segments > 0}
        if self.pack:
            batch.update(segments=segments, positions=positions)
        return batch


def completion_loss(model: torch.nn.Module, batch: dict[str, Any], *,
                    reduction: Literal["mean", "sum"] = "mean") -> tuple[torch.Tensor, int]:
    """Cross-entropy of the reply tokens (labels True) given their prefix.

    Args:
        model: a causal LM, `model(ids)` -> logits (B, T, V); packed batches also pass a
            (B, T, T) keep-mask and (B, T) positions (`GPT.forward`).
        batch: {"ids" (B, T), "labels" (B, T) bool, "segments"?, "positions"?} (`SFTBatches`).
        reduction: "mean" over the scored tokens, or "sum".
    Returns:
        (loss in nats, number of scored tokens).
    """
    ids, labels = batch["ids"], batch["labels"]
    inputs, targets, scored = ids[:, :-1], ids[:, 1:], labels[:, 1:]
    segments = batch.get("segments")
    if segments is not None:
        seg = segments[:, :-1]
        keep = seg[:, :, None] == seg[:, None, :]  # (B, T, T): same example only (causal added)
        logits = model(inputs, keep, batch["positions"][:, :-1])
        scored = scored & (segments[:, 1:] == seg)  # a target in the same example as its input
    else:
        logits = model(inputs)
    logits = logits[0] if isinstance(logits, tuple) else logits
    n = int(scored.sum())
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                           targets.masked_fill(~scored, IGNORE).reshape(-1),
                           ignore_index=IGNORE, reduction="sum")
    if reduction == "mean":
        loss = loss / max(n, 1)
    return loss, n


def completion_lm(model: torch.nn.Module, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
    """The SFT objective `(model, batch) -> (loss, metrics)`: `completion_loss`, mean per token."""
    loss, n = completion_loss(model, batch)
    value = float(loss.detach())
    return loss, {"loss": value, "ppl": math.exp(min(value, 50.0)), "n": n}


def sft(model: Any, examples: Sequence[SFTExample], train_config: TrainConfig | None = None, *,
        valid: Sequence[SFTExample] | None = None, template: str | None = None,
        lora: Any = None, batch_size: int = 16, pack: bool = False, max_len: int | None = None,
        truncation: Literal["drop", "truncate", "error"] = "drop",
        on_lora: Callable[[Any], None] | None = None, **train_options: Any) -> tuple[Any, History]:
    """Fine-tune `model` on conversations; returns (model in eval mode, the Trainer's History).

    Args:
        model: a causal LM with a tokenizer (GPT, Llama; RNNs without packing).
        examples: training conversations (`read_sft_data`, `world_examples`).
        train_config: a `TrainConfig`; keyword `train_options` replace its fields. A run with an
            `out_dir` writes checkpoints and resumes exactly (`resume_from="auto"`).
        valid: held-out conversations to evaluate (and keep the best weights by).
        template: the chat template (name or Jinja); default the model's own. It becomes
            `model.chat_template`, so `lmlab chat` and `sft_eval` render as training did.
        lora: a `LoRAConfig` to train adapters only (the model keeps them; `merge_lora` folds
            them in), or None for full fine-tuning.
        batch_size: rows per batch; pack: several examples per row (module docstring).
        max_len: longest example in tokens (default: the model's max_seq_len + 1, since the
            model reads all but the last token); truncation: "drop", "truncate" or "error".
        on_lora: called with the `LoRAInfo` (the trainable parameter count) once adapters are on.
    """
    from lmlab.align.lora import apply_lora
    from lmlab.models.transformer.gpt import GPT
    from lmlab.train.recipes import load_best

    train_config = (train_config or TrainConfig()).replace(**train_options)
    fmt = ChatFormat.for_model(model, template)
    context = getattr(model, "max_seq_len", None)
    max_len = max_len or (context + 1 if context else None)
    encoded, report = encode_examples(examples, fmt, max_len=max_len, truncation=truncation)
    pad = model.tokenizer.token_to_id("[PAD]")
    pad = pad if pad is not None else (model.eos_id or 0)
    if pack and not isinstance(model, GPT):
        raise ConfigError(f"a {type(model).__name__} cannot read packed examples",
                          fix="train without --pack")
    batches = SFTBatches(encoded, batch_size, pack=pack, window=max_len if pack else None,
                         pad_id=pad, seed=train_config.seed)
    valid_batches = None
    if valid:
        v_enc, _ = encode_examples(valid, fmt, max_len=max_len, truncation=truncation)
        valid_batches = SFTBatches(v_enc, 64, pad_id=pad, seed=train_config.seed)
    if lora is not None:
        info = apply_lora(model, lora)
        if on_lora is not None:
            on_lora(info)
    model.chat_template = fmt.template
    model.sft_report = report
    history = Trainer(model, completion_lm, batches, valid_batches, train_config).fit()
    load_best(model, train_config)
    return model.eval(), history
