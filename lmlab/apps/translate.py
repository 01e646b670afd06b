"""Translation with a trained encoder-decoder: decode (greedy or beam) and score with sacrebleu.

    model, history = lmlab.train.translation.train_seq2seq(src_texts, tgt_texts, valid=(src_dev, tgt_dev))
    hyps = translate(model, ["el niño come pan ."], strategy="beam", num_beams=4)
    result = evaluate_translation(model, src_dev, tgt_dev)   # hypotheses + {"chrf", "bleu"}

Decoding goes through `lmlab.generate` on `model.condition(src)`, the same code that decodes every
other language model; scores come from `lmlab.metrics.translation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from lmlab.data.tokens import encode_ids, pad_sequences
from lmlab.generate import GenerationConfig, generate
from lmlab.metrics.translation import corpus_scores

__all__ = ["TranslationResult", "evaluate_translation", "translate"]


@torch.no_grad()
def translate(model: Any, texts: Sequence[str], *, strategy: Literal["greedy", "beam"] = "greedy",
              num_beams: int = 4, max_new_tokens: int | None = None, batch_size: int = 64) -> list[str]:
    """Translate texts with greedy or beam search; returns the decoded target texts in input order.

    `model` is an `lmlab.models.rnn.seq2seq.Seq2Seq` (anything with `config`, `tokenizer` and
    `condition(src_ids, src_mask)` returning a language model over target ids).
    """
    cfg = model.config
    model.eval()
    device = next(model.parameters()).device
    gen_cfg = GenerationConfig(strategy=strategy, num_beams=num_beams if strategy == "beam" else 4,
                               max_new_tokens=max_new_tokens or cfg.max_len, stop_token_ids=(cfg.eos_id,))
    src_ids = [s or [cfg.eos_id] for s in encode_ids(list(texts), model.tokenizer, eos_id=cfg.eos_id,
                                                      max_len=cfg.max_len)]
    order = sorted(range(len(src_ids)), key=lambda i: len(src_ids[i]))  # similar lengths together
    out: list[str] = [""] * len(src_ids)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        ids, mask = pad_sequences([src_ids[r] for r in rows], cfg.pad_id)
        lm = model.condition(ids.to(device), mask.to(device))
        gens = generate(lm, [[cfg.bos_id]] * len(rows), gen_cfg)
        for r, g in zip(rows, gens, strict=True):
            kept = [i for i in g.ids if i != cfg.eos_id]
            out[r] = model.tokenizer.decode(kept)
    return out


@dataclass
class TranslationResult:
    """Outputs of `evaluate_translation`: one hypothesis per source, and corpus chrF / BLEU."""

    hypotheses: list[str]
    scores: dict[str, float] = field(default_factory=dict)

    def examples(self, sources: Sequence[str], references: Sequence[str], n: int = 5) -> list[dict[str, str]]:
        """The first `n` (source, reference, output) triples, for reports."""
        rows = zip(sources, references, self.hypotheses, strict=True)
        return [{"source": s, "reference": r, "output": h} for s, r, h in list(rows)[:n]]


def evaluate_translation(model: Any, sources: Sequence[str], references: Sequence[str], *,
                         num_beams: int = 1, max_new_tokens: int | None = None,
                         batch_size: int = 64) -> TranslationResult:
    """Translate `sources` (greedy when num_beams is 1, else beam search) and score the outputs
    against `references` with sacrebleu's corpus chrF and BLEU."""
    hyps = translate(model, sources, strategy="beam" if num_beams > 1 else "greedy",
                     num_beams=max(num_beams, 1), max_new_tokens=max_new_tokens, batch_size=batch_size)
    return TranslationResult(hyps, corpus_scores(hyps, references))
