"""Translation metrics through sacrebleu: corpus chrF (Popović 2015) and BLEU (Papineni et al. 2002).

    corpus_scores(hypotheses, references)      # {"chrf": 61.2, "bleu": 38.5}

Scores are sacrebleu's, on its default settings (BLEU with 13a tokenisation, chrF with n=6,
beta=2), one reference per hypothesis, on the 0-100 scale.
"""

from __future__ import annotations

from collections.abc import Sequence

from lmlab.errors import DataError, require

__all__ = ["corpus_bleu", "corpus_chrf", "corpus_scores"]


def _checked(hypotheses: Sequence[str], references: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    if len(hypotheses) != len(references) or not references:
        raise DataError(f"{len(hypotheses)} hypotheses for {len(references)} references",
                        fix="translate every reference's source once")
    return [str(h) for h in hypotheses], [[str(r) for r in references]]


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """sacrebleu's corpus BLEU (13a tokenisation), 0-100."""
    sacrebleu = require("sacrebleu", "BLEU")
    hyps, refs = _checked(hypotheses, references)
    return float(sacrebleu.corpus_bleu(hyps, refs).score)


def corpus_chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """sacrebleu's corpus chrF (character 6-grams, beta 2), 0-100."""
    sacrebleu = require("sacrebleu", "chrF")
    hyps, refs = _checked(hypotheses, references)
    return float(sacrebleu.corpus_chrf(hyps, refs).score)


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Corpus chrF and BLEU of aligned hypotheses and references: {"chrf": ..., "bleu": ...}."""
    return {"chrf": corpus_chrf(hypotheses, references), "bleu": corpus_bleu(hypotheses, references)}
