"""ARPA back-off language-model files: write lmlab n-gram models, read any ARPA model.

    \\data\\
    ngram 1=5
    ngram 2=7
    \\1-grams:
    -0.8239  </s>
    -99      <s>      -0.3010
    -1.2041  casa     -0.2218
    ...
    \\end\\

Each line holds log10 p(w | h), the n-gram, and (for n-grams that are contexts of a longer one)
log10 of the back-off weight b(h): p(w | h) = p_listed(h w) if listed, else b(h) p(w | h'),
with b = 1 for contexts not listed (SRILM's ngram-format(5); KenLM reads and writes the same).

An interpolated model (Kneser-Ney) is written exactly: listed probabilities are the interpolated
ones and b(h) is the interpolation weight gamma(h). MLE writes -99 (log10 of ~0) for b(h).
`[UNK]` is written `<unk>`, the name every ARPA tool expects. Reading builds an `NGramLM` with
smoothing "backoff" (tables in `lmlab.models.ngram.backoff`), so every lmlab tool (perplexity,
generation, spelling) works on KenLM or SRILM models.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lmlab.errors import ConfigError, DataError, ModelFormatError
from lmlab.models.ngram.backoff import install_backoff
from lmlab.models.ngram.counts import index_of
from lmlab.models.ngram.model import NGramLM
from lmlab.models.ngram.vocab import Vocabulary
from lmlab.text.special import LM_SPECIALS, UNK

__all__ = ["read_arpa", "write_arpa"]

ARPA_UNK = "<unk>"
LOG10_ZERO = -99.0


def _full_probs(model: NGramLM) -> list[np.ndarray]:
    """p(w | h) of every listed entry, order by order (interpolated through lower orders)."""
    lv, tables = model._lv(), model.tables
    assert tables is not None
    out = []
    for k, level in enumerate(lv.levels, start=1):
        if k == 1:
            out.append(level.gamma[0] * lv.base + level.term)
        else:
            lower = out[-1][tables.suffixes(k)]
            out.append(level.term + level.gamma[tables.contexts(k)] * lower)
    return out


def _log10(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.maximum(np.log10(x), LOG10_ZERO)


def write_arpa(model: NGramLM, path: str | os.PathLike[str]) -> Path:
    """Write a fitted Kneser-Ney or MLE model (or one read from ARPA) as an ARPA file."""
    vocab = model._vocab()
    if model.tables is None:
        probs, weights, grams = _backoff_tables(model)
    else:
        if model.smoothing not in ("kneser_ney", "mle"):
            raise ConfigError(f"smoothing {model.smoothing!r} has no exact ARPA form",
                              fix='export a "kneser_ney" or "mle" model')
        tables = model.tables
        probs = _full_probs(model)
        lv = model._lv()
        weights = []
        for k in range(1, model.order + 1):
            if k < model.order:
                ptr = lv.levels[k].ptr
                has_next = ptr[1:] > ptr[:-1]
                weights.append(np.where(has_next, lv.levels[k].gamma, np.nan))
            else:
                weights.append(np.full(len(tables.keys[k - 1]), np.nan))
        grams = _gram_ids(model._keys, len(vocab))
    names = np.array([ARPA_UNK if w == UNK else w for w in vocab.words], dtype=object)
    keep1 = np.ones(len(vocab), dtype=bool)
    keep1[vocab.pad_id] = False
    lp = [_log10(p) for p in probs]
    lp[0][vocab.bos_id] = LOG10_ZERO
    target = Path(path)
    with open(target, "w", encoding="utf-8") as fh:
        fh.write("\n\\data\\\n")
        sizes = [int(keep1.sum())] + [len(g) for g in grams[1:]]
        for k, size in enumerate(sizes, start=1):
            fh.write(f"ngram {k}={size}\n")
        for k in range(1, model.order + 1):
            fh.write(f"\n\\{k}-grams:\n")
            rows = np.flatnonzero(keep1) if k == 1 else np.arange(len(grams[k - 1]))
            text = [" ".join(t) for t in names[grams[k - 1][rows]].tolist()]
            bo = weights[k - 1][rows]
            bo_txt = np.where(np.isnan(bo), "", np.char.add("\t", np.char.mod("%.7g", _log10(
                np.nan_to_num(bo, nan=1.0))).astype(object)))
            lp_txt = np.char.mod("%.7g", lp[k - 1][rows])
            fh.writelines(f"{a}\t{b}{c}\n" for a, b, c in zip(lp_txt.tolist(), text, bo_txt.tolist(),
                                                             strict=True))
        fh.write("\n\\end\\\n")
    return target


def _gram_ids(keys: list[np.ndarray], V: int) -> list[np.ndarray]:
    """Word ids of every entry: item k-1 is (n_k, k)."""
    grams = [np.arange(V, dtype=np.int64)[:, None]]
    for k in range(2, len(keys) + 1):
        grams.append(np.concatenate([grams[-1][keys[k - 1] // V], (keys[k - 1] % V)[:, None]], axis=1))
    return grams


def _backoff_tables(model: NGramLM) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    lv = model._lv()
    probs = [lvl.term for lvl in lv.levels]
    weights = []
    for k in range(1, model.order + 1):
        if k < model.order:
            weights.append(lv.levels[k].gamma.copy())
        else:
            weights.append(np.full(len(probs[k - 1]), np.nan))
    return probs, weights, _gram_ids(model._keys, model.vocab_size)


def read_arpa(path: str | os.PathLike[str]) -> NGramLM:
    """Read an ARPA file (e.g. from KenLM's lmplz) as an `NGramLM` with smoothing "backoff"."""
    file = Path(path)
    if not file.is_file():
        raise DataError("ARPA file not found", where=str(file), fix="check the path")
    sections: dict[int, list[list[str]]] = {}
    declared: dict[int, int] = {}
    current = 0
    with open(file, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("\\"):
                if line.endswith("-grams:"):
                    current = int(line[1:].split("-")[0])
                    sections[current] = []
                elif line == "\\end\\":
                    break
                continue
            if current == 0:
                if line.startswith("ngram "):
                    k, _, n = line[6:].partition("=")
                    declared[int(k)] = int(n)
                continue
            parts = line.split()
            if len(parts) not in (current + 1, current + 2):
                raise ModelFormatError(f"line {number} of a {current}-gram section has {len(parts)} fields",
                                       where=str(file), fix="is this an ARPA file?")
            sections[current].append(parts)
    order = max(sections, default=0)
    if order == 0 or sorted(sections) != list(range(1, order + 1)):
        raise ModelFormatError("no \\1-grams: ... sections", where=str(file), fix="is this an ARPA file?")
    for k, n in declared.items():
        if len(sections.get(k, [])) != n:
            raise ModelFormatError(f"header says ngram {k}={n} but the section has {len(sections.get(k, []))}",
                                   where=str(file), fix="the file is truncated: write it again")
    words = list(LM_SPECIALS)
    seen = set(words) | {ARPA_UNK}
    for parts in sections[1]:
        if parts[1] not in seen:
            words.append(parts[1])
            seen.add(parts[1])
    vocab = Vocabulary(words)
    V = len(vocab)
    keys: list[np.ndarray] = []
    probs: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for k in range(1, order + 1):
        rows = sections[k]
        get = vocab.index.get
        ids = np.array([[get(t, -1) for t in p[1 : k + 1]] for p in rows], dtype=np.int64).reshape(-1, k)
        if np.any(ids < 0):
            bad = rows[int(np.flatnonzero((ids < 0).any(axis=1))[0])]
            raise ModelFormatError(f"the {k}-gram {' '.join(bad[1:k + 1])!r} uses a word missing from "
                                   "the 1-grams", where=str(file), fix="is the file complete?")
        lp = np.array([float(p[0]) for p in rows])
        bo = np.array([float(p[k + 1]) if len(p) == k + 2 else 0.0 for p in rows])
        prob = np.where(lp <= LOG10_ZERO, 0.0, 10.0 ** lp)
        if k == 1:
            key = ids[:, 0]
            size = V
        else:
            ctx = index_of(keys, V, ids[:, :-1])
            if np.any(ctx < 0):
                bad = int(np.flatnonzero(ctx < 0)[0])
                raise ModelFormatError(f"the {k}-gram {' '.join(rows[bad][1:k + 1])!r} has no listed prefix "
                                       "(a pruned model)", where=str(file),
                                       fix="build the ARPA without pruning (lmplz without --prune)")
            key = ctx * V + ids[:, -1]
            size = len(key)
        order_ix = np.argsort(key, kind="stable")
        if k == 1:
            full_p, full_w = np.zeros(V), np.ones(V)
            full_p[key], full_w[key] = prob, 10.0 ** bo
            keys.append(np.arange(V, dtype=np.int64))
            probs.append(full_p)
            weights.append(full_w)
        else:
            keys.append(key[order_ix])
            probs.append(prob[order_ix])
            weights.append(10.0 ** bo[order_ix])
        if len(np.unique(keys[-1])) != size:
            raise ModelFormatError(f"a {k}-gram is listed twice", where=str(file), fix="fix the file")
    model = NGramLM(order=order, smoothing="backoff")
    model.vocab = vocab
    install_backoff(model, keys, probs, weights)
    return model
