"""word2vec: skip-gram and CBOW with negative sampling, trained on PyTorch (CPU or GPU).

References: Mikolov et al. 2013, "Efficient Estimation of Word Representations in Vector Space"
(arXiv:1301.3781) and "Distributed Representations of Words and Phrases and their
Compositionality" (NeurIPS 2013); the original `word2vec.c`; Jurafsky & Martin, SLP3 ch. 6.8.

The objective for one (context word c, target word w) pair and K negatives n_1..n_K drawn from the
unigram distribution raised to 0.75:

    L = log σ(v_c · u_w) + Σ_k log σ(-v_c · u_{n_k})

where v are the input vectors (`W_in`, the embeddings we keep) and u the output vectors (`W_out`).
Its gradient is written out by hand (no autograd, no optimiser state): with g = (label - σ(s)) · lr
for each of the 1+K scores s,

    u_o += g_o · v_c          (for the target and each negative)
    v_c += Σ_o g_o · u_o

which is the classic sparse SGD update (the steps live in `lmlab.vectors.sgns`). Each update
touches only the rows in the batch, applied with `index_add_` (rows repeated in a batch get the
sum of their gradients).

Notable choices, all as in `word2vec.c` and gensim unless said otherwise:

- vocabulary: words with count >= `min_count`, sorted by decreasing count (ties: first seen);
  out-of-vocabulary words are dropped before windowing;
- subsampling of frequent words: a word of count f is kept with probability
  (sqrt(f / t) + 1) · t / f, t = `sample` · corpus size (the word2vec.c formula);
- dynamic window: each centre draws an effective window uniformly in 1..`window`;
- negatives: unigram^`ns_exponent` sampled exactly with Walker's alias method (no big table);
- learning rate: linear decay from `alpha` to `min_alpha` over all epochs' words;
- CBOW averages the context vectors and adds the hidden-layer gradient to each context word;
- batches: (context, target) pairs are generated per chunk of text with vectorised numpy (no
  Python loop over words) and updated about `batch_size` pairs at a time; a row repeated more
  than `max_row_updates` times in one batch has its summed update scaled down (see `sgns.row_scale`),
  the one departure from sequential SGD that large batches need;
- skip-gram negatives: with `shared_negatives=True` (default) the contexts of one centre share
  its K negatives (`sgns_window_step`: one small matrix product per window, 3-4x fewer CPU
  seconds than pair by pair); `shared_negatives=False` draws K per pair as word2vec.c does
  (`sgns_step`). Both optimise the same objective in expectation;
- CPU threads: `workers` threads train different chunks on the shared weights without locks
  ("Hogwild!", Recht et al. 2011), as gensim does; torch releases the GIL inside its kernels.
  With `workers=1` a run is reproducible bit for bit, whatever was fitted before in the process:
  each fit keeps its state in its own `_Training`, draws from its own seeded generators (never
  the global ones), and puts back the global torch settings it changes (one intra-op thread,
  flushed denormals; see `torch_training_settings`) as they were, also when it fails.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal

import numpy as np

from lmlab.config import Config
from lmlab.errors import DataError, check_choice, check_range
from lmlab.vectors.keyed import WordVectors
from lmlab.vectors.sgns import cbow_step, sgns_step, sgns_window_step

log = logging.getLogger("lmlab")

Architecture = Literal["skipgram", "cbow"]
MAX_SENTENCE_LEN = 10_000  # longer "sentences" are cut, as gensim does
CHUNK_WORDS = 20_000  # raw words per unit of work (a thread's job)
LOSS_EVERY = 8  # the reported loss is measured on every 8th batch


@dataclasses.dataclass
class Word2VecConfig(Config):
    """Hyperparameters; names follow gensim's where one exists (`sg` becomes `architecture`)."""

    architecture: Architecture = "skipgram"
    vector_size: int = 100
    window: int = 5
    negative: int = 5
    ns_exponent: float = 0.75
    sample: float = 1e-3
    min_count: int = 5
    max_vocab_size: int | None = None
    alpha: float = 0.025
    min_alpha: float = 1e-4
    epochs: int = 5
    batch_size: int | None = None  # pairs per update; None: see `resolved_batch_size`
    # A row's summed update per batch counts as at most this many steps (None: no cap). Lower caps
    # slow frequent words down: at 32, large batches lost ~0.003 analogy accuracy.
    max_row_updates: int | None = 128
    shared_negatives: bool = True
    workers: int = 2
    seed: int = 0

    PRESETS = {  # noqa: RUF012 - ClassVar inherited from Config
        "skipgram": {"architecture": "skipgram"},
        "cbow": {"architecture": "cbow"},
        "tiny": {"vector_size": 16, "window": 2, "min_count": 1, "epochs": 20},
    }

    def __post_init__(self) -> None:
        check_choice("architecture", self.architecture, ("skipgram", "cbow"))
        for name in ("vector_size", "window", "epochs", "workers", "min_count"):
            check_range(name, getattr(self, name), 1)
        if self.batch_size is not None:
            check_range("batch_size", self.batch_size, 1)
        check_range("negative", self.negative, 1)
        check_range("sample", self.sample, 0)
        check_range("alpha", self.alpha, 0, low_open=True)
        check_range("min_alpha", self.min_alpha, 0, self.alpha)
        if self.max_vocab_size is not None:
            check_range("max_vocab_size", self.max_vocab_size, 1)
        if self.max_row_updates is not None:
            check_range("max_row_updates", self.max_row_updates, 1)


