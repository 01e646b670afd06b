"""WordVectors: exact values on tiny spaces, equality with gensim's KeyedVectors, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lmlab
from lmlab.errors import DataError
from lmlab.vectors.keyed import WordVectors

# A 2-D toy space: x = royalty, y = gender (+ male, - female).
TOY = {
    "rey": [1.0, 1.0], "reina": [1.0, -1.0], "hombre": [0.1, 1.0], "mujer": [0.1, -1.0],
    "Rey": [0.9, 1.1], "mesa": [-1.0, 0.05],
}


@pytest.fixture
def toy():
    return WordVectors(list(TOY), np.array(list(TOY.values()), np.float32))


@pytest.fixture
def random_space():
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(60)] + ["Casa", "casa", "CASA"]
    return WordVectors(words, rng.normal(size=(len(words), 12)).astype(np.float32))


def test_similarity_exact(toy):
    # cos((1,1), (1,-1)) = 0; cos((1,1), (0.1,1)) = 1.1 / (sqrt(2) * sqrt(1.01))
    assert toy.similarity("rey", "reina") == pytest.approx(0.0, abs=1e-7)
    assert toy.similarity("rey", "hombre") == pytest.approx(1.1 / (math.sqrt(2) * math.sqrt(1.01)), rel=1e-6)


def test_analogy_3cosadd_and_3cosmul(toy):
    assert toy.analogy("hombre", "mujer", "rey")[0][0] == "reina"
    assert toy.analogy("hombre", "mujer", "rey", method="3cosmul")[0][0] == "reina"
    # The query words never come back.
    assert {w for w, _ in toy.most_similar(["rey", "mujer"], ["hombre"], topn=10)}.isdisjoint(
        {"rey", "mujer", "hombre"})


def test_doesnt_match(toy, caplog):
    assert toy.doesnt_match(["rey", "reina", "hombre", "mesa"]) == "mesa"
    assert toy.doesnt_match(["rey", "reina", "mesa", "dragón"]) == "mesa"  # unknown ignored
    assert "dragón" in caplog.text
    with pytest.raises(DataError, match="at least 2 known"):
        toy.doesnt_match(["rey", "dragón"])


def test_unknown_word_is_a_one_line_error_with_a_hint(toy):
    with pytest.raises(DataError, match=r"unknown word 'REINA'.*did you mean 'reina'"):
        toy.similarity("rey", "REINA")
    with pytest.raises(DataError, match="unknown word 'dragón'"):
        toy.most_similar("dragón")


def test_sentence_vectors_sum_ignores_order(toy):
    a = toy.sentence_vector(["el", "rey", "ama", "a", "la", "reina"], "sum")
    b = toy.sentence_vector(["la", "reina", "ama", "a", "el", "rey"], "sum")
    np.testing.assert_array_equal(a, b)  # summing is blind to word order...
    np.testing.assert_allclose(a, np.array(TOY["rey"]) + np.array(TOY["reina"]))
    concat_a = np.concatenate([toy["rey"], toy["reina"]])  # ...concatenation is not
    concat_b = np.concatenate([toy["reina"], toy["rey"]])
    assert not np.array_equal(concat_a, concat_b)
    np.testing.assert_allclose(toy.sentence_vector(["rey", "reina"], "mean"), [1.0, 0.0])
    np.testing.assert_array_equal(toy.sentence_vector(["nada"], "mean"), [0.0, 0.0])
    assert toy.sentence_vectors([["rey"], ["mesa", "mujer"]]).shape == (2, 2)


def test_equal_to_gensim_queries(random_space):
    models = pytest.importorskip("gensim.models")
    kv = models.KeyedVectors(12)
    kv.add_vectors(random_space.words, random_space.vectors)
    ours = random_space.most_similar(["w1", "w2"], ["w3"], topn=5)
    theirs = kv.most_similar(positive=["w1", "w2"], negative=["w3"], topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5)
    ours = random_space.most_similar_cosmul(["w1", "w2"], ["w3"], topn=5)
    theirs = kv.most_similar_cosmul(positive=["w1", "w2"], negative=["w3"], topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5)
    assert random_space.doesnt_match(["w4", "w5", "w6", "w7"]) == kv.doesnt_match(["w4", "w5", "w6", "w7"])
    assert random_space.similarity("w8", "w9") == pytest.approx(float(kv.similarity("w8", "w9")), rel=1e-5)


def _write_questions(path, words, rng, n=300):
    lines = []
    for i in range(n):
        if i % 100 == 0:
            lines.append(f": sección-{i // 100}")
        lines.append(" ".join(rng.choice(words, 4, replace=False)))
    lines += ["w1 w2 w3", "w1 w2 w3 w4 w5", "w1 w2 dragón w4"]  # 2 malformed, 1 unknown word
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_analogy_evaluation_equals_gensim(random_space, tmp_path):
    models = pytest.importorskip("gensim.models")
    kv = models.KeyedVectors(12)
    kv.add_vectors(random_space.words, random_space.vectors)
    rng = np.random.default_rng(3)
    words = [*random_space.words[:25], "casa", "CASA"]
    qfile = tmp_path / "questions-words.txt"
    _write_questions(qfile, words, rng)
    for ci in (True, False):
        ours = random_space.evaluate_analogies(qfile, case_insensitive=ci)
        score, sections = kv.evaluate_word_analogies(str(qfile), case_insensitive=ci)
        total = next(s for s in sections if s["section"] == "Total accuracy")
        assert ours.correct == len(total["correct"])
        assert ours.answered == len(total["correct"]) + len(total["incorrect"])
        assert ours.accuracy == pytest.approx(score)
    assert ours.malformed == 2 and ours.skipped_oov == 1 and ours.questions == 301
    assert ours.coverage == pytest.approx(300 / 301)
    assert set(ours.sections) == {"sección-0", "sección-1", "sección-2"}


def test_similarity_evaluation_equals_gensim(random_space, tmp_path):
    models = pytest.importorskip("gensim.models")
    kv = models.KeyedVectors(12)
    kv.add_vectors(random_space.words, random_space.vectors)
    rng = np.random.default_rng(4)
    rows = [f"{a}\t{b}\t{rng.uniform(0, 10):.2f}" for a, b in
            (rng.choice(random_space.words, 2, replace=False) for _ in range(80))]
    rows += ["# comentario", "w1\tdragón\t3.0", "w1\tw2\tmucho"]
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ours = random_space.evaluate_similarity(pairs)
    pearson, spearman, oov_ratio = kv.evaluate_word_pairs(str(pairs))
    assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-6)
    assert ours.pearson == pytest.approx(pearson.statistic, abs=1e-6)
    assert ours.skipped_oov == 1 and ours.malformed == 1 and ours.pairs == 81
    assert 100 * (1 - ours.coverage) == pytest.approx(oov_ratio)


def test_space_separated_and_bad_encoding(toy, tmp_path):
    f = tmp_path / "rg.txt"
    f.write_text("\ufeffrey reina 3.5\nhombre mujer 2\nrey mesa 0.1\n", encoding="utf-8")
    res = toy.evaluate_similarity(f)
    assert res.pairs_used == 3 and res.malformed == 0
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("niño niña 3\n".encode("latin-1"))
    with pytest.raises(DataError, match="latin-1"):
        toy.evaluate_similarity(latin)
    empty = toy.evaluate_analogies(tmp_path / "rg.txt")  # no 4-word lines: coverage report only
    assert empty.answered == 0 and empty.accuracy == 0.0 and empty.malformed == 3


def test_save_load_folder(toy, tmp_path):
    toy.counts = np.arange(len(toy))[::-1].copy()
    toy.save(tmp_path / "wv")
    back = lmlab.load(tmp_path / "wv")
    assert isinstance(back, WordVectors) and back.words == toy.words
    np.testing.assert_array_equal(back.vectors, toy.vectors)
    np.testing.assert_array_equal(back.counts, toy.counts)


def test_analogy_questions_in_memory(toy):
    """Tuples (a, b, c, d, section) or objects with .a .b .c .d .relation, as World.analogies()."""
    from dataclasses import dataclass

    @dataclass
    class Q:
        a: str
        b: str
        c: str
        d: str
        relation: str

    questions = [("hombre", "mujer", "rey", "reina", "género"), ("mujer", "hombre", "reina", "rey", "género")]
    res = toy.evaluate_analogies(questions)
    assert (res.correct, res.answered) == (2, 2) and res.sections == {"género": (2, 2)}
    # The second answer is "Rey" (0.9, 1.1): right when case is folded, wrong when it is not.
    assert toy.analogy("mujer", "hombre", "reina")[0][0] == "Rey"
    assert toy.evaluate_analogies(questions, case_insensitive=False).correct == 1
    res = toy.evaluate_analogies([Q("hombre", "mujer", "rey", "mesa", "x"), Q("a", "b", "c", "d", "y")])
    assert (res.correct, res.answered, res.skipped_oov) == (0, 1, 1)
