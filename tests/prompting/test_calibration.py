"""Contextual calibration (Zhao et al. 2021) on probabilities computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from lmlab.errors import DataError
from lmlab.prompting import CONTENT_FREE_INPUTS, Verbalizer, calibrate, classify, content_free_probs
from lmlab.prompting.calibration import calibration_matrix, probs_from_scores
from lmlab.prompting.predict import score_answers


def test_zhao_correction_by_hand():
    # label probabilities of the content-free inputs "N/A", "" and "[MASK]"
    cf = [[0.6, 0.3, 0.1], [0.4, 0.4, 0.2], [0.5, 0.35, 0.15]]
    p_cf = content_free_probs(cf)
    np.testing.assert_allclose(p_cf, [0.5, 0.35, 0.15])
    np.testing.assert_allclose(calibration_matrix(p_cf), np.diag([2.0, 1 / 0.35, 1 / 0.15]))
    # W p = [0.5/0.5, 0.3/0.35, 0.2/0.15] = [1, 6/7, 4/3], sum 67/21
    q = calibrate([0.5, 0.3, 0.2], p_cf)
    np.testing.assert_allclose(q, [21 / 67, 18 / 67, 28 / 67])
    assert int(np.argmax([0.5, 0.3, 0.2])) == 0 and int(np.argmax(q)) == 2  # the bias is undone
    np.testing.assert_allclose(calibrate([[5.0, 3.0, 2.0]], p_cf), [q])  # p is normalised first


def test_unnormalised_content_free_rows_are_averaged_then_normalised():
    # as in Zhao et al.'s code: mean([0.2, 0.2], [0.6, 0.2]) = [0.4, 0.2] -> [2/3, 1/3]
    np.testing.assert_allclose(content_free_probs([[0.2, 0.2], [0.6, 0.2]]), [2 / 3, 1 / 3])


def test_scores_to_probabilities_and_bad_input():
    np.testing.assert_allclose(probs_from_scores(np.log([[0.2, 0.6]])), [[0.25, 0.75]])
    with pytest.raises(DataError, match="probability 0"):
        calibration_matrix([0.0, 1.0])
    with pytest.raises(DataError, match="labels"):
        calibrate([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(DataError, match="negative"):
        calibrate([-0.5, 0.5], [0.5, 0.5])
    assert CONTENT_FREE_INPUTS == ("N/A", "", "[MASK]")


def test_classify_with_calibration_applies_the_same_correction(trigram):
    v = Verbalizer({"+": ["buena", "bacán"], "-": ["mala", "terrible"]})
    xs = ["la película", "la comida", "la música"]
    preds = classify(trigram, "[X] fue [Z]", v, xs, calibrate=True)

    def label_scores(rows):
        return np.array([[max(row[0].log_prob, row[1].log_prob), max(row[2].log_prob, row[3].log_prob)]
                         for row in rows])

    test = probs_from_scores(label_scores(score_answers(trigram, "[X] fue [Z]", xs, v.answers)))
    cf_rows = score_answers(trigram, "[X] fue [Z]", list(CONTENT_FREE_INPUTS), v.answers)
    p_cf = content_free_probs(np.exp(label_scores(cf_rows)))
    want = calibrate(test, p_cf)
    for pred, q in zip(preds, want, strict=True):
        assert pred.calibrated and [pred.probs["+"], pred.probs["-"]] == pytest.approx(list(q))
        assert pred.label == ("+" if q[0] >= q[1] else "-")
