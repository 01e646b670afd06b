"""Projection (PCA equal to scikit-learn), projector export, WEAT, and the `lmlab w2v` commands."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from lmlab.cli.main import main
from lmlab.errors import DataError, MissingDependencyError
from lmlab.vectors.bias import weat
from lmlab.vectors.keyed import WordVectors
from lmlab.vectors.projection import export_projector, pca_2d, plot_words, project


def test_pca_equals_sklearn_up_to_sign():
    from sklearn.decomposition import PCA

    x = np.random.default_rng(0).normal(size=(30, 6))
    ours = pca_2d(x)
    theirs = PCA(n_components=2).fit_transform(x)
    for j in range(2):
        sign = np.sign(ours[:, j] @ theirs[:, j])
        np.testing.assert_allclose(ours[:, j], sign * theirs[:, j], atol=1e-10)


def test_tsne_and_umap_message(tmp_path):
    x = np.random.default_rng(0).normal(size=(12, 5))
    assert project(x, "tsne").shape == (12, 2)
    try:
        import umap  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependencyError, match="pip install umap-learn"):
            project(x, "umap")
    with pytest.raises(DataError, match="at least 3"):
        project(x[:2])


def test_plot_and_projector_files(tmp_path):
    words = ["rey", "reina", "niño", "año"]
    vecs = np.arange(12, dtype=np.float32).reshape(4, 3)
    png = plot_words(words, pca_2d(vecs), tmp_path / "mapa.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    vec_file, meta_file = export_projector(words, vecs, tmp_path / "proj")
    assert meta_file.read_text(encoding="utf-8").splitlines() == words
    rows = [list(map(float, r.split("\t"))) for r in vec_file.read_text().splitlines()]
    np.testing.assert_array_equal(rows, vecs)


def _weat_space():
    """X words lean to A, Y words to B, along dimension 0; dimension 1+ is noise."""
    rng = np.random.default_rng(0)
    names = {"x": ["él", "hombre", "padre", "hijo"], "y": ["ella", "mujer", "madre", "hija"],
             "a": ["trabajo", "oficina", "sueldo"], "b": ["casa", "familia", "hogar"]}
    lean = {"x": 1.0, "y": -1.0, "a": 1.0, "b": -1.0}
    words, vecs = [], []
    for k, ws in names.items():
        for w in ws:
            words.append(w)
            vecs.append([lean[k], *rng.normal(scale=0.5, size=4)])
    return WordVectors(words, np.array(vecs, np.float32)), names


def test_weat_by_hand_and_exact_permutations():
    wv, n = _weat_space()
    r = weat(wv, n["x"], n["y"], n["a"], n["b"])
    u = wv.unit_vectors

    def s(w):
        return (np.mean([u[wv.index[w]] @ u[wv.index[a]] for a in n["a"]])
                - np.mean([u[wv.index[w]] @ u[wv.index[b]] for b in n["b"]]))

    sx, sy = [s(w) for w in n["x"]], [s(w) for w in n["y"]]
    assert r.statistic == pytest.approx(sum(sx) - sum(sy), rel=1e-5)
    assert r.effect_size == pytest.approx((np.mean(sx) - np.mean(sy)) / np.std(sx + sy, ddof=1), rel=1e-5)
    # Exact test: 8 choose 4 = 70 partitions; only the observed one has the largest statistic.
    everything = sx + sy
    stats = [2 * sum(everything[i] for i in c) - sum(everything) for c in itertools.combinations(range(8), 4)]
    assert r.exact and r.n_permutations == 70
    assert r.p_value == pytest.approx(np.mean(np.array(stats) > r.statistic + 1e-12))
    assert r.effect_size > 1.5 and r.p_value < 0.05
    swapped = weat(wv, n["y"], n["x"], n["a"], n["b"])
    assert swapped.effect_size == pytest.approx(-r.effect_size, rel=1e-6)
    sampled = weat(wv, n["x"], n["y"], n["a"], n["b"], n_permutations=50)
    assert not sampled.exact and sampled.n_permutations == 50


def test_weat_unknown_words():
    wv, n = _weat_space()
    r = weat(wv, [*n["x"], "dragón"], n["y"], n["a"], n["b"])
    assert r.unknown == ["dragón"]
    with pytest.raises(DataError, match="set A"):
        weat(wv, n["x"], n["y"], ["nada"], n["b"])


# ------------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    animals, colours = ["perro", "gato", "caballo", "vaca"], ["rojo", "verde", "azul", "negro"]
    lines = []
    for i in range(600):
        if i % 2:
            lines.append(f"El {rng.choice(animals)} come y el {rng.choice(animals)} duerme.")
        else:
            lines.append(f"Un color {rng.choice(colours)} y otro {rng.choice(colours)} claro.")
    f = tmp_path_factory.mktemp("w2v") / "corpus.txt"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f


@pytest.fixture(scope="module")
def trained(corpus_file):
    out = corpus_file.parent / "vectores"
    assert main(["w2v", "train", str(corpus_file), "-o", str(out), "--dim", "16", "--window", "3",
                 "--min-count", "1", "--epochs", "3", "--workers", "1", "--sample", "0"]) == 0
    return out


def test_cli_train_and_query(trained, capsys, tmp_path):
    assert (trained / "config.json").exists()
    capsys.readouterr()
    assert main(["w2v", "similar", str(trained), "perro", "--topn", "3", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert len(res) == 3 and "perro" not in [r["word"] for r in res]
    assert main(["w2v", "analogy", str(trained), "perro", "gato", "rojo", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 5


def test_cli_eval_project_export_bias(trained, capsys, tmp_path):
    q = tmp_path / "q.txt"
    q.write_text(": colores\nperro gato rojo verde\nmal formada\nperro gato rojo dragón\n", encoding="utf-8")
    sim = tmp_path / "s.txt"
    sim.write_text("perro gato 9\nperro rojo 1\nrojo azul 8\n", encoding="utf-8")
    assert main(["w2v", "eval", str(trained), "--analogies", str(q), "--similarity", str(sim), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    a = data["analogies"][str(q)]
    assert (a["answered"], a["questions"], a["malformed"], a["skipped_oov"]) == (1, 2, 1, 1)
    assert data["similarity"][str(sim)]["pairs_used"] == 3
    assert main(["w2v", "project", str(trained), "-o", str(tmp_path / "m.png"), "--top", "10"]) == 0
    assert (tmp_path / "m.png").exists()
    assert main(["w2v", "export", str(trained), "-o", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p" / "metadata.tsv").exists()
    assert main(["w2v", "export", str(trained), "--format", "binary", "-o", str(tmp_path / "v.bin")]) == 0
    back = WordVectors.load_word2vec_format(tmp_path / "v.bin")
    assert back.words == WordVectors.load(trained).words
    capsys.readouterr()
    assert main(["w2v", "bias", str(trained), "--x", "perro", "gato", "--y", "rojo", "verde",
                 "--a", "caballo", "vaca", "--b", "azul", "negro", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["effect_size"] > 0 and r["exact"]


def test_cli_user_errors_exit_2(trained, tmp_path, capsys):
    assert main(["w2v", "similar", str(trained), "dragón"]) == 2
    assert "unknown word 'dragón'" in capsys.readouterr().err
    empty = tmp_path / "vacío.txt"
    empty.write_text("\n\n", encoding="utf-8")
    assert main(["w2v", "train", str(empty), "-o", str(tmp_path / "x")]) == 2
    rare = tmp_path / "raro.txt"
    rare.write_text("una frase rara\n", encoding="utf-8")
    assert main(["w2v", "train", str(rare), "-o", str(tmp_path / "x")]) == 2
    assert "min_count=5" in capsys.readouterr().err
    assert main(["w2v", "eval", str(trained)]) == 2
    assert main(["w2v", "similar", str(tmp_path / "nada"), "perro"]) == 2