def resolved_batch_size(config: Word2VecConfig, device_type: str, n_words: int) -> int:
    """Pairs per update: `config.batch_size`, or by default 16384 on a GPU (throughput) and on
    CPU n_words / 64 clipped to 512..2048 for skip-gram and to 2048..8192 for CBOW (one example
    per centre); the clipping keeps small corpora, which need the updates more than the speed, on
    small batches. On a million Spanish words these (2048, 8192) matched or beat the accuracy of
    smaller batches (768 skip-gram pairs, 2048 CBOW) at 1.2-1.7x their speed, given the row cap
    of 128 (see `Word2VecConfig.max_row_updates`)."""
    if config.batch_size is not None:
        return config.batch_size
    if device_type != "cpu":
        return 16384
    low, high = (512, 2048) if config.architecture == "skipgram" else (2048, 8192)
    return int(min(high, max(low, n_words // 64)))


@dataclasses.dataclass
class TrainStats:
    """What a `fit` did: sizes, time, speed (raw corpus words per second) and mean loss.

    `pairs` counts training examples: (context, centre) pairs for skip-gram, centres for CBOW.
    """

    corpus_words: int
    vocab_size: int
    epochs: int
    pairs: int
    seconds: float
    words_per_s: float
    loss: float


class Vocabulary:
    """Words kept for training, by decreasing count, with their counts."""

    def __init__(self, words: list[str], counts: np.ndarray) -> None:
        self.words = words
        self.counts = counts
        self.index = {w: i for i, w in enumerate(words)}

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_count: int,
              max_vocab_size: int | None = None) -> tuple[Vocabulary, int]:
        """Count words; returns the vocabulary and the total number of raw words."""
        counter: Counter[str] = Counter()
        for sentence in sentences:
            counter.update(sentence)
        total = sum(counter.values())
        kept = [(w, c) for w, c in counter.items() if c >= min_count]
        kept.sort(key=lambda wc: -wc[1])  # stable: ties keep first-seen order
        if max_vocab_size is not None:
            kept = kept[:max_vocab_size]
        return cls([w for w, _ in kept], np.array([c for _, c in kept], dtype=np.int64)), total


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec.c subsampling: P(keep w) = (sqrt(f/t) + 1) · t/f, t = sample · Σf, capped at 1."""
    if sample <= 0:
        return np.ones(len(counts))
    t = sample * counts.sum()
    f = counts.astype(np.float64)
    return np.minimum(1.0, (np.sqrt(f / t) + 1.0) * t / f)


def alias_table(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias method: sample i ~ probs in O(1) as `j if u < accept[j] else alias[j]`.

    Args:
        probs: (V,) non-negative weights summing to 1.
    Returns:
        accept (V,) float probabilities and alias (V,) int64 indices.
    """
    n = len(probs)
    scaled = probs * n
    accept = np.ones(n)
    alias = np.arange(n, dtype=np.int64)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        accept[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    return accept, alias


def context_matrix(n: int, sentence_ids: np.ndarray, windows: np.ndarray,
                   max_window: int) -> tuple[np.ndarray, np.ndarray]:
    """Context positions of every centre position in one vectorised step.

    Args:
        n: number of (kept) tokens.
        sentence_ids: (n,) sentence of each token; windows never cross sentences.
        windows: (n,) effective window of each centre, in 1..max_window.
        max_window: the configured window.
    Returns:
        positions (n, 2·max_window) int64 and valid (n, 2·max_window) bool: row i lists the
        positions i-W..i-1, i+1..i+W; valid marks those inside the centre's window and sentence.

    >>> pos, ok = context_matrix(3, np.array([0, 0, 1]), np.array([1, 1, 1]), 1)
    >>> pos[ok].tolist()
    [1, 0]
    """
    offsets = np.concatenate([np.arange(-max_window, 0), np.arange(1, max_window + 1)])
    pos = np.arange(n)[:, None] + offsets[None, :]
    valid = (np.abs(offsets)[None, :] <= windows[:, None]) & (pos >= 0) & (pos < n)
    clipped = np.clip(pos, 0, max(n - 1, 0))
    valid &= sentence_ids[clipped] == sentence_ids[:, None]
    return pos, valid


class Word2Vec:
    """Skip-gram / CBOW with negative sampling.

        >>> w2v = Word2Vec(Word2VecConfig(min_count=1, vector_size=8, epochs=1))
        >>> w2v = w2v.fit([["el", "gato", "come"], ["el", "perro", "come"]])
        >>> w2v.wv.vectors.shape
        (4, 8)

    After `fit`: `wv` (WordVectors of the input embeddings), `output_vectors_` (V, D) numpy,
    `vocab_`, `stats_`.
    """

    def __init__(self, config: Word2VecConfig | None = None, *, device: str = "cpu",
                 progress: bool = False) -> None:
        self.config = config or Word2VecConfig()
        self.device = device
        self.progress = progress

    # ------------------------------------------------------------------ data
    def _encode(self, sentences: Iterable[Sequence[str]]) -> tuple[Vocabulary, int, np.ndarray,
                                                                   np.ndarray]:
        cfg = self.config
        sentences = sentences if isinstance(sentences, list) else list(sentences)
        for i, s in enumerate(sentences[:100]):
            if isinstance(s, str):
                raise DataError(f"sentence {i} is a string, not a list of tokens",
                                fix="pass token lists, e.g. [line.split() for line in lines]")
        vocab, total = Vocabulary.build(sentences, cfg.min_count, cfg.max_vocab_size)
        if total == 0:
            raise DataError("the corpus is empty (no tokens)", where="word2vec",
                            fix="pass a corpus with text")
        if len(vocab.words) < 2:
            raise DataError(
                f"only {len(vocab.words)} word(s) occur at least min_count={cfg.min_count} times "
                f"in {total} tokens", where="word2vec", fix="lower min_count or use a larger corpus")
        index = vocab.index
        ids: list[int] = []
        sids: list[int] = []
        sid = 0
        for sentence in sentences:
            for start in range(0, len(sentence), MAX_SENTENCE_LEN):
                piece = [index[w] for w in sentence[start:start + MAX_SENTENCE_LEN] if w in index]
                ids.extend(piece)
                sids.extend([sid] * len(piece))
                sid += 1
        sids_arr = np.asarray(sids, dtype=np.int64)
        if not (np.diff(sids_arr) == 0).any():
            raise DataError("no sentence has two in-vocabulary words, so there are no (word, context) "
                            "pairs to learn from", where="word2vec",
                            fix="pass longer sentences (token lists), or lower min_count")
        return vocab, total, np.asarray(ids, dtype=np.int64), sids_arr

    # ----------------------------------------------------------------- train
    def fit(self, sentences: Iterable[Sequence[str]]) -> Word2Vec:
        """Build the vocabulary and train.

        The training state (weights, negative-sampling tables, learning-rate position, counters)
        lives in a `_Training` made for this call, and the global torch settings that training
        changes (intra-op threads, flushing of denormals) are put back as they were when it ends,
        also when it fails: fits in one process do not interfere, and a seed gives the same vectors
        in any order of fits (with `workers=1`).

        Args:
            sentences: token lists (an iterable of lists of str); read once into memory as ids.
        Returns:
            self, with `wv`, `output_vectors_`, `vocab_`, `stats_` set.
        """
        from lmlab.device import resolve_device

        cfg = self.config
        device = resolve_device(self.device)
        vocab, total, ids, sids = self._encode(sentences)
        training = _Training(cfg, device, vocab, total, ids, sids)
        t0 = time.perf_counter()
        with torch_training_settings(cpu=device.type == "cpu"):
            training.run(self.progress)
        seconds = time.perf_counter() - t0
        self.vocab_ = vocab
        self.output_vectors_ = training.w_out.cpu().numpy()
        self.wv = WordVectors(vocab.words, training.w_in.cpu().numpy(), counts=vocab.counts)
        self.stats_ = TrainStats(
            corpus_words=total, vocab_size=len(vocab.words), epochs=cfg.epochs, pairs=training.pairs,
            seconds=seconds, words_per_s=cfg.epochs * total / max(seconds, 1e-9),
            loss=training.loss_sum / max(training.loss_n, 1))
        log.info("word2vec: %d words x %d epochs in %.1f s (%.0f words/s), loss %.4f",
                 total, cfg.epochs, seconds, self.stats_.words_per_s, self.stats_.loss)
        return self


def flush_denormal_enabled() -> bool:
    """Whether the calling thread flushes float32 denormals to zero.

    `torch.set_flush_denormal` sets the CPU's FTZ/DAZ flags (MXCSR on x86) of the calling thread
    and has no getter, so this probes them: 1e-39 is a float32 denormal (the smallest normal is
    about 1.18e-38), and 1e-39 · 1.0 stays non-zero unless flushing is on. Threads started later
    inherit the flags of the thread that starts them (Linux).
    """
    import torch

    return bool((torch.tensor([1e-39], dtype=torch.float32) * 1.0).item() == 0.0)


@contextlib.contextmanager
def torch_training_settings(*, cpu: bool) -> Iterator[None]:
    """Global torch settings for word2vec training, restored exactly on exit (also on error).

    Inside: denormals flushed to zero (tiny gradients would otherwise crawl as denormals) and, on
    CPU, one intra-op thread (batches are too small for intra-op threads to pay off, and
    busy-waiting OpenMP threads on a loaded machine slow every op down; parallelism comes from
    the workers). On exit: the caller's thread count and flush-denormal state (probed with
    `flush_denormal_enabled`, since torch has no getter) as they were.
    """
    import torch

    threads = torch.get_num_threads()
    flushing = flush_denormal_enabled()
    try:
        torch.set_flush_denormal(True)
        if cpu:
            torch.set_num_threads(1)
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        torch.set_flush_denormal(flushing)


class _Training:
    """The state of one `Word2Vec.fit`: weights, negative-sampling and subsampling tables, the
    learning-rate position (words done out of all epochs' words), loss and pair counters. One is
    made per call, so nothing of a fit outlives it on the model or the module; its worker threads
    share it, the counters under `lock`."""

    def __init__(self, cfg: Word2VecConfig, device, vocab: Vocabulary, total: int, ids: np.ndarray,
                 sids: np.ndarray) -> None:
        import torch

        self.cfg, self.device, self.total, self.ids, self.sids = cfg, device, total, ids, sids
        V, D = len(vocab.words), cfg.vector_size
        gen = torch.Generator().manual_seed(cfg.seed)
        self.w_in = ((torch.rand(V, D, generator=gen) - 0.5) / D).to(device)
        self.w_out = torch.zeros(V, D, device=device)
        probs = vocab.counts.astype(np.float64) ** cfg.ns_exponent
        accept, alias = alias_table(probs / probs.sum())
        self.accept = torch.as_tensor(accept, dtype=torch.float32, device=device)
        self.alias = torch.as_tensor(alias, device=device)
        self.keep = keep_probabilities(vocab.counts, cfg.sample)
        # Chunks of ~CHUNK_WORDS raw words aligned to sentences: the unit of work and of lr decay.
        boundaries = np.flatnonzero(np.diff(sids)) + 1
        starts = [0]
        for b in boundaries:
            if b - starts[-1] >= CHUNK_WORDS:
                starts.append(int(b))
        bounds = [*starts, len(ids)]
        self.chunks = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)
                       if bounds[i + 1] > bounds[i]]
        self.total_work = cfg.epochs * len(ids)
        self.done = 0
        self.loss_sum, self.loss_n, self.pairs = 0.0, 0, 0
        self.lock = threading.Lock()
        self.workers = cfg.workers if device.type == "cpu" else 1
        self.batch_size = resolved_batch_size(cfg, device.type, len(ids))

    def run(self, progress: bool) -> None:
        """Train all epochs (call inside `torch_training_settings`). An error in a worker thread
        stops the other workers at their next chunk and is raised here."""
        import torch

        from lmlab.progress import progress_bar

        cfg, device, ids, sids, workers = self.cfg, self.device, self.ids, self.sids, self.workers
        n_raw_per_id = self.total / max(len(ids), 1)  # raw words per in-vocabulary word, for progress
        errors: list[BaseException] = []
        with progress_bar(cfg.epochs * self.total, "word2vec", unit="word", enabled=progress) as bar:
            for epoch in range(cfg.epochs):
                jobs = [(c, np.random.default_rng([cfg.seed, epoch, k]),
                         torch.Generator(device=device).manual_seed(cfg.seed * 1000 + epoch * 97 + k))
                        for k, c in enumerate(self.chunks)]

                def run(job_list, bar=bar):
                    for (a, b), np_rng, t_gen in job_list:
                        if errors:  # another worker failed: stop
                            return
                        self.train_chunk(ids[a:b], sids[a:b], np_rng, t_gen)
                        bar.advance((b - a) * n_raw_per_id)

                def worker(job_list):
                    # Inherited from the starting thread on Linux, set again to be sure elsewhere;
                    # the flags die with the thread.
                    torch.set_flush_denormal(True)
                    try:
                        run(job_list)
                    except BaseException as e:  # raised again in the main thread
                        errors.append(e)

                if workers == 1:
                    run(jobs)
                else:
                    threads = [threading.Thread(target=worker, args=(jobs[k::workers],))
                               for k in range(workers)]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                    if errors:
                        raise errors[0]

    def negatives(self, shape: tuple[int, ...], gen) -> object:
        """Negative samples from unigram^0.75 via the alias table: (shape) int64."""
        import torch

        v = self.accept.shape[0]
        dev = self.accept.device
        j = torch.randint(0, v, shape, generator=gen, device=dev)
        u = torch.rand(shape, generator=gen, device=dev)
        return torch.where(u < self.accept[j], j, self.alias[j])

    def train_chunk(self, ids: np.ndarray, sids: np.ndarray, rng: np.random.Generator, gen) -> None:
        """Subsample, window and train on one chunk of in-vocabulary ids."""
        import torch

        cfg, w_in, w_out = self.cfg, self.w_in, self.w_out
        n_chunk = len(ids)
        keep = rng.random(n_chunk) < self.keep[ids]
        kid, ksid = ids[keep], sids[keep]
        n = len(kid)
        if n < 2:
            self.advance(n_chunk)
            return
        windows = rng.integers(1, cfg.window + 1, n)
        pos, valid = context_matrix(n, ksid, windows, cfg.window)
        dev = w_in.device
        # Learning rate at the start and end of this chunk (linear decay over all work).
        with self.lock:
            done = self.done
        frac0, frac1 = done / self.total_work, (done + n_chunk) / self.total_work
        lr0 = cfg.alpha - (cfg.alpha - cfg.min_alpha) * frac0
        lr1 = cfg.alpha - (cfg.alpha - cfg.min_alpha) * min(frac1, 1.0)
        loss_sum, loss_n = 0.0, 0
        rows = np.flatnonzero(valid.any(1))            # centres with at least one context
        n_rows = len(rows)
        vr = valid[rows]                                # (R, 2W)
        per_row = vr.sum(1)
        targets = torch.as_tensor(kid[rows], device=dev)
        if cfg.architecture == "skipgram" and not cfg.shared_negatives:
            target = torch.as_tensor(np.repeat(kid[rows], per_row), device=dev)  # centre (output)
            context = torch.as_tensor(kid[pos[rows][vr]], device=dev)            # context (input)
            m = len(target)
            B = self.batch_size
            for s in range(0, m, B):
                sampled = (s // B) % LOSS_EVERY == 0
                ls = sgns_step(w_in, w_out, context[s:s + B], target[s:s + B],
                               self.negatives((min(B, m - s), cfg.negative), gen),
                               lr0 + (lr1 - lr0) * s / m,
                               max_row_updates=cfg.max_row_updates, with_loss=sampled)
                if sampled:
                    loss_sum += ls
                    loss_n += min(B, m - s)
            pairs = m
        else:
            # Batches of B centres, everything converted to tensors once per chunk.
            ends = np.concatenate([[0], np.cumsum(per_row)])  # pair offsets of each centre
            B = max(1, self.batch_size // (cfg.window + 1))  # centres per batch (~batch_size pairs)
            if cfg.architecture == "skipgram":
                ctx_pad = torch.as_tensor(kid[np.clip(pos[rows], 0, n - 1)], device=dev)
                valid_t = torch.as_tensor(vr, device=dev)
            else:
                row_of = torch.as_tensor(np.nonzero(vr)[0], device=dev)
                offsets = torch.as_tensor(ends[:-1], device=dev)
                ctx_flat = torch.as_tensor(kid[pos[rows][vr]], device=dev)
            all_negs = self.negatives((n_rows, cfg.negative), gen)  # one draw for the chunk
            for s in range(0, n_rows, B):
                e = min(s + B, n_rows)
                lr = lr0 + (lr1 - lr0) * s / n_rows
                sampled = (s // B) % LOSS_EVERY == 0
                negs = all_negs[s:e]
                if cfg.architecture == "skipgram":
                    ls = sgns_window_step(w_in, w_out, ctx_pad[s:e], valid_t[s:e], targets[s:e], negs,
                                          lr, max_row_updates=cfg.max_row_updates, with_loss=sampled)
                    n_ex = int(ends[e] - ends[s])
                else:
                    a, b = int(ends[s]), int(ends[e])
                    ls = cbow_step(w_in, w_out, ctx_flat[a:b], row_of[a:b] - s, targets[s:e], negs,
                                   lr, offsets=offsets[s:e] - a, max_row_updates=cfg.max_row_updates,
                                   with_loss=sampled)
                    n_ex = e - s
                if sampled:
                    loss_sum += ls
                    loss_n += n_ex
            pairs = int(ends[-1]) if cfg.architecture == "skipgram" else n_rows
        with self.lock:
            self.loss_sum += loss_sum
            self.loss_n += loss_n
            self.pairs += pairs
        self.advance(n_chunk)

    def advance(self, n: int) -> None:
        with self.lock:
            self.done += n


def train_word2vec(sentences: Iterable[Sequence[str]], config: Word2VecConfig | None = None, *,
                   device: str = "cpu", progress: bool = False) -> WordVectors:
    """Train word2vec and return its word vectors (a shortcut for `Word2Vec(...).fit(...).wv`)."""
    return Word2Vec(config, device=device, progress=progress).fit(sentences).wv

