"""`evaluate_lm`: a language model's perplexity on texts, beside the exact floor on world text.

    report = evaluate_lm(lmlab.load("runs/gpt/model"), lines)
    report["ppl"], report.get("entropy_floor"), report.get("ppl_per_world_token")

Perplexity comes from `lmlab.perplexity` (every token and end of text scored). When every text is
text of the embedded world (of `seed`), the exact entropy floor of the same texts is added; it is
measured per word token (words, punctuation and ends), so the model's figure is also given in that
unit (`ppl_per_world_token` = exp(total nats / word tokens)), which is comparable whatever the
model's tokenizer (BPE, characters, words).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from lmlab.errors import DataError
from lmlab.models.base import perplexity


def world_floor(texts: Sequence[str], seed: int = 0) -> Any:
    """The world's `EntropyFloor` of the texts when all are world text of `seed`, else None."""
    from lmlab.data.world import World

    world = World(seed)
    try:
        return world.entropy_floor(world.score_lines(texts))
    except DataError:
        return None


def evaluate_lm(model: Any, texts: Sequence[str], *, seed: int = 0, batch_size: int = 32
                ) -> dict[str, Any]:
    """{"ppl", "bits_per_token", "log_prob", "n_tokens", "texts"} (+ the floor on world text)."""
    result = perplexity(model, texts, batch_size=batch_size)
    out: dict[str, Any] = {"texts": len(texts), **result.to_dict()}
    floor = world_floor(texts, seed)
    if floor is not None:
        word_tokens = floor.n_tokens + floor.n_sentences
        out["entropy_floor"] = floor.to_dict()
        out["ppl_per_world_token"] = math.exp(-result.log_prob / word_tokens)
        out["times_floor"] = out["ppl_per_world_token"] / floor.ppl
    return out


def describe(report: dict[str, Any]) -> str:
    """One or two lines of a report for people (a loss report: its figures as name=value)."""
    if "bits_per_token" not in report:
        return ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in report.items())
    text = (f"perplexity {report['ppl']:.3f}, {report['bits_per_token']:.4f} bits/token over "
            f"{report['n_tokens']:,} tokens")
    if "entropy_floor" in report:
        floor = report["entropy_floor"]
        text += (f"\nexact floor of this text: perplexity {floor['ppl']:.3f} per word token; the "
                 f"model {report['ppl_per_world_token']:.3f} per word token "
                 f"({report['times_floor']:.2f} x the floor)")
    return text
