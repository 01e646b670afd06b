"""Instruction and conversation data for supervised fine-tuning: one reader, every row checked.

    data = read_sft_data("alpaca.json")                  # format guessed from the first row
    data = read_sft_data("chats.jsonl", format="messages")
    data.examples[0].messages    # [{"role": "user", "content": ...}, {"role": "assistant", ...}]
    data.report.bad              # [(line, reason), ...]: rows skipped, each named by its line

Formats (a JSON list, or JSON Lines with one object a line):

- alpaca: `{"instruction": ..., "input": ... (optional), "output": ...}` (Taori et al. 2023); the
  user turn is the instruction, a blank line and the input (when there is one), the assistant
  turn the output. An optional `task` names the task for per-task evaluation, `system` adds a
  system message.
- messages: `{"messages": [{"role": "system"|"user"|"assistant", "content": ...}, ...]}`, or
  ShareGPT's `{"conversations": [{"from": "system"|"human"|"gpt", "value": ...}, ...]}`.

Every row is validated (`lmlab.chat.validate_messages` plus: at least one assistant turn, none
empty). A bad row is skipped and reported with its line number (`errors="report"`, the default,
with a warning that counts them), or stops the reading with a one-line `DataError`
(`errors="strict"`). The world's instruction tasks come through `world_examples`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lmlab.chat import validate_messages
from lmlab.errors import ConfigError, DataError, check_choice

log = logging.getLogger("lmlab")

FORMATS = ("alpaca", "messages")
SHAREGPT_ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant",
                  "assistant": "assistant", "chatgpt": "assistant", "bing": "assistant"}


@dataclass
class SFTExample:
    """One training conversation; `task` names its task (for per-task exact match) or is None."""

    messages: list[dict[str, Any]]
    task: str | None = None
    line: int | None = None  # where it came from in its file (1-based), when read from one

    @property
    def prompt(self) -> list[dict[str, Any]]:
        """The conversation before its last assistant turn (what a model answers at evaluation)."""
        last = max(i for i, m in enumerate(self.messages) if m["role"] == "assistant")
        return self.messages[:last]

    @property
    def answer(self) -> str:
        """The content of the last assistant turn (the reference answer)."""
        return next(m["content"] for m in reversed(self.messages) if m["role"] == "assistant")


@dataclass
class DataReport:
    """How the reading went: rows kept, rows skipped with (line, reason)."""

    kept: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)

    def summary(self, limit: int = 5) -> str:
        """One line: the counts and the first `limit` bad rows."""
        text = f"{self.kept} examples kept, {len(self.bad)} skipped"
        if self.bad:
            shown = "; ".join(f"line {n}: {why}" for n, why in self.bad[:limit])
            text += f" ({shown}{'; ...' if len(self.bad) > limit else ''})"
        return text


@dataclass
class SFTData:
    """Examples read by `read_sft_data`, with their `DataReport`."""

    examples: list[SFTExample]
    report: DataReport
    format: str


def alpaca_messages(instruction: str, input: str = "", output: str | None = None, *,
                    system: str | None = None) -> list[dict[str, Any]]:
    """An Alpaca item as a conversation: [system], user = instruction (+ blank line + input),
    and assistant = output when it is given (leave it out for a prompt)."""
    user = f"{instruction}\n\n{input}" if input else instruction
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": user})
    if output is not None:
        messages.append({"role": "assistant", "content": output})
    return messages


def _check_conversation(messages: Any) -> list[dict[str, Any]]:
    checked = validate_messages(messages)
    if not any(m["role"] == "assistant" for m in checked):
        raise DataError("the conversation has no assistant turn to learn", where="messages",
                        fix="add the reply as {\"role\": \"assistant\", \"content\": ...}")
    for i, m in enumerate(checked):
        if m["role"] == "assistant" and not str(m.get("content", "")).strip():
            raise DataError(f"message {i} (assistant) is empty", where=f"messages[{i}]",
                            fix="give every assistant turn some text")
    return checked


def _from_alpaca(row: Mapping[str, Any]) -> SFTExample:
    for key in ("instruction", "output"):
        if key not in row or row[key] is None:
            raise DataError(f"the row has no {key!r}", fix="write rows as {\"instruction\": ..., "
                            "\"input\": ..., \"output\": ...}")
        if not isinstance(row[key], str):
            raise DataError(f"{key!r} is a {type(row[key]).__name__}, not a string", fix="use text")
    if not row["output"].strip():
        raise DataError("the output is empty", fix="give every row an output")
    if not row["instruction"].strip():
        raise DataError("the instruction is empty", fix="give every row an instruction")
    extra = row.get("input") or ""
    if not isinstance(extra, str):
        raise DataError(f"'input' is a {type(extra).__name__}, not a string", fix="use text")
    system = row.get("system")
    messages = alpaca_messages(row["instruction"], extra, row["output"],
                               system=system if isinstance(system, str) else None)
    return SFTExample(_check_conversation(messages), _task(row))


def _from_messages(row: Mapping[str, Any]) -> SFTExample:
    if "messages" in row:
        messages = row["messages"]
    elif "conversations" in row:  # ShareGPT
        turns = row["conversations"]
        if not isinstance(turns, list):
            raise DataError("'conversations' is not a list", fix="write a list of turns")
        messages = []
        for i, turn in enumerate(turns):
            if not isinstance(turn, Mapping):
                raise DataError(f"turn {i} is not an object", fix='write {"from": ..., "value": ...}')
            who = turn.get("from")
            if who not in SHAREGPT_ROLES:
                raise DataError(f"turn {i} has the unknown speaker {who!r}",
                                fix=f"use one of {', '.join(SHAREGPT_ROLES)}")
            messages.append({"role": SHAREGPT_ROLES[who], "content": turn.get("value")})
    else:
        raise DataError("the row has no 'messages' (or ShareGPT 'conversations')",
                        fix='write rows as {"messages": [{"role": ..., "content": ...}, ...]}')
    return SFTExample(_check_conversation(messages), _task(row))


def _task(row: Mapping[str, Any]) -> str | None:
    task = row.get("task")
    return str(task) if task is not None else None


def guess_format(row: Any) -> str:
    """"messages" for rows with messages/conversations, "alpaca" for instruction rows."""
    if isinstance(row, Mapping) and ("messages" in row or "conversations" in row):
        return "messages"
    if isinstance(row, Mapping) and "instruction" in row:
        return "alpaca"
    raise DataError("cannot tell the data format from the first row", where="line 1",
                    fix="pass --format alpaca or --format messages")


def numbered_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed row) of a JSON list file or a JSON Lines file; bad JSON -> (n, error)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 at byte {exc.start}", where=str(path),
                        fix="convert the file to UTF-8") from exc
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON at line {exc.lineno}: {exc.msg}", where=str(path),
                            fix="fix the JSON list, or write JSON Lines") from exc
        # The line each item starts on, so bad rows are named where the user can find them.
        decoder, lines, pos = json.JSONDecoder(), [], text.index("[") + 1
        for _ in items:
            while text[pos] in " \t\r\n,":
                pos += 1
            lines.append(text.count("\n", 0, pos) + 1)
            _, pos = decoder.raw_decode(text, pos)
        yield from zip(lines, items, strict=True)
        return
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, DataError(f"invalid JSON ({exc.msg})")


def read_sft_data(path: str | os.PathLike[str], format: str | None = None, *,
                  errors: Literal["report", "strict"] = "report") -> SFTData:
    """Read and validate instruction or conversation data (module docstring).

    Args:
        path: a JSON list or JSON Lines file.
        format: "alpaca" or "messages"; None guesses from the first row.
        errors: "report" skips bad rows and lists them in `report.bad`; "strict" raises on the first.
    Raises:
        DataError: the file is missing, unreadable, has no good row, or (strict) a bad row, named
            by its line.
    """
    check_choice("errors", errors, ("report", "strict"))
    if format is not None:
        check_choice("format", format, FORMATS)
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", where=str(path), fix="pass a JSON or JSONL data file")
    return rows_to_examples(numbered_rows(path), format, errors=errors, where=str(path))


def rows_to_examples(rows: Iterable[tuple[int, Any]], format: str | None = None, *,
                     errors: str = "report", where: str = "data") -> SFTData:
    """Validate (line, row) pairs into examples (see `read_sft_data`)."""
    report, examples = DataReport(), []
    for n, row in rows:
        try:
            if isinstance(row, Exception):
                raise row
            if not isinstance(row, Mapping):
                raise DataError(f"the row is a {type(row).__name__}, not an object",
                                fix="write one JSON object per row")
            format = format or guess_format(row)
            example = (_from_alpaca if format == "alpaca" else _from_messages)(row)
        except DataError as exc:
            reason = str(exc)
            if errors == "strict":
                raise DataError(reason, where=f"{where}, line {n}") from exc
            report.bad.append((n, reason))
            continue
        example.line = n
        examples.append(example)
    report.kept = len(examples)
    if report.bad:
        log.warning("%s: %s", where, report.summary())
    if not examples:
        raise DataError(f"no usable example ({report.summary()})", where=where,
                        fix="check the format (--format alpaca|messages) and the rows")
    return SFTData(examples, report, format or "alpaca")


def world_examples(n: int, *, seed: int = 0, offset: int = 0,
                   tasks: Sequence[str] | None = None) -> list[SFTExample]:
    """The world's instruction tasks (`lmlab.data.world.instruct`) as Alpaca-style examples.

    Items `offset .. offset + n - 1` of the world's stream with this seed (tasks in turn; only
    `tasks` when given): take disjoint ranges for training and held-out evaluation (offset=0 for
    training, offset >= n_train for tests). `World(seed).instructions(n)` gives the same items.
    """
    from lmlab.data.world import World
    from lmlab.data.world.instruct import TASKS, instructions

    chosen = tuple(tasks) if tasks is not None else TASKS
    unknown = sorted(set(chosen) - set(TASKS))
    if unknown or not chosen:
        raise ConfigError(f"unknown world tasks {unknown}" if unknown else "no world task chosen",
                          fix=f"use some of {', '.join(TASKS)}")
    items = instructions(World(seed=seed).rng("instructions"), offset + n, chosen)[offset:]
    return [SFTExample(alpaca_messages(it.instruction, it.input, it.output), it.task)
            for it in items]


def write_jsonl(examples: Iterable[SFTExample], path: str | os.PathLike[str]) -> Path:
    """Write examples as `messages` JSON Lines (with their task), readable by `read_sft_data`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for e in examples:
            row = {"messages": e.messages, **({"task": e.task} if e.task else {})}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path
