"""The lecture's ladder of language models, trained and compared on one corpus.

    result = run_ladder(LadderConfig.preset("quick"))        # the embedded world by default
    result = run_ladder(LadderConfig(), corpus="mis_textos/")  # or the user's text
    write_outputs(result, "ladder-out")                         # JSON + one HTML report
    run_ladder(LadderConfig(), models_dir="ladder-out/models")  # and keep every trained model

One word-level vocabulary and one train/valid/test split serve every model, so their test
perplexities count the same tokens (every word and every end of sentence, never the start) and
can be compared with each other and, on the world, with the exact entropy floor of the test text.
The rungs: unigram, bigram, Kneser-Ney trigram and 5-gram; Elman RNN, LSTM and GRU; a small GPT;
word2vec on the same text. Every model is scored (`lmlab.perplexity`), probed and sampled through
the one `LanguageModel` interface (`lmlab.models.base`), never per family, and can be saved under
`models_dir/<slug>` (`unigram`, `bigram`, `trigram`, `5gram`, `elman`, `lstm`, `gru`, `gpt`,
`word2vec`), ready for `lmlab generate`, `lmlab eval` and `lmlab.load`.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lmlab.config import Config
from lmlab.errors import DataError
from lmlab.models.base import perplexity, token_log_probs

log = logging.getLogger("lmlab")

Tokens = list[str]
MIN_TRAIN_TOKENS = 5_000


@dataclasses.dataclass
class LadderConfig(Config):
    """Sizes and budgets; `LadderConfig.preset("quick")` is the small run (about 2 minutes on 2 cores).

    Token counts are words and punctuation marks of training text; steps are optimiser steps.
    `threads` = torch intra-op threads on CPU: the ladder's models are small and latency-bound, so
    one thread is about as fast as two on an idle laptop, and a hundred times faster when another
    process holds a core (OpenMP workers then wait for each other at every operation).
    """

    seed: int = 0
    device: str = "auto"
    train_tokens: int = 1_000_000
    valid_tokens: int = 20_000
    test_tokens: int = 40_000
    min_count: int = 1
    rnn_steps: int = 1000
    gpt_steps: int = 1000
    batch_size: int = 32
    seq_len: int = 64
    rnn_hidden: int = 256
    gpt_d_model: int = 128
    gpt_layers: int = 4
    gpt_heads: int = 4
    w2v_epochs: int = 10
    probe_distances: tuple[int, ...] = (0, 4, 8, 16, 24, 32)
    probes_per_distance: int = 60
    max_new_tokens: int = 20
    threads: int = 1
    progress: bool = False

    PRESETS = {  # noqa: RUF012 - ClassVar inherited from Config
        "quick": {"train_tokens": 150_000, "valid_tokens": 5_000,
                  "test_tokens": 10_000, "rnn_steps": 500, "gpt_steps": 500, "rnn_hidden": 128,
                  "gpt_d_model": 96, "gpt_layers": 2, "w2v_epochs": 5, "probes_per_distance": 30,
                  "probe_distances": (0, 4, 8, 16, 32)},
        "full": {},
    }


@dataclasses.dataclass
class LadderData:
    """The split every rung uses. `floor`, `probes`, `analogies` exist on the world only."""

    source: str
    train: list[Tokens]
    valid: list[Tokens]
    test: list[Tokens]
    floor: Any = None
    probes: list[Any] = dataclasses.field(default_factory=list)
    analogies: list[Any] = dataclasses.field(default_factory=list)

    def n_tokens(self, split: str) -> int:
        return sum(len(s) for s in getattr(self, split))


@dataclasses.dataclass
class RungResult:
    """One model's figures. `ppl` is test perplexity per token (end of sentence included) over
    `n_tokens` scored test tokens; `slug` names its folder under `models_dir`, `path` is where it
    was saved (None when not)."""

    name: str
    slug: str
    family: str
    ppl: float
    bits_per_token: float
    n_tokens: int
    n_params: int
    train_seconds: float
    tokens_per_s: float
    path: str | None = None
    curve: tuple[list[float], list[float]] | None = None
    probe_accuracy: dict[int, float] = dataclasses.field(default_factory=dict)
    samples: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class LadderResult:
    config: LadderConfig
    source: str
    n_tokens: dict[str, int]
    n_sentences: dict[str, int]
    vocab_size: int
    floor: dict[str, float] | None
    rungs: list[RungResult]
    word2vec: dict[str, Any]
    prompts: list[str]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config.to_dict(), "source": self.source, "n_tokens": self.n_tokens,
                "n_sentences": self.n_sentences,
                "vocab_size": self.vocab_size, "floor": self.floor,
                "rungs": [r.to_dict() for r in self.rungs], "word2vec": self.word2vec,
                "prompts": self.prompts, "seconds": self.seconds}


# ------------------------------------------------------------------------------------ data
def world_data(config: LadderConfig) -> LadderData:
    """The embedded world's split, its exact floor, long-range probes and analogies."""
    from lmlab.data.world import World

    world = World(seed=config.seed)
    splits = world.lm_splits(config.train_tokens, config.valid_tokens, config.test_tokens,
                             unit="tokens")
    floor = World.entropy_floor(splits.test)
    probes = world.long_range_probes(distances=list(config.probe_distances),
                                     n_per_distance=config.probes_per_distance)
    return LadderData(
        source=f"embedded world (seed {config.seed})",
        train=[s.tokens for s in splits.train], valid=[s.tokens for s in splits.valid],
        test=[s.tokens for s in splits.test], floor=floor, probes=probes,
        analogies=world.analogies())


