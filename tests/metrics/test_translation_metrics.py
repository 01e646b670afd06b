"""BLEU and chrF (`lmlab.metrics.translation`): sacrebleu's corpus scores, aligned inputs checked."""

from __future__ import annotations

import pytest
import sacrebleu

from lmlab.errors import DataError
from lmlab.metrics.translation import corpus_bleu, corpus_chrf, corpus_scores

HYPS = ["the cat sits on the mat", "where is the station ?", "i like chocolate"]
REFS = ["the cat sat on the mat", "where is the train station ?", "i like chocolate"]


def test_scores_equal_sacrebleu():
    assert corpus_bleu(HYPS, REFS) == pytest.approx(sacrebleu.corpus_bleu(HYPS, [REFS]).score)
    assert corpus_chrf(HYPS, REFS) == pytest.approx(sacrebleu.corpus_chrf(HYPS, [REFS]).score)
    scores = corpus_scores(HYPS, REFS)
    assert set(scores) == {"chrf", "bleu"} and 0 < scores["bleu"] < scores["chrf"] < 100
    assert corpus_scores(REFS, REFS) == {"chrf": pytest.approx(100.0), "bleu": pytest.approx(100.0)}


def test_misaligned_inputs_are_a_data_error():
    with pytest.raises(DataError, match="2 hypotheses for 3 references"):
        corpus_scores(HYPS[:2], REFS)
    with pytest.raises(DataError, match="0 hypotheses for 0 references"):
        corpus_bleu([], [])
