"""Exact-match evaluation of an instruction-tuned model: greedy answers to held-out items.

    report = sft_eval(model, world_examples(200, offset=5000), template="alpaca")
    report.overall, report.per_task          # fractions of answers equal to the reference

Each example's prompt (the conversation before its last assistant turn) is encoded as training
encoded it (`ChatFormat.encode_prompt`), the model answers greedily until its end-of-turn token,
and the answer counts when it equals the reference after trimming surrounding white space.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lmlab.align.data import SFTExample
from lmlab.align.format import ChatFormat


@dataclass
class ExactMatchReport:
    """Exact match overall and per task; `items` keeps (task, reference, answer) of each."""

    overall: float
    per_task: dict[str, float]
    counts: dict[str, int]
    items: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"overall": self.overall, "per_task": self.per_task, "counts": self.counts,
                "items": self.items}

    def describe(self) -> str:
        """Human lines: overall, then one per task."""
        lines = [f"exact match: {self.overall:.3f} ({sum(self.counts.values())} items)"]
        lines += [f"  {task}: {acc:.3f} ({self.counts[task]})" for task, acc in self.per_task.items()]
        return "\n".join(lines)


def answer(model: Any, fmt: ChatFormat, conversations: Sequence[Sequence[dict[str, Any]]], *,
           max_new_tokens: int = 48, batch_size: int = 32) -> list[str]:
    """Greedy replies to conversations that end with a user turn (one string each)."""
    import torch

    from lmlab.generate import GenerationConfig, generate

    stop_ids, stop_strings = fmt.stops()
    config = GenerationConfig(strategy="greedy", max_new_tokens=max_new_tokens,
                              stop_token_ids=stop_ids, stop_strings=stop_strings,
                              truncate="left")
    prompts = [fmt.encode_prompt(c) for c in conversations]
    out: list[str] = []
    was_training = getattr(model, "training", False)
    model.eval()
    with torch.no_grad():
        for k in range(0, len(prompts), batch_size):
            gens = generate(model, prompts[k:k + batch_size], config, tokenizer=fmt.tokenizer)
            out += [g.text or "" for g in gens]
    if was_training:
        model.train()
    return out


def sft_eval(model: Any, examples: Sequence[SFTExample], *, template: str | None = None,
             max_new_tokens: int = 48, keep_items: bool = True) -> ExactMatchReport:
    """Exact match of greedy answers against each example's last assistant turn, per task
    (examples without a task count under "all")."""
    fmt = ChatFormat.for_model(model, template)
    replies = answer(model, fmt, [e.prompt for e in examples], max_new_tokens=max_new_tokens)
    hits: dict[str, list[bool]] = {}
    items = []
    for e, reply in zip(examples, replies, strict=True):
        ok = reply.strip() == e.answer.strip()
        hits.setdefault(e.task or "all", []).append(ok)
        if keep_items:
            items.append({"task": e.task, "reference": e.answer, "answer": reply, "correct": ok})
    per_task = {t: sum(v) / len(v) for t, v in sorted(hits.items())}
    total = [x for v in hits.values() for x in v]
    return ExactMatchReport(sum(total) / max(len(total), 1), per_task,
                            {t: len(v) for t, v in sorted(hits.items())}, items)
