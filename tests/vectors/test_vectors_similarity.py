"""Cosine similarity and nearest neighbours: hand-computed values, sklearn equivalence, kinds."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from lmlab.errors import ConfigError, DataError
from lmlab.vectors.similarity import cosine_similarity, l2_normalize, nearest_neighbors, top_k


def test_cosine_hand_computed():
    # u=(1,2,0), v=(2,1,1): u·v = 2+2+0 = 4; |u| = sqrt(5); |v| = sqrt(6) -> 4/sqrt(30)
    u, v = np.array([1.0, 2.0, 0.0]), np.array([2.0, 1.0, 1.0])
    assert cosine_similarity(u, v)[0, 0] == pytest.approx(4 / math.sqrt(30))
    # a zero vector is similar to nothing (0, not NaN)
    assert cosine_similarity(np.zeros(3), v)[0, 0] == 0.0


def test_dense_sparse_torch_agree_with_sklearn():
    from sklearn.metrics import pairwise as metrics
    rng = np.random.default_rng(0)
    a = rng.random((5, 7)) * (rng.random((5, 7)) > 0.5)
    b = rng.random((4, 7))
    a[2] = 0.0
    ref = metrics.cosine_similarity(a, b)
    np.testing.assert_allclose(cosine_similarity(a, b), ref, atol=1e-12)
    np.testing.assert_allclose(cosine_similarity(sp.csr_matrix(a), sp.csr_matrix(b)), ref, atol=1e-12)
    np.testing.assert_allclose(cosine_similarity(sp.csr_matrix(a), b), ref, atol=1e-12)
    out = cosine_similarity(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)
    np.testing.assert_allclose(cosine_similarity(a), metrics.cosine_similarity(a), atol=1e-12)


def test_l2_normalize_rows():
    x = sp.csr_matrix(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(l2_normalize(x).toarray(), [[0.6, 0.8], [0.0, 0.0]])


def test_top_k_order_ties_and_exclude():
    s = np.array([[0.1, 0.9, 0.5, 0.9, 0.2], [1.0, 0.0, 0.3, 0.7, 0.7]])
    idx, vals = top_k(s, 3)
    np.testing.assert_array_equal(idx, [[1, 3, 2], [0, 3, 4]])  # ties -> lower index first
    np.testing.assert_allclose(vals, [[0.9, 0.9, 0.5], [1.0, 0.7, 0.7]])
    idx, _ = top_k(s, 2, exclude=[1, 0])
    np.testing.assert_array_equal(idx, [[3, 2], [3, 4]])
    idx, _ = top_k(s[0], 10)  # k clipped to m, 1-D in, 1-D out
    np.testing.assert_array_equal(idx, [1, 3, 2, 4, 0])
    tidx, tvals = top_k(torch.tensor(s), 1)
    np.testing.assert_allclose(tvals.numpy(), [[0.9], [1.0]], rtol=1e-6)
    assert tidx.tolist() == [[1], [0]]
    with pytest.raises(ConfigError):
        top_k(s, 0)


def test_nearest_neighbors_excludes_self():
    words = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    idx, sims = nearest_neighbors(words, words, k=1, exclude_self=True)
    assert idx[:, 0].tolist() == [1, 0, 3, 2]
    assert sims[0, 0] == pytest.approx(0.9 / math.sqrt(0.82))
    idx1, _ = nearest_neighbors(words[2], sp.csr_matrix(words), k=2)
    assert idx1.tolist() == [2, 3]
    with pytest.raises(ConfigError):
        nearest_neighbors(words[:2], words, exclude_self=True)


def test_dimension_mismatch():
    with pytest.raises(DataError, match="dimension mismatch"):
        cosine_similarity(np.ones((2, 3)), np.ones((2, 4)))
