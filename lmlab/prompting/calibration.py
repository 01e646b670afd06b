"""Contextual calibration (Zhao et al. 2021, "Calibrate before use"): pure functions of arrays.

A prompt (its template, demonstrations and their order) biases an LM towards some labels. Feed it
content-free inputs ("N/A", "", "[MASK]") in place of x, read the label probabilities the model
still gives, average them into p_cf, and correct every prediction with W = diag(p_cf)^-1:

    p_cf = mean_i p(labels | prompt with x = cf_i), renormalised          (L,)
    q    = W p = p / p_cf, renormalised (rows sum to 1)                   (N, L)

Zhao et al. write the correction as softmax(W p + b) with b = 0; their code ranks W p directly,
and so does this module (the renormalised W p has the same argmax and is a distribution). As in
their code, p is first normalised over the labels, and the content-free probabilities are
averaged before they are renormalised.

    >>> calibrate([0.7, 0.3], content_free_probs([[0.8, 0.2], [0.6, 0.4]]))
    array([0.5, 0.5])
"""

from __future__ import annotations

import numpy as np

from lmlab.errors import DataError

#: Zhao et al.'s content-free inputs.
CONTENT_FREE_INPUTS: tuple[str, ...] = ("N/A", "", "[MASK]")


def _probs(p: object, name: str) -> np.ndarray:
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim not in (1, 2) or arr.shape[-1] == 0:
        raise DataError(f"{name} must be (L,) or (N, L) label probabilities, got shape {arr.shape}",
                        where="calibration", fix="give one probability per label")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise DataError(f"{name} holds negative or non-finite values", where="calibration",
                        fix="pass probabilities (use probs_from_scores for log-probabilities)")
    return arr


def normalize(p: object) -> np.ndarray:
    """Probabilities renormalised over the last axis (each row sums to 1).

    Raises:
        DataError: a row with no mass (all zeros).
    """
    arr = _probs(p, "p")
    total = arr.sum(axis=-1, keepdims=True)
    if np.any(total <= 0):
        raise DataError("a row of label probabilities has no mass (all zero)", where="calibration",
                        fix="check the answers: every label needs an answer the model can produce")
    return arr / total


def probs_from_scores(scores: object) -> np.ndarray:
    """Label log-scores (natural-log probabilities) -> label probabilities: softmax over the
    last axis (exp, renormalised), computed stably. (N, L) or (L,) -> same shape."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim not in (1, 2) or s.shape[-1] == 0 or np.any(np.isnan(s)):
        raise DataError(f"scores must be (L,) or (N, L) numbers, got shape {s.shape}",
                        where="calibration", fix="give one log-probability per label")
    top = s.max(axis=-1, keepdims=True)
    if np.any(top == -np.inf):
        raise DataError("every label has probability 0 (log -inf) for some input", where="calibration",
                        fix="use a smoothed model or answers the model can produce")
    e = np.exp(s - top)
    return e / e.sum(axis=-1, keepdims=True)


def content_free_probs(cf_probs: object) -> np.ndarray:
    """p_cf: the label probabilities of the content-free inputs (N_cf, L), averaged, renormalised."""
    arr = _probs(cf_probs, "content-free probabilities")
    mean = arr if arr.ndim == 1 else arr.mean(axis=0)
    return normalize(mean)


def calibration_matrix(p_cf: object) -> np.ndarray:
    """W = diag(p_cf)^-1, (L, L).

    Raises:
        DataError: a label with content-free probability 0 (its correction is infinite).
    """
    p = _probs(p_cf, "p_cf")
    if p.ndim != 1:
        raise DataError(f"p_cf must be one distribution (L,), got shape {p.shape}", where="calibration",
                        fix="average the content-free rows first (content_free_probs)")
    if np.any(p <= 0):
        raise DataError(f"label {int(np.argmin(p))} has content-free probability 0", where="calibration",
                        fix="use a smoothed model or other content-free inputs")
    return np.diag(1.0 / p)


def calibrate(probs: object, p_cf: object) -> np.ndarray:
    """Calibrated label probabilities: normalise(W normalise(p)), W = diag(p_cf)^-1.

    Args:
        probs: (L,) or (N, L) label probabilities of the test inputs.
        p_cf: (L,) content-free probabilities (`content_free_probs`).
    Returns:
        the same shape as `probs`, rows summing to 1.
    """
    p = normalize(probs)
    w = calibration_matrix(p_cf)
    if w.shape[0] != p.shape[-1]:
        raise DataError(f"probs have {p.shape[-1]} labels but p_cf has {w.shape[0]}", where="calibration",
                        fix="compute both with the same verbaliser")
    return normalize(p @ w.T)
