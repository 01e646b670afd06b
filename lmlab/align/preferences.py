"""Preference pairs (prompt, chosen, rejected): one reader, every row checked by line number.

    data = read_preferences("pairs.jsonl")        # JSON list, JSON Lines, or .jsonl.gz
    data.pairs[0].prompt     # [{"role": "user", "content": ...}] (the conversation to answer)
    data.pairs[0].chosen, data.pairs[0].rejected   # the two replies (text)
    data.report.bad          # [(line, reason), ...]: rows skipped

Row formats (guessed per row):

- text: `{"prompt": str, "chosen": str, "rejected": str}` (the world's pairs, TRL's standard form);
- instruction: `{"instruction", "input"?, "chosen", "rejected"}` (rasbt's preference data): the
  prompt is the Alpaca user turn (`alpaca_messages`);
- messages: `{"prompt": [messages], "chosen": str | [messages], "rejected": ...}` (TRL's
  conversational form; a list reply is its last assistant turn), or `{"messages": [...],
  "chosen", "rejected"}` with the conversation before the replies;
- dialogue: `{"chosen": "\\n\\nHuman: ...\\n\\nAssistant: ...", "rejected": ...}` (Anthropic HH):
  two transcripts sharing every turn but the last assistant one.

A row is bad when a field is missing or not text, a reply is empty, chosen equals rejected, or the
conversation is invalid (`lmlab.chat.validate_messages`). The world's pairs come from
`world_preferences`, each rejected reply with its named flaw.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lmlab.align.data import DataReport, alpaca_messages, numbered_rows
from lmlab.chat import validate_messages
from lmlab.errors import ConfigError, DataError, check_choice, check_range

log = logging.getLogger("lmlab")


@dataclass
class PreferencePair:
    """A conversation to answer (`prompt`, messages ending with a user turn) and two replies."""

    prompt: list[dict[str, Any]]
    chosen: str
    rejected: str
    task: str | None = None
    flaw: str | None = None
    line: int | None = None

    def messages(self, which: Literal["chosen", "rejected"]) -> list[dict[str, Any]]:
        """The prompt followed by the chosen or rejected reply as an assistant turn."""
        return [*self.prompt, {"role": "assistant", "content": getattr(self, which)}]


@dataclass
class PreferenceData:
    """Pairs read by `read_preferences`, with the `DataReport` (kept, bad rows by line)."""

    pairs: list[PreferencePair]
    report: DataReport = field(default_factory=DataReport)


def _text(row: Mapping[str, Any], key: str) -> str:
    if key not in row or row[key] is None:
        raise DataError(f"the row has no {key!r}",
                        fix='write rows as {"prompt": ..., "chosen": ..., "rejected": ...}')
    value = row[key]
    if isinstance(value, list):  # conversational reply: its last assistant turn
        turns = validate_messages(value)
        replies = [m for m in turns if m["role"] == "assistant"]
        if not replies:
            raise DataError(f"{key!r} has no assistant turn", fix="end it with the assistant reply")
        value = replies[-1]["content"]
    if not isinstance(value, str):
        raise DataError(f"{key!r} is a {type(value).__name__}, not a string", fix="use text")
    if not value.strip():
        raise DataError(f"{key!r} is empty", fix="give both replies some text")
    return value


_TURN = re.compile(r"\n\n(Human|Assistant): ")


def _dialogue(text: str) -> list[dict[str, Any]]:
    """An HH transcript "\\n\\nHuman: ...\\n\\nAssistant: ..." as messages."""
    parts = _TURN.split(text)
    if parts[0].strip() or len(parts) < 3:
        raise DataError("the transcript does not start with '\\n\\nHuman: '",
                        fix="write HH dialogues as \\n\\nHuman: ...\\n\\nAssistant: ...")
    roles = {"Human": "user", "Assistant": "assistant"}
    return [{"role": roles[who], "content": said.strip()} for who, said in zip(parts[1::2], parts[2::2],
                                                                                strict=True)]


def _from_dialogues(row: Mapping[str, Any]) -> PreferencePair:
    chosen, rejected = _dialogue(_text(row, "chosen")), _dialogue(_text(row, "rejected"))
    if chosen[-1]["role"] != "assistant" or rejected[-1]["role"] != "assistant":
        raise DataError("a transcript does not end with an Assistant turn",
                        fix="end both dialogues with the reply being compared")
    if chosen[:-1] != rejected[:-1]:
        raise DataError("the chosen and rejected transcripts differ before their last reply",
                        fix="compare two replies to one conversation")
    return PreferencePair(validate_messages(chosen[:-1]), chosen[-1]["content"], rejected[-1]["content"])


def row_to_pair(row: Any) -> PreferencePair:
    """One validated pair from a row in any of the module's formats.

    Raises:
        DataError: the row is bad (missing or empty fields, chosen equals rejected, ...).
    """
    if not isinstance(row, Mapping):
        raise DataError(f"the row is a {type(row).__name__}, not an object",
                        fix="write one JSON object per row")
    chosen_text = row.get("chosen")
    if isinstance(chosen_text, str) and chosen_text.startswith("\n\nHuman:") and "prompt" not in row:
        pair = _from_dialogues(row)
    else:
        pair = PreferencePair(_prompt(row), _text(row, "chosen"), _text(row, "rejected"))
    if not pair.prompt or pair.prompt[-1]["role"] != "user":
        raise DataError("the prompt does not end with a user turn", fix="end it with the question")
    if pair.chosen.strip() == pair.rejected.strip():
        raise DataError("chosen equals rejected", fix="drop the pair: it states no preference")
    task, flaw = row.get("task"), row.get("flaw")
    pair.task, pair.flaw = (None if task is None else str(task)), (None if flaw is None else str(flaw))
    return pair


def _prompt(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    if "instruction" in row:
        extra = row.get("input") or ""
        if not isinstance(extra, str):
            raise DataError(f"'input' is a {type(extra).__name__}, not a string", fix="use text")
        return alpaca_messages(_text(row, "instruction"), extra)
    if "prompt" in row and isinstance(row["prompt"], str):
        return [{"role": "user", "content": _text(row, "prompt")}]
    if "prompt" in row or "messages" in row:
        prompt = row.get("prompt", row.get("messages"))
        if not isinstance(prompt, list) or not prompt:
            raise DataError("the prompt is not a non-empty list of messages",
                            fix='write "prompt": [{"role": "user", "content": ...}]')
        return validate_messages(prompt)
    raise DataError("the row has no 'prompt' (nor 'instruction', 'messages', HH dialogues)",
                    fix='write rows as {"prompt": ..., "chosen": ..., "rejected": ...}')


def _gz_rows(path: Path) -> Iterator[tuple[int, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as exc:
                    yield n, DataError(f"invalid JSON ({exc.msg})")


def read_preferences(path: str | os.PathLike[str], *, errors: Literal["report", "strict"] = "report",
                     limit: int | None = None) -> PreferenceData:
    """Read and validate preference pairs (module docstring).

    Args:
        path: a JSON list, JSON Lines or gzipped JSON Lines file.
        errors: "report" skips bad rows into `report.bad` (line, reason); "strict" raises on the first.
        limit: stop after this many good pairs.
    Raises:
        DataError: the file is missing, has no good pair, or (strict) a bad row, named by its line.
    """
    check_choice("errors", errors, ("report", "strict"))
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", where=str(path), fix="pass a JSON or JSONL file of pairs")
    rows = _gz_rows(path) if path.suffix == ".gz" else numbered_rows(path)
    report, pairs = DataReport(), []
    for n, row in rows:
        try:
            if isinstance(row, Exception):
                raise row
            pair = row_to_pair(row)
        except DataError as exc:
            if errors == "strict":
                raise DataError(str(exc), where=f"{path}, line {n}") from exc
            report.bad.append((n, str(exc)))
            continue
        pair.line = n
        pairs.append(pair)
        if limit is not None and len(pairs) >= limit:
            break
    report.kept = len(pairs)
    if report.bad:
        log.warning("%s: %s", path, report.summary())
    if not pairs:
        raise DataError(f"no usable pair ({report.summary()})", where=str(path),
                        fix='write rows as {"prompt": ..., "chosen": ..., "rejected": ...}')
    return PreferenceData(pairs, report)


def world_preferences(n: int, *, seed: int = 0, offset: int = 0) -> list[PreferencePair]:
    """Pairs `offset .. offset + n - 1` of the world's preference stream (`World.preferences`):
    each rejected reply has a named, checkable flaw (`flaw`). Take disjoint ranges for training
    and held-out evaluation."""
    from lmlab.data.world import World
    from lmlab.data.world.instruct import preferences

    check_range("n", n, 1)
    items = preferences(World(seed=seed).rng("preferences"), offset + n)[offset:]
    return [PreferencePair([{"role": "user", "content": p.prompt}], p.chosen, p.rejected, p.task, p.flaw)
            for p in items]


def split_pairs(pairs: Sequence[PreferencePair], eval_fraction: float = 0.1, *, seed: int = 0
                ) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """(train, eval) parts of `pairs` in a seeded order (HH's harmless-base has only a test split)."""
    check_range("eval_fraction", eval_fraction, 0, 1, low_open=True, high_open=True)
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    k = max(1, round(len(pairs) * eval_fraction))
    if k >= len(pairs):
        raise ConfigError(f"{len(pairs)} pairs cannot be split {1 - eval_fraction:g}/{eval_fraction:g}",
                          fix="use more pairs or a smaller eval fraction")
    return [pairs[i] for i in order[k:]], [pairs[i] for i in order[:k]]


def write_preferences(pairs: Sequence[PreferencePair], path: str | os.PathLike[str]) -> Path:
    """Write pairs as JSON Lines {"prompt": [messages], "chosen", "rejected", "task"?, "flaw"?}."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for p in pairs:
            row = {"prompt": p.prompt, "chosen": p.chosen, "rejected": p.rejected,
                   **({"task": p.task} if p.task else {}), **({"flaw": p.flaw} if p.flaw else {})}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


# ---- encoding ---------------------------------------------------------------------------------
@dataclass
class EncodedPair:
    """A pair rendered through the chat template: `chosen` and `rejected` (`Encoded`, labels True
    on the final reply's tokens only: its text and the template's end-of-turn) and the length of
    their shared prompt. `ref_chosen` / `ref_rejected`: precomputed reference log-probs, or None."""

    chosen: Any
    rejected: Any
    prompt_len: int
    ref_chosen: float | None = None
    ref_rejected: float | None = None


@dataclass
class PairEncodeReport:
    """What `encode_pairs` kept, and the pairs dropped as longer than the context (by index)."""

    kept: int = 0
    too_long: list[int] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.kept} pairs encoded"
        return text + (f", {len(self.too_long)} longer than the context dropped" if self.too_long else "")


def encode_pair(pair: PreferencePair, fmt: Any) -> EncodedPair:
    """Render and encode a pair exactly as SFT renders a conversation (`ChatFormat.encode`), the
    reply being the tokens after `fmt.encode_prompt(pair.prompt)`.

    Raises:
        DataError: the template rejects the conversation.
    """
    from lmlab.align.format import Encoded

    prompt = fmt.encode_prompt(pair.prompt)
    sides = []
    for which in ("chosen", "rejected"):
        full = fmt.encode(pair.messages(which))
        if full.ids[:len(prompt)] != prompt or len(full.ids) == len(prompt):
            raise DataError(f"the {which} reply does not extend the prompt's tokens",
                            fix="use a chat template that renders turns incrementally (chatml)")
        sides.append(Encoded(full.ids, [False] * len(prompt) + [True] * (len(full.ids) - len(prompt))))
    return EncodedPair(sides[0], sides[1], len(prompt))


def encode_pairs(pairs: Sequence[PreferencePair], fmt: Any, *, max_len: int | None,
                 truncation: Literal["drop", "error"] = "drop"
                 ) -> tuple[list[EncodedPair], PairEncodeReport]:
    """Encode every pair; a pair whose longer side exceeds `max_len` tokens is dropped and counted
    (`truncation="drop"`) or is a one-line `DataError` naming it ("error")."""
    check_choice("truncation", truncation, ("drop", "error"))
    out, report = [], PairEncodeReport()
    for i, pair in enumerate(pairs):
        enc = encode_pair(pair, fmt)
        n = max(len(enc.chosen), len(enc.rejected))
        if max_len is not None and n > max_len:
            if truncation == "error":
                where = f"pair {i}" + (f" (line {pair.line})" if pair.line else "")
                raise DataError(f"{where} has {n} tokens, more than the context ({max_len})",
                                fix="drop long pairs (truncation=\"drop\") or use a longer context")
            report.too_long.append(i)
            continue
        out.append(enc)
    report.kept = len(out)
    if report.too_long:
        log.warning("preference data: %s", report.summary())
    if not out:
        raise DataError(f"no pair left to train on ({report.summary()})",
                        fix="use shorter prompts or a model with a longer context")
    return out, report


class PreferenceBatches:
    """Fixed batches of encoded pairs (`len`, `[i]` -> dict of tensors), right-padded:

        chosen_ids, rejected_ids (B, T) int64; chosen_labels, rejected_labels (B, T) bool (reply
        tokens); chosen_mask, rejected_mask (B, T) bool (real tokens); and, when every pair has
        them, ref_chosen, ref_rejected (B,) float (precomputed reference log-probs).

    Both sides share one width T, so a model reads the 2B rows in one forward pass.
    """

    def __init__(self, encoded: Sequence[EncodedPair], batch_size: int, *, pad_id: int = 0,
                 seed: int = 0, shuffle: bool = True) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size={batch_size} must be >= 1", fix="use 1 or more")
        import torch

        self.encoded, self.pad_id, self._torch = list(encoded), pad_id, torch
        order = list(range(len(self.encoded)))
        if shuffle:
            random.Random(seed).shuffle(order)
        self.groups = [order[k:k + batch_size] for k in range(0, len(order), batch_size)]

    def __len__(self) -> int:
        return len(self.groups)

    def __getitem__(self, i: int) -> dict[str, Any]:
        torch = self._torch
        members = [self.encoded[k] for k in self.groups[i]]
        width = max(max(len(e.chosen), len(e.rejected)) for e in members)
        batch: dict[str, Any] = {}
        for side in ("chosen", "rejected"):
            ids = torch.full((len(members), width), self.pad_id, dtype=torch.long)
            labels = torch.zeros(len(members), width, dtype=torch.bool)
            mask = torch.zeros(len(members), width, dtype=torch.bool)
            for r, e in enumerate(members):
                enc = getattr(e, side)
                ids[r, :len(enc)] = torch.tensor(enc.ids)
                labels[r, :len(enc)] = torch.tensor(enc.labels)
                mask[r, :len(enc)] = True
            batch.update({f"{side}_ids": ids, f"{side}_labels": labels, f"{side}_mask": mask})
        if all(e.ref_chosen is not None and e.ref_rejected is not None for e in members):
            batch["ref_chosen"] = torch.tensor([e.ref_chosen for e in members], dtype=torch.float32)
            batch["ref_rejected"] = torch.tensor([e.ref_rejected for e in members], dtype=torch.float32)
        return batch


def pad_id_of(model: Any) -> int:
    """The id padding is written with: the tokenizer's [PAD], else the end id, else 0 (as SFT)."""
    pad = model.tokenizer.token_to_id("[PAD]") if model.tokenizer is not None else None
    return pad if pad is not None else (getattr(model, "eos_id", None) or 0)
