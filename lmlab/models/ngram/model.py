"""N-gram language models (orders 1..n) behind the one LM interface of `lmlab.models.base`.

    lm = NGramLM(order=3, smoothing="kneser_ney").fit(["New York has amazing food", ...])
    lm.next_words("has amazing", k=4)          # [("food", 0.25), ...] for MLE
    lm.perplexity(test_sentences).ppl
    state, logits = lm.start(ids)               # logits (B, V) = natural-log probabilities

Counting is vectorised (`counts.py`), smoothing turns counts into per-order tables (`smoothing.py`)
and one recursion over the orders evaluates every model, in two forms kept equal by the tests:
a dense one (the whole distribution for each context: `start`/`step`/`teacher_forced_logits`)
and a target-only one over an id stream (corpus perplexity in seconds for millions of tokens).
Sentences are padded with one `<s>` and one `</s>` (the ARPA convention), so the first word of a
sentence is predicted from `<s>` alone, and `</s>` is predicted and scored.

Jurafsky & Martin, SLP3 ch. 3; Chen & Goodman (1998); Heafield et al. (2013) for KenLM's choices.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

from lmlab.errors import ConfigError, ModelFormatError, NotFittedError, check_choice, check_range
from lmlab.io.folder import SavableMixin, check_arrays
from lmlab.models.ngram.counts import CountTables, count_ngrams, index_of, stream_indices
from lmlab.models.ngram.smoothing import SMOOTHINGS, Level, Levels, build_levels
from lmlab.models.ngram.vocab import Vocabulary, sentences_to_stream, split_tokens

logger = logging.getLogger("lmlab")

__all__ = ["NGramLM"]

_CHUNK_TOKENS = 1 << 21  # stream scoring works on ~2M-token slices to bound memory


class NGramLM(SavableMixin):
    """Count-based n-gram language model.

    Args:
        order: n (1 = unigram); at least 1.
        smoothing: "kneser_ney" (interpolated modified KN), "mle", "add_k", "stupid_backoff"
            (scores, not probabilities: `normalised` is False), or "backoff" (tables read
            from an ARPA file, see `lmlab.models.ngram.arpa`).
        k: pseudo-count of add-k (1 = Laplace).
        alpha: stupid-backoff factor (0.4 in Brants et al. 2007).
        min_count: words seen fewer times map to `[UNK]`.
        max_size: keep at most this many vocabulary entries (specials included).
        discounts: fixed Kneser-Ney (D1, D2, D3+) per order instead of the estimated ones.
    """

    config_type: ClassVar[str] = "ngram"

    def __init__(self, order: int = 3, smoothing: str = "kneser_ney", *, k: float = 1.0,
                 alpha: float = 0.4, min_count: int = 1, max_size: int | None = None,
                 discounts: Sequence[Sequence[float]] | None = None) -> None:
        if not isinstance(order, int) or order < 1:
            raise ConfigError(f"order={order!r} is not valid", fix="use an integer >= 1 (3 = trigram)")
        self.order = order
        self.smoothing = check_choice("smoothing", smoothing, (*SMOOTHINGS, "backoff"))
        self.k = check_range("k", k, 0, low_open=True)
        self.alpha = check_range("alpha", alpha, 0, 1, low_open=True)
        self.min_count = int(check_range("min_count", min_count, 1))
        self.max_size = max_size
        if discounts is not None and len(discounts) != order:
            raise ConfigError(f"discounts has {len(discounts)} rows, order is {order}",
                              fix="give one (D1, D2, D3+) triple per order")
        self.discounts = None if discounts is None else [tuple(map(float, d)) for d in discounts]
        self.vocab: Vocabulary | None = None
        self.tables: CountTables | None = None
        self._keys: list[np.ndarray] | None = None
        self._levels: Levels | None = None
        self._tokenizer: tuple[Vocabulary, Any] | None = None

    # ---------------------------------------------------------------- training
    def fit(self, sentences: Iterable[str | Sequence[str]]) -> NGramLM:
        """Count a corpus: token lists, or strings with space-separated tokens; returns self."""
        if self.smoothing == "backoff":
            raise ConfigError('smoothing="backoff" models are read from ARPA files, not fitted',
                              fix='use lmlab.models.ngram.arpa.read_arpa, or smoothing="kneser_ney"')
        vocab, stream, n_sent = Vocabulary.build(sentences, min_count=self.min_count,
                                                 max_size=self.max_size)
        self.vocab = vocab
        self.tables = count_ngrams(stream, self.order, len(vocab), vocab.eos_id)
        logger.info("counted %d sentences, %d tokens, n-grams per order %s", n_sent,
                    len(stream) - n_sent, self.tables.sizes())
        self._build()
        return self

    def _build(self) -> None:
        assert self.tables is not None and self.vocab is not None
        self._keys = self.tables.keys
        self._levels = build_levels(self.tables, self.smoothing, bos=self.vocab.bos_id,
                                    excluded=self.excluded_ids, k=self.k, alpha=self.alpha,
                                    discounts=self.discounts)

    @property
    def excluded_ids(self) -> tuple[int, int]:
        """Ids never predicted: `[PAD]` and `<s>`."""
        return (Vocabulary.pad_id, Vocabulary.bos_id)

    @property
    def normalised(self) -> bool:
        """False for stupid backoff, whose scores do not sum to 1."""
        return self.smoothing != "stupid_backoff"

    @property
    def vocab_size(self) -> int:
        return len(self._vocab())

    # The LanguageModel protocol's declared parts: the vocabulary is the tokenizer (word level,
    # whitespace split), every sentence is `<s> ... </s>`, and any context length is read.
    max_seq_len: ClassVar[None] = None

    @property
    def tokenizer(self) -> Any:
        """A word-level `tokenizers.Tokenizer` of the vocabulary (made once per fit or load)."""
        vocab = self._vocab()
        if self._tokenizer is None or self._tokenizer[0] is not vocab:
            self._tokenizer = (vocab, vocab.to_tokenizer())
        return self._tokenizer[1]

    @property
    def bos_id(self) -> int:
        return self._vocab().bos_id

    @property
    def eos_id(self) -> int:
        return self._vocab().eos_id

    @property
    def used_discounts(self) -> list[tuple[float, float, float]] | None:
        """Kneser-Ney discounts (D1, D2, D3+) per order, None for other smoothings."""
        return None if self._levels is None else self._levels.discounts

    def _vocab(self) -> Vocabulary:
        if self.vocab is None:
            raise NotFittedError("the n-gram model is not fitted",
                                 fix="call .fit(sentences) or load a saved model first")
        return self.vocab

    def _lv(self) -> Levels:
        self._vocab()
        assert self._levels is not None
        return self._levels

    # ------------------------------------------------------- dense distributions
    def distribution(self, history: np.ndarray) -> np.ndarray:
        """p(. | history) for each row.

        Args:
            history: (R, n-1) int64 ids of the last n-1 tokens, left-padded with -1 when shorter.
        Returns:
            (R, V) float64 probabilities (scores for stupid backoff).
        """
        lv, V, n = self._lv(), self.vocab_size, self.order
        hist = np.asarray(history, dtype=np.int64)
        hist = hist.reshape(len(hist), n - 1) if hist.ndim != 2 else hist
        R = hist.shape[0]
        avail = (hist >= 0).sum(axis=1)
        p = np.tile(lv.base, (R, 1))
        for kk, level in enumerate(lv.levels, start=1):
            m = kk - 1
            rows = np.flatnonzero(avail == m if lv.longest_only and kk < n else avail >= m)
            if len(rows) == 0:
                continue
            if m == 0:
                if lv.mode == "interpolate":
                    p[rows] = level.gamma[0] * p[rows] + level.term[None, :]
                else:
                    p[rows] = level.term[None, :]
                continue
            ctx = index_of(self._keys, V, hist[rows, n - 1 - m :])
            found = ctx >= 0
            g = np.where(found, level.gamma[np.maximum(ctx, 0)], lv.gamma_unseen)
            p[rows] *= g[:, None]
            self._scatter(p, rows[found], ctx[found], level, lv.mode)
        return p

    @staticmethod
    def _scatter(p: np.ndarray, rows: np.ndarray, ctx: np.ndarray, level: Level, mode: str) -> None:
        """Add (interpolate) or write (backoff) the entries of each row's context into p."""
        starts, lens = level.ptr[ctx], level.ptr[ctx + 1] - level.ptr[ctx]
        total = int(lens.sum())
        if total == 0:
            return
        rr = np.repeat(rows, lens)
        ee = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)
        if mode == "interpolate":
            p[rr, level.words[ee]] += level.term[ee]
        else:
            p[rr, level.words[ee]] = level.term[ee]

    # ------------------------------------------------------ LanguageModel protocol
    def _history(self, ids: np.ndarray) -> np.ndarray:
        """(B, T) ids -> (B, n-1) last ids, left-padded with -1."""
        width = self.order - 1
        B, T = ids.shape
        out = np.full((B, width), -1, dtype=np.int64)
        take = min(T, width)
        if take:
            out[:, width - take :] = ids[:, T - take :]
        return out

    def _logits(self, hist: np.ndarray):
        import torch

        with np.errstate(divide="ignore"):
            return torch.from_numpy(np.log(self.distribution(hist)).astype(np.float32))

    def start(self, ids, capacity: int | None = None):
        """ids (B, T) int64 -> (state = last n-1 ids (B, <=n-1), log-probs (B, V) float32).

        `capacity` is accepted for the protocol and ignored: the state is n-1 ids at most."""
        import torch

        arr = np.asarray(ids.cpu() if hasattr(ids, "cpu") else ids, dtype=np.int64)
        if arr.ndim != 2:
            raise ConfigError(f"ids must have shape (B, T), got {arr.shape}", fix="add a batch dimension")
        state = torch.as_tensor(arr[:, max(arr.shape[1] - (self.order - 1), 0) :])
        logits = self._logits(self._history(arr))
        return state, logits.to(ids.device) if hasattr(ids, "device") else logits

    def step(self, state, ids):
        """Append ids (B,) to the state; return (state, log-probs (B, V))."""
        import torch

        nxt = torch.as_tensor(ids).reshape(-1, 1).to(state.device)
        full = torch.cat([state, nxt], dim=1)
        return self.start(full)

    def teacher_forced_logits(self, ids):
        """Log-probs after every prefix in one pass: ids (B, T) -> (B, T, V) float32."""

        arr = np.asarray(ids.cpu(), dtype=np.int64)
        B, T = arr.shape
        width = self.order - 1
        padded = np.concatenate([np.full((B, width), -1, dtype=np.int64), arr], axis=1)
        hist = np.lib.stride_tricks.sliding_window_view(padded, width, axis=1)[:, 1 : T + 1]
        logits = self._logits(hist.reshape(B * T, width))  # (B*T, V), or (1, V) for a unigram
        if logits.shape[0] != B * T:
            logits = logits.expand(B * T, -1)
        return logits.reshape(B, T, -1).to(ids.device)

    # ----------------------------------------------------- fast corpus scoring
    def stream_probs(self, stream: np.ndarray) -> np.ndarray:
        """Probability of every non-`<s>` token of an id stream given its in-sentence history.

        Args:
            stream: (L,) ids, `<s> ... </s>` per sentence (from `encode_sentences`).
        Returns:
            (number of non-`<s>` tokens,) float64 probabilities, in stream order.
        """
        stream = np.asarray(stream, dtype=np.int64)
        bos = self._vocab().bos_id
        if len(stream) and stream[0] != bos:
            raise ConfigError("a scoring stream must start with <s>", fix="use encode_sentences")
        # Cut at sentence starts about every _CHUNK_TOKENS tokens (memory ~ n * 8 bytes * chunk).
        starts = np.flatnonzero(stream == bos)
        wanted = np.searchsorted(starts, np.arange(0, len(stream), _CHUNK_TOKENS))
        cuts = [*np.unique(starts[np.minimum(wanted, len(starts) - 1)]).tolist(), len(stream)]
        if len(stream) == 0:
            return np.zeros(0)
        return np.concatenate([self._stream_chunk(stream[a:b]) for a, b in itertools.pairwise(cuts)])

    def _stream_chunk(self, stream: np.ndarray) -> np.ndarray:
        lv, V, n, vocab = self._lv(), self.vocab_size, self.order, self._vocab()
        idx = stream_indices(self._keys, V, stream, vocab.eos_id, n)
        pos = np.arange(len(stream))
        last_bos = np.maximum.accumulate(np.where(stream == vocab.bos_id, pos, 0))
        avail = np.minimum(pos - last_bos, n - 1)
        targets = np.flatnonzero(stream != vocab.bos_id)
        p = lv.base[stream[targets]].copy()
        av = avail[targets]
        for kk, level in enumerate(lv.levels, start=1):
            m = kk - 1
            sel = np.flatnonzero(av == m if lv.longest_only and kk < n else av >= m)
            t = targets[sel]
            s = t - m
            ent = idx[kk - 1][s]
            ctx = np.zeros_like(s) if m == 0 else idx[m - 1][s]
            g = np.where(ctx >= 0, level.gamma[np.maximum(ctx, 0)], lv.gamma_unseen)
            term = np.where(ent >= 0, level.term[np.maximum(ent, 0)], 0.0)
            if lv.mode == "interpolate":
                p[sel] = g * p[sel] + term
            else:
                p[sel] = np.where(ent >= 0, term, g * p[sel])
        return p

    def corpus_log_prob(self, sequences: Sequence[Sequence[int]]):
        """`lmlab.perplexity`'s fast path: the exact total over `<s> ... </s>` id sequences.

        Returns a `PerplexityResult`, or None when a sequence is not one whole sentence (then the
        generic start/step scoring runs) or the scores are not probabilities (stupid backoff).
        """
        vocab = self._vocab()
        if not self.normalised:
            return None
        bos, eos = vocab.bos_id, vocab.eos_id
        for seq in sequences:
            if len(seq) < 2 or seq[0] != bos or seq[-1] != eos or bos in seq[1:] or eos in seq[:-1]:
                return None
        return self._stream_result(np.fromiter(itertools.chain.from_iterable(sequences),
                                               dtype=np.int64))

    def _stream_result(self, stream: np.ndarray):
        from lmlab.models.base import PerplexityResult

        probs = self.stream_probs(stream)
        with np.errstate(divide="ignore"):
            return PerplexityResult(log_prob=float(np.log(probs).sum()), n_tokens=int(probs.size))

    def encode_sentences(self, sentences: Iterable[str | Sequence[str]]) -> np.ndarray:
        """Sentences -> id stream `<s> ... </s>` per sentence (unknown words -> `[UNK]`)."""
        return sentences_to_stream(self._vocab(), sentences)

    def perplexity(self, sentences: Iterable[str | Sequence[str]]):
        """Corpus perplexity (every word and `</s>` predicted; `<s>` conditioned on).

        Returns a `lmlab.models.base.PerplexityResult` (natural-log totals). For stupid backoff
        the scores are not probabilities and the figure is not a perplexity: a ConfigError says so.
        """
        if not self.normalised:
            raise ConfigError("stupid backoff scores are not probabilities: no perplexity",
                              fix='use smoothing="kneser_ney" (or "add_k") to measure perplexity')
        return self._stream_result(self.encode_sentences(sentences))

    def score(self, sentence: str | Sequence[str]) -> float:
        """Natural-log probability (score for stupid backoff) of one sentence incl. `</s>`."""
        with np.errstate(divide="ignore"):
            return float(np.log(self.stream_probs(self.encode_sentences([sentence]))).sum())

    def next_words(self, context: str | Sequence[str], k: int = 10, *,
                   bos: bool = True) -> list[tuple[str, float]]:
        """The k most probable next tokens after `context` (with `<s>` prepended when bos)."""
        vocab = self._vocab()
        ids = ([vocab.bos_id] if bos else []) + vocab.encode(split_tokens(context))
        p = self.distribution(self._history(np.array([ids], dtype=np.int64)))[0]
        top = np.argsort(-p, kind="stable")[:k]
        return [(vocab.words[i], float(p[i])) for i in top if p[i] > 0]

    # -------------------------------------------------------------- save/load
    def _config(self) -> dict[str, Any]:
        return {"order": self.order, "smoothing": self.smoothing, "k": self.k, "alpha": self.alpha,
                "min_count": self.min_count, "max_size": self.max_size,
                "discounts": self.discounts, "vocab_size": self.vocab_size,
                "sizes": [len(k) for k in self._keys or []]}

    def folder_parts(self):
        vocab = self._vocab()
        if self.tables is None:
            from lmlab.models.ngram.backoff import backoff_arrays

            arrays = backoff_arrays(self)
        else:
            arrays = {}
            for kk in range(1, self.order + 1):
                arrays[f"counts.{kk}.keys"] = self.tables.keys[kk - 1]
                arrays[f"counts.{kk}.values"] = self.tables.counts[kk - 1]
        return self._config(), arrays, vocab.to_tokenizer()

    @classmethod
    def from_folder_parts(cls, config, arrays, tokenizer, *, where: str) -> NGramLM:
        try:
            model = cls(order=config["order"], smoothing=config["smoothing"], k=config["k"],
                        alpha=config["alpha"], min_count=config["min_count"],
                        max_size=config.get("max_size"), discounts=config.get("discounts"))
            sizes = [int(s) for s in config["sizes"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"config.json lacks or mangles an n-gram setting ({exc})",
                                   where=where, fix="save the model again with lmlab") from exc
        if tokenizer is None:
            raise ModelFormatError("tokenizer.json is missing", where=where,
                                   fix="save the model again with lmlab")
        model.vocab = Vocabulary.from_tokenizer(tokenizer, where=where)
        if model.smoothing == "backoff":
            from lmlab.models.ngram.backoff import restore_backoff

            restore_backoff(model, arrays, sizes, where=where)
            return model
        expected = {}
        for kk, size in enumerate(sizes, start=1):
            expected[f"counts.{kk}.keys"] = (size,)
            expected[f"counts.{kk}.values"] = (size,)
        check_arrays(expected, arrays, where=where)
        model.tables = CountTables(len(model.vocab), [arrays[f"counts.{kk}.keys"].astype(np.int64)
                                                      for kk in range(1, model.order + 1)],
                                   [arrays[f"counts.{kk}.values"].astype(np.int64)
                                    for kk in range(1, model.order + 1)])
        model._build()
        return model