def corpus_data(path: str | Path, config: LadderConfig) -> LadderData:
    """A user's text file or folder: sentences, word tokens, a seeded 90/5/5 split of sentences."""
    from lmlab.data.corpus import iter_corpus_lines
    from lmlab.text.sentences import iter_sentences
    from lmlab.text.words import tokenize

    piece = config.seq_len - 2  # long sentences are cut so that each piece fits every model's context
    sentences = [t[i:i + piece] for t in (tokenize(s) for s in iter_sentences(iter_corpus_lines(path)))
                 for i in range(0, len(t), piece)]
    n_tokens = sum(map(len, sentences))
    if n_tokens < MIN_TRAIN_TOKENS or len(sentences) < 100:
        raise DataError(
            f"the corpus has {len(sentences):,} sentences and {n_tokens:,} tokens; the ladder needs "
            f"at least 100 sentences and {MIN_TRAIN_TOKENS:,} tokens", where=str(path),
            fix="pass more UTF-8 text (a file or a folder of .txt files)")
    random.Random(config.seed).shuffle(sentences)
    n_eval = max(len(sentences) // 20, 1)
    limit = _take_tokens(sentences[2 * n_eval:], config.train_tokens)
    return LadderData(source=str(path), train=limit, valid=sentences[:n_eval],
                      test=sentences[n_eval:2 * n_eval])


def _take_tokens(sentences: list[Tokens], n_tokens: int) -> list[Tokens]:
    out, total = [], 0
    for s in sentences:
        if total >= n_tokens:
            break
        out.append(s)
        total += len(s)
    return out


# ------------------------------------------------------------------------------------ rungs
#: (name, order, smoothing): Laplace for the unigram (Kneser-Ney has no lower order to back off
#: to there), interpolated modified Kneser-Ney above it.
NGRAM_RUNGS = (("unigrama", "unigram", 1, "add_k"), ("bigrama KN", "bigram", 2, "kneser_ney"),
               ("trigrama KN", "trigram", 3, "kneser_ney"), ("5-grama KN", "5gram", 5, "kneser_ney"))
RNN_RUNGS = (("RNN de Elman", "elman"), ("LSTM", "lstm"), ("GRU", "gru"))


def _ngram_rungs(data: LadderData, config: LadderConfig) -> list[tuple[RungResult, Any]]:
    from lmlab.models.ngram import NGramLM

    out = []
    test_texts = [" ".join(s) for s in data.test]
    for name, slug, order, smoothing in NGRAM_RUNGS:
        t0 = time.perf_counter()
        model = NGramLM(order=order, smoothing=smoothing, min_count=config.min_count).fit(data.train)
        seconds = time.perf_counter() - t0
        ppl = perplexity(model, test_texts)
        # A count model's "parameters": the n-grams it stores, over all orders.
        n_params = int(sum(len(k) for k in model.tables.keys)) if model.tables is not None else 0
        out.append((RungResult(name, slug, "n-grama", ppl.ppl, ppl.bits_per_token, ppl.n_tokens,
                               n_params, seconds, data.n_tokens("train") / max(seconds, 1e-9)),
                    model))
        log.info("%s: ppl %.2f (%.1fs)", name, ppl.ppl, seconds)
    return out


def _neural_rungs(data: LadderData, tokenizer: Any, config: LadderConfig, work: Path
                  ) -> list[tuple[RungResult, Any]]:
    from lmlab.models.rnn.lm import RNNLanguageModel, RNNLMConfig
    from lmlab.models.transformer.gpt import GPT, GPTConfig
    from lmlab.train.recipes import train_causal_lm
    from lmlab.train.trainer import TrainConfig

    train_texts = [" ".join(s) for s in data.train]
    valid_texts = [" ".join(s) for s in data.valid]
    test_texts = [" ".join(s) for s in data.test]
    vocab_size = tokenizer.get_vocab_size()
    specs: list[tuple[str, str, str, int, float, Any]] = [
        (name, cell, "RNN", config.rnn_steps, 3e-3 if cell != "elman" else 2e-3,
         RNNLMConfig(vocab_size=vocab_size, d_embed=config.rnn_hidden // 2, d_hidden=config.rnn_hidden,
                     cell=cell))
        for name, cell in RNN_RUNGS]
    # Rotary positions: measured better than learned ones on the world at these budgets
    # (benchmarks/exp_transformer_world.py), and with nothing to learn per position.
    specs.append(("GPT", "gpt", "Transformer", config.gpt_steps, 2e-3,
                  GPTConfig(vocab_size=vocab_size, max_seq_len=context_length(data, config),
                            d_model=config.gpt_d_model, n_layers=config.gpt_layers,
                            n_heads=config.gpt_heads, pos="rotary")))
    out = []
    for name, slug, family, steps, lr, model_cfg in specs:
        torch.manual_seed(config.seed)
        model = (RNNLanguageModel if family == "RNN" else GPT)(model_cfg, tokenizer)
        train_cfg = TrainConfig(max_steps=steps, lr=lr, warmup_steps=max(steps // 20, 1),
                                eval_every=max(steps // 4, 1), eval_batches=8, seed=config.seed,
                                device=config.device, out_dir=str(work / name.replace(" ", "_")),
                                progress=config.progress, tensorboard=False, log_every=max(steps // 50, 1))
        t0 = time.perf_counter()
        # An RNN trained on short windows still runs on sentences of any length; the Transformer
        # needs windows as long as the longest sentence it is scored on (it never saw the rotary
        # angles of longer distances).
        seq_len = context_length(data, config) if family == "Transformer" else config.seq_len
        model, history = train_causal_lm(model, train_texts, valid_texts, train_cfg, tokenizer=tokenizer,
                                         seq_len=seq_len, batch_size=config.batch_size)
        seconds = time.perf_counter() - t0
        model = model.to("cpu").eval()
        ppl = perplexity(model, test_texts)
        tokens_per_step = config.batch_size * seq_len
        tokens_seen = steps * tokens_per_step
        train_records = [r for r in history.records if r["split"] == "train"]
        curve = ([float(r["step"] * tokens_per_step) for r in train_records],
                 [float(r["loss"]) for r in train_records])
        n_params = sum(p.numel() for p in model.parameters())
        out.append((RungResult(name, slug, family, ppl.ppl, ppl.bits_per_token, ppl.n_tokens,
                               n_params, seconds, tokens_seen / max(seconds, 1e-9), curve=curve),
                    model))
        log.info("%s: ppl %.2f (%.1fs)", name, ppl.ppl, seconds)
    return out


def context_length(data: LadderData, config: LadderConfig) -> int:
    """Training window = the Transformer's context: `seq_len`, or longer so that every test
    sentence and probe (with <s> and </s>) fits: positions beyond the training window are untrained."""
    longest = max([len(s) for s in data.test] + [len(p.prompt) + 1 for p in data.probes])
    return max(config.seq_len, longest + 2)


# ------------------------------------------------------------------------------------ probes
@torch.no_grad()
def probe_accuracy(model: Any, probes: Sequence[Any], tokenizer: Any, *, batch_size: int = 64
                   ) -> dict[int, float]:
    """Long-range cloze accuracy by distance: the answer must outscore every distractor.

    Each choice is scored as log p(choice tokens | <s> prompt tokens) through `token_log_probs`,
    so n-grams, RNNs and Transformers are probed identically; sequences of equal length are
    scored in batches.
    """
    bos = tokenizer.token_to_id("<s>")
    rows = []  # (probe index, choice index, ids, number of prompt ids)
    for i, probe in enumerate(probes):
        prompt = [bos, *_ids(tokenizer, probe.prompt)]
        for j, choice in enumerate(probe.choices):
            target = _ids(tokenizer, [choice] if isinstance(choice, str) else choice)
            rows.append((i, j, prompt + target, len(prompt)))
    scores = np.full((len(probes), max(len(p.choices) for p in probes)), -np.inf)
    by_length: dict[int, list[tuple[int, int, list[int], int]]] = {}
    for row in rows:
        by_length.setdefault(len(row[2]), []).append(row)
    for group in by_length.values():
        for k in range(0, len(group), batch_size):
            chunk = group[k:k + batch_size]
            lp = token_log_probs(model, torch.tensor([r[2] for r in chunk], dtype=torch.long))
            for (i, j, _, n_prompt), row_lp in zip(chunk, lp, strict=True):
                scores[i, j] = float(row_lp[n_prompt - 1:].sum())
    by_distance: dict[int, list[bool]] = {}
    for i, probe in enumerate(probes):
        correct = int(np.argmax(scores[i])) == probe.choices.index(probe.answer)
        by_distance.setdefault(probe.distance, []).append(correct)
    return {d: float(np.mean(v)) for d, v in sorted(by_distance.items())}


def _ids(tokenizer: Any, tokens: Sequence[str]) -> list[int]:
    unk = tokenizer.token_to_id("[UNK]")
    return [tokenizer.token_to_id(t) if tokenizer.token_to_id(t) is not None else unk for t in tokens]


# ------------------------------------------------------------------------------------ samples
STRATEGIES: dict[str, dict[str, Any]] = {
    "voraz": {"strategy": "greedy"},
    "haz (4)": {"strategy": "beam", "num_beams": 4},
    "temperatura 0.8": {"strategy": "sample", "temperature": 0.8},
    "top-k 10": {"strategy": "sample", "top_k": 10},
    "top-p 0.9": {"strategy": "sample", "top_p": 0.9},
}


def sample_texts(model: Any, prompts: Sequence[Tokens], tokenizer: Any, config: LadderConfig
                 ) -> dict[str, list[str]]:
    """One continuation per prompt and decoding strategy (seeded), as text."""
    from lmlab.generate import GenerationConfig, generate

    bos, eos = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    ids = [[bos, *_ids(tokenizer, p)] for p in prompts]
    out = {}
    for label, settings in STRATEGIES.items():
        gen_cfg = GenerationConfig(max_new_tokens=config.max_new_tokens, stop_token_ids=(eos,),
                                   seed=config.seed, **settings)
        results = generate(model, ids, gen_cfg)
        out[label] = [" ".join(p + [tokenizer.id_to_token(i) for i in r.ids if i != eos])
                      for p, r in zip(prompts, results, strict=True)]
    return out


def _prompts(data: LadderData, n: int = 3) -> list[Tokens]:
    """The first two tokens of the first test sentences long enough to continue."""
    return [s[:2] for s in data.test if len(s) >= 6][:n]


# ------------------------------------------------------------------------------------ word2vec
def word2vec_rung(data: LadderData, config: LadderConfig) -> tuple[dict[str, Any], Any]:
    """Skip-gram on the training text: nearest words, analogy accuracy (world), 2-D projection."""
    from lmlab.vectors.word2vec import Word2VecConfig, train_word2vec

    t0 = time.perf_counter()
    # sample=1e-4: the world's frequent function words would otherwise crowd every window.
    w2v_cfg = Word2VecConfig(vector_size=50, window=5, sample=1e-4, min_count=max(config.min_count, 2),
                             epochs=config.w2v_epochs, seed=config.seed)
    wv = train_word2vec(data.train, w2v_cfg, device="cpu")
    seconds = time.perf_counter() - t0
    queries = [w for w in _query_words(data) if w in wv][:6]
    neighbours = {q: [(w, round(float(s), 3)) for w, s in wv.most_similar(q, topn=5)] for q in queries}
    out: dict[str, Any] = {"vocab_size": len(wv), "vector_size": w2v_cfg.vector_size,
                           "train_seconds": seconds, "neighbours": neighbours}
    if data.analogies:
        correct, total, examples = 0, 0, []
        for a in data.analogies:
            if all(w in wv for w in (a.a, a.b, a.c, a.d)):
                guess = wv.analogy(a.a, a.b, a.c, topn=1)[0][0]
                total += 1
                correct += guess == a.d
                if len(examples) < 6:
                    examples.append(f"{a.a}:{a.b} :: {a.c}:{guess} ({'✓' if guess == a.d else a.d})")
        out["analogy_accuracy"] = correct / total if total else None
        out["analogies_covered"] = f"{total}/{len(data.analogies)}"
        out["analogy_examples"] = examples
    return out, wv


def _query_words(data: LadderData) -> list[str]:
    """Words to show neighbours of: the analogy words of the world (two per relation), or frequent
    content words of a user's corpus."""
    if data.analogies:
        per_relation: dict[str, list[str]] = {}
        for a in data.analogies:
            words = per_relation.setdefault(a.relation, [])
            if a.a not in words and len(words) < 2:
                words.append(a.a)
        return list(dict.fromkeys(w for words in per_relation.values() for w in words))
    return _frequent_content_words(data.train, 6)


def _frequent_content_words(sentences: list[Tokens], n: int) -> list[str]:
    """Frequent alphabetic words longer than 3 letters (a cheap stand-in for stop-word removal)."""
    from collections import Counter

    counts = Counter(w for s in sentences[:20_000] for w in s if w.isalpha() and len(w) > 3)
    step = max(len(counts) // 200, 1)
    ranked = [w for w, _ in counts.most_common(200 * step)][::step]
    return ranked[:n]


# ------------------------------------------------------------------------------------ run
def run_ladder(config: LadderConfig | None = None, corpus: str | Path | None = None, *,
               work_dir: str | Path | None = None, models_dir: str | Path | None = None
               ) -> tuple[LadderResult, Any]:
    """Train and compare the whole ladder; returns the figures and the word vectors.

    Args:
        config: sizes and budgets (`LadderConfig.preset("quick")` for the short run).
        corpus: a text file or folder; None = the embedded world.
        work_dir: where training runs keep their token arrays and checkpoints (a temporary folder
            by default).
        models_dir: save every trained model under `models_dir/<slug>` (None: keep none).
    """
    config = config or LadderConfig()
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        return _run(config, corpus, work_dir, models_dir)
    finally:
        torch.set_num_threads(threads)


def _run(config: LadderConfig, corpus: str | Path | None, work_dir: str | Path | None,
         models_dir: str | Path | None) -> tuple[LadderResult, Any]:
    t0 = time.perf_counter()
    torch.manual_seed(config.seed)
    data = world_data(config) if corpus is None else corpus_data(corpus, config)
    log.info("data: %s, %d/%d/%d training/valid/test tokens", data.source, data.n_tokens("train"),
             data.n_tokens("valid"), data.n_tokens("test"))
    with tempfile.TemporaryDirectory(prefix="lmlab-ladder-") as tmp:
        work = Path(work_dir) if work_dir else Path(tmp)
        ngrams = _ngram_rungs(data, config)
        tokenizer = ngrams[0][1].vocab.to_tokenizer()  # the one vocabulary every rung shares
        neural = _neural_rungs(data, tokenizer, config, work)
    prompts = _prompts(data)
    rungs = []
    for rung, model in ngrams + neural:
        if data.probes:
            rung.probe_accuracy = probe_accuracy(model, data.probes, tokenizer)
        rung.samples = sample_texts(model, prompts, tokenizer, config)
        if models_dir is not None:
            rung.path = str(model.save(Path(models_dir) / rung.slug))
        rungs.append(rung)
    w2v, wv = word2vec_rung(data, config)
    if models_dir is not None:
        w2v["path"] = str(wv.save(Path(models_dir) / "word2vec"))
    floor = None
    if data.floor is not None:
        floor = {"ppl": data.floor.ppl, "bits_per_token": data.floor.bits_per_token}
    result = LadderResult(
        config=config, source=data.source,
        n_tokens={k: data.n_tokens(k) for k in ("train", "valid", "test")},
        n_sentences={k: len(getattr(data, k)) for k in ("train", "valid", "test")},
        vocab_size=tokenizer.get_vocab_size(), floor=floor, rungs=rungs, word2vec=w2v,
        prompts=[" ".join(p) for p in prompts], seconds=time.perf_counter() - t0)
    return result, wv
