"""WordVectors: a vocabulary with one dense vector per word, and what the course does with them.

Nearest neighbours by cosine, `similarity`, `doesnt_match`, analogies a:b :: c:? by 3CosAdd
(Mikolov et al. 2013, "Linguistic Regularities in Continuous Space Word Representations") and
3CosMul (Levy & Goldberg 2014, "Linguistic Regularities in Sparse and Explicit Word
Representations"), evaluation on analogy files (questions-words format) and word-similarity
files (Spearman's rho), and sentence vectors by sum or mean of word vectors.

Notable choices:

- evaluation follows gensim's `evaluate_word_analogies` / `evaluate_word_pairs` (questions with
  an unknown word are skipped and counted; matching is case-insensitive by default, a word then
  standing for its most frequent casing; the three question words are never an answer), so
  accuracies are comparable with published gensim figures; coverage is always reported;
- bad input never crashes a run: malformed lines are counted and skipped, unknown query words
  raise `DataError` naming the word;
- saved as an lmlab model folder ("word_vectors"): the vectors, the counts and the words (UTF-8,
  newline separated, as a uint8 array) in `model.safetensors`; or in the word2vec text/binary
  formats through `lmlab.io.word2vec_format`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from lmlab.errors import ConfigError, DataError, ModelFormatError, check_choice
from lmlab.io.folder import SavableMixin, check_arrays
from lmlab.vectors.similarity import l2_normalize, top_k

log = logging.getLogger("lmlab")

AnalogyMethod = Literal["3cosadd", "3cosmul"]
Pooling = Literal["mean", "sum"]


@dataclasses.dataclass
class AnalogyResult:
    """Accuracy on an analogy file. `coverage` = answered / well-formed questions."""

    accuracy: float
    correct: int
    answered: int
    questions: int
    skipped_oov: int
    malformed: int
    sections: dict[str, tuple[int, int]]  # name -> (correct, answered)

    @property
    def coverage(self) -> float:
        return self.answered / self.questions if self.questions else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "coverage": self.coverage}


@dataclasses.dataclass
class SimilarityResult:
    """Correlation between human scores and cosine similarities on a word-pair file."""

    spearman: float
    pearson: float
    pairs_used: int
    pairs: int
    skipped_oov: int
    malformed: int

    @property
    def coverage(self) -> float:
        return self.pairs_used / self.pairs if self.pairs else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "coverage": self.coverage}


class WordVectors(SavableMixin):
    """Words and their vectors (V, D), most frequent first when counts are known.

        >>> wv = WordVectors(["rey", "reina", "hombre", "mujer"],
        ...                  np.array([[1, 1], [1, -1], [0.1, 1], [0.1, -1]], np.float32))
        >>> wv.analogy("hombre", "mujer", "rey")[0][0]
        'reina'
    """

    config_type: ClassVar[str] = "word_vectors"

    def __init__(self, words: Sequence[str], vectors: Any, counts: Any = None) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise DataError(f"{len(words)} words but vectors of shape {vectors.shape}",
                            fix="pass one row of vectors per word")
        self.words = list(words)
        self.vectors = vectors
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise DataError("the vocabulary has repeated words", fix="pass each word once")
        self._unit: np.ndarray | None = None

    # ------------------------------------------------------------ basics
    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self.word_index(word)]

    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    @property
    def unit_vectors(self) -> np.ndarray:
        """(V, D) rows scaled to unit length (cached)."""
        if self._unit is None:
            self._unit = l2_normalize(self.vectors).astype(np.float32)
        return self._unit

    def word_index(self, word: str) -> int:
        """Row of `word`; DataError naming it (and a casing that exists) when unknown."""
        i = self.index.get(word)
        if i is None:
            hint = next((w for w in (word.lower(), word.capitalize(), word.upper()) if w in self.index),
                        None)
            fix = f"did you mean {hint!r}?" if hint else "check the spelling or train with a lower min_count"
            raise DataError(f"unknown word {word!r} (not among the {len(self)} words of the vocabulary)",
                            fix=fix)
        return i

    # ------------------------------------------------------- similarities
    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words, in [-1, 1]."""
        u = self.unit_vectors
        return float(u[self.word_index(a)] @ u[self.word_index(b)])

    def most_similar(self, positive: str | Sequence[str] = (), negative: str | Sequence[str] = (),
                     topn: int = 10) -> list[tuple[str, float]]:
        """Words closest by cosine to the mean of the unit `positive` minus `negative` vectors.

        The query words themselves are excluded. `most_similar(["mujer", "rey"], ["hombre"])` is
        the 3CosAdd analogy hombre:mujer :: rey:?.
        """
        pos, neg = _as_list(positive), _as_list(negative)
        if not pos and not neg:
            raise ConfigError("most_similar needs at least one word", fix="pass positive=[...]")
        idx = [self.word_index(w) for w in pos + neg]
        u = self.unit_vectors
        query = u[idx[:len(pos)]].sum(0) - u[idx[len(pos):]].sum(0)
        scores = u @ query / max(float(np.linalg.norm(query)), 1e-12)
        return self._rank(scores, idx, topn)

    def most_similar_cosmul(self, positive: Sequence[str] = (), negative: Sequence[str] = (),
                            topn: int = 10) -> list[tuple[str, float]]:
        """3CosMul: argmax_d Π cos'(d, p) / (Π cos'(d, n) + 1e-6), cos' = (1 + cos) / 2."""
        pos, neg = _as_list(positive), _as_list(negative)
        if not pos:
            raise ConfigError("most_similar_cosmul needs at least one positive word",
                              fix="pass positive=[...]")
        idx = [self.word_index(w) for w in pos + neg]
        u = self.unit_vectors
        sims = (1.0 + u @ u[idx].T) / 2.0                                  # (V, n_words)
        scores = sims[:, :len(pos)].prod(1) / (sims[:, len(pos):].prod(1) + 1e-6)
        return self._rank(scores, idx, topn)

    def _rank(self, scores: np.ndarray, exclude: Sequence[int], topn: int) -> list[tuple[str, float]]:
        scores = np.asarray(scores, dtype=np.float64).copy()
        scores[list(exclude)] = -np.inf
        n_left = len(self) - len(set(exclude))
        if n_left <= 0:
            return []
        idx, vals = top_k(scores, min(topn, n_left))
        return [(self.words[i], float(v)) for i, v in zip(idx.tolist(), vals.tolist(), strict=True)]

    def analogy(self, a: str, b: str, c: str, *, topn: int = 1,
                method: AnalogyMethod = "3cosadd") -> list[tuple[str, float]]:
        """a is to b as c is to ?: e.g. `analogy("hombre", "mujer", "rey")` -> [("reina", ...)]."""
        check_choice("method", method, ("3cosadd", "3cosmul"))
        if method == "3cosadd":
            return self.most_similar([b, c], [a], topn=topn)
        return self.most_similar_cosmul([b, c], [a], topn=topn)

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word furthest (by cosine) from the mean of the unit vectors of `words`.

        Unknown words are ignored with a warning; DataError when fewer than two are known.
        """
        known = [w for w in words if w in self.index]
        if len(known) < len(words):
            log.warning("doesnt_match: ignoring unknown words %s", [w for w in words if w not in self.index])
        if len(known) < 2:
            raise DataError(f"doesnt_match needs at least 2 known words, got {len(known)}",
                            fix="pass more words from the vocabulary")
        u = self.unit_vectors[[self.index[w] for w in known]]
        mean = u.mean(0)
        return known[int(np.argmin(u @ (mean / max(float(np.linalg.norm(mean)), 1e-12))))]

    # --------------------------------------------------- sentence vectors
    def sentence_vector(self, tokens: Sequence[str], how: Pooling = "mean") -> np.ndarray:
        """Sum or mean of the vectors of the known tokens: (D,). Zeros when none is known.

        Summing (or averaging) is order-blind: "el perro muerde al hombre" and "el hombre muerde
        al perro" get the same vector, unlike a concatenation of word vectors.
        """
        check_choice("how", how, ("mean", "sum"))
        rows = [self.index[t] for t in tokens if t in self.index]
        if not rows:
            return np.zeros(self.vector_size, dtype=np.float32)
        total = self.vectors[rows].sum(0)
        return total / len(rows) if how == "mean" else total

    def sentence_vectors(self, sentences: Iterable[Sequence[str]], how: Pooling = "mean") -> np.ndarray:
        """(N, D) sentence vectors of tokenised sentences."""
        out = [self.sentence_vector(s, how) for s in sentences]
        return np.stack(out) if out else np.zeros((0, self.vector_size), dtype=np.float32)

    # ----------------------------------------------------------- evaluation
    def _lookup(self, case_insensitive: bool, restrict_vocab: int | None) -> dict[str, int]:
        n = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        if not case_insensitive:
            return {w: i for i, w in enumerate(self.words[:n])}
        # The most frequent casing wins (words are sorted by frequency).
        return {w.upper(): i for i, w in reversed(list(enumerate(self.words[:n])))}

    def evaluate_analogies(self, source: str | os.PathLike[str] | Iterable[Any], *,
                           method: AnalogyMethod = "3cosadd", case_insensitive: bool = True,
                           restrict_vocab: int | None = 300_000, encoding: str = "utf-8",
                           batch_size: int = 512) -> AnalogyResult:
        """Accuracy on a questions-words file (`: section` lines, then `a b c d` per line), or on
        questions given as (a, b, c, d[, section]) tuples or objects with .a .b .c .d .relation
        (e.g. `World(seed).analogies()`).

        A question counts when its four words are known (among the first `restrict_vocab`);
        the answer is the best word other than a, b, c. Malformed lines are skipped and counted.
        """
        check_choice("method", method, ("3cosadd", "3cosmul"))
        if isinstance(source, str | os.PathLike):
            lines = _read_lines(source, encoding)
        else:
            lines = list(_question_lines(source))
        look = self._lookup(case_insensitive, restrict_vocab)
        n_vocab = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        section = "(none)"
        questions: list[tuple[str, int, int, int, int]] = []
        sections: dict[str, list[int]] = {}
        n_questions = oov = malformed = 0
        for line in lines:
            if line.startswith(":"):
                section = line[1:].strip() or "(unnamed)"
                continue
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 4:
                malformed += 1
                continue
            n_questions += 1
            if case_insensitive:
                parts = [p.upper() for p in parts]
            rows = [look.get(p) for p in parts]
            if any(r is None for r in rows):
                oov += 1
                continue
            questions.append((section, *rows))  # type: ignore[arg-type]
            sections.setdefault(section, [0, 0])
        folded = [w.upper() if case_insensitive else w for w in self.words[:n_vocab]]
        u = self.unit_vectors[:n_vocab]
        correct_total = 0
        for s in range(0, len(questions), batch_size):
            batch = questions[s:s + batch_size]
            q = np.array([row[1:] for row in batch])                       # (n, 4): a, b, c, d
            if method == "3cosadd":
                target = u[q[:, 1]] - u[q[:, 0]] + u[q[:, 2]]
                scores = target @ u.T                                      # (n, V)
            else:
                sim = [(1.0 + u[q[:, j]] @ u.T) / 2.0 for j in range(3)]
                scores = sim[1] * sim[2] / (sim[0] + 1e-6)
            scores[np.arange(len(q))[:, None], q[:, :3]] = -np.inf
            idx, _ = top_k(scores, min(5, n_vocab))
            for row, cand in zip(batch, idx, strict=True):
                ignore = {folded[r] for r in row[1:4]}
                predicted = next((folded[i] for i in cand if folded[i] not in ignore), None)
                ok = predicted == folded[row[4]]
                sections[row[0]][1] += 1
                sections[row[0]][0] += ok
                correct_total += ok
        answered = len(questions)
        return AnalogyResult(
            accuracy=correct_total / answered if answered else 0.0, correct=correct_total,
            answered=answered, questions=n_questions, skipped_oov=oov, malformed=malformed,
            sections={k: (v[0], v[1]) for k, v in sections.items()})

    def evaluate_similarity(self, path: str | os.PathLike[str], *, case_insensitive: bool = True,
                            restrict_vocab: int | None = 300_000,
                            encoding: str = "utf-8") -> SimilarityResult:
        """Spearman (and Pearson) correlation of cosine with human scores on `w1 w2 score` lines.

        Fields are separated by tabs when the line has one (so multi-word entries work), else by
        whitespace; `#` lines are comments. Pairs with an unknown word are skipped and counted.
        """
        from scipy import stats

        look = self._lookup(case_insensitive, restrict_vocab)
        gold, model = [], []
        n_pairs = oov = malformed = 0
        u = self.unit_vectors
        for line in _read_lines(path, encoding):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t") if "\t" in line else line.split()
            try:
                a, b, score = (p.strip() for p in parts)
                value = float(score)
            except ValueError:
                malformed += 1
                continue
            n_pairs += 1
            if case_insensitive:
                a, b = a.upper(), b.upper()
            if a not in look or b not in look:
                oov += 1
                continue
            gold.append(value)
            model.append(float(u[look[a]] @ u[look[b]]))
        if len(gold) >= 2 and np.ptp(gold) > 0 and np.ptp(model) > 0:
            spearman = float(stats.spearmanr(gold, model).statistic)
            pearson = float(stats.pearsonr(gold, model).statistic)
        else:
            spearman = pearson = float("nan")
        return SimilarityResult(spearman=spearman, pearson=pearson, pairs_used=len(gold),
                                pairs=n_pairs, skipped_oov=oov, malformed=malformed)

    # ------------------------------------------------------------ saving
    def folder_parts(self) -> tuple[dict[str, Any], dict[str, np.ndarray], None]:
        words = "\n".join(self.words).encode("utf-8")
        arrays = {"vectors": self.vectors, "words_utf8": np.frombuffer(words, dtype=np.uint8).copy()}
        if self.counts is not None:
            arrays["counts"] = self.counts
        return {"vocab_size": len(self), "vector_size": self.vector_size}, arrays, None

    @classmethod
    def from_folder_parts(cls, config: dict[str, Any], arrays: dict[str, Any], tokenizer: Any, *,
                          where: str) -> WordVectors:
        try:
            shape = (int(config["vocab_size"]), int(config["vector_size"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"config.json lacks a valid {exc}", where=where,
                                   fix="save the vectors again") from exc
        expected = {"vectors": shape, "words_utf8": arrays.get("words_utf8", np.zeros(0)).shape,
                    "counts": (shape[0],)}
        check_arrays(expected, arrays, where=where, optional=frozenset({"counts"}))
        words = bytes(arrays["words_utf8"]).decode("utf-8").split("\n") if shape[0] else []
        if len(words) != shape[0]:
            raise ModelFormatError(f"{len(words)} words stored for {shape[0]} vectors", where=where,
                                   fix="save the vectors again")
        return cls(words, arrays["vectors"], arrays.get("counts"))

    def save_word2vec_format(self, path: str | os.PathLike[str], *, binary: bool = False) -> Path:
        """Write the word2vec text (or binary) format, readable by gensim and word2vec.c."""
        from lmlab.io.word2vec_format import write_word2vec

        return write_word2vec(path, self.words, self.vectors, binary=binary)

    @classmethod
    def load_word2vec_format(cls, path: str | os.PathLike[str], *, binary: bool | None = None,
                             limit: int | None = None) -> WordVectors:
        """Read a word2vec text or binary file (binary=None guesses from the content)."""
        from lmlab.io.word2vec_format import read_word2vec

        words, vectors = read_word2vec(path, binary=binary, limit=limit)
        return cls(words, vectors)


def _as_list(words: str | Sequence[str]) -> list[str]:
    return [words] if isinstance(words, str) else list(words)


def _question_lines(questions: Iterable[Any]):
    """questions-words lines from (a, b, c, d[, section]) tuples or Analogy-like objects."""
    section = None
    for q in questions:
        if hasattr(q, "a"):
            words, sec = (q.a, q.b, q.c, q.d), getattr(q, "relation", "(none)")
        else:
            words, sec = tuple(q[:4]), (q[4] if len(q) > 4 else "(none)")
        if sec != section:
            section = sec
            yield f": {sec}"
        yield " ".join(words)


def _read_lines(path: str | os.PathLike[str], encoding: str) -> list[str]:
    file = Path(path)
    if not file.is_file():
        raise DataError("evaluation file not found", where=str(file), fix="check the path")
    try:
        text = file.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise DataError(f"not valid {encoding} at byte {exc.start}", where=str(file),
                        fix="pass the right encoding (e.g. encoding='latin-1' / --encoding latin-1)") from exc
    return text.removeprefix("\ufeff").splitlines()


def load_word_vectors(path: str | os.PathLike[str], *, binary: bool | None = None) -> WordVectors:
    """Open word vectors: an lmlab folder ("word_vectors") or a word2vec text/binary file."""
    file = Path(path)
    if file.is_dir():
        return WordVectors.load(file)
    if not file.exists():
        raise DataError("word vectors not found", where=str(file),
                        fix="pass an lmlab vectors folder or a word2vec .txt/.bin file")
    return WordVectors.load_word2vec_format(file, binary=binary)
