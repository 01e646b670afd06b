"""Recipes: tokenizer + model + data + Trainer for the RNN tasks, one function each.

    model, history = train_rnn_lm(train_texts, valid_texts, RNNLMConfig(cell="lstm"), TrainConfig(...))
    lmlab.perplexity(model, test_texts)          # every recipe's model reads text with its tokenizer
    model, history = train_rnn_classifier(texts, labels, valid_texts, valid_labels, ...)
    model, history = train_siamese(a_texts, b_texts, scores, ...)

Each trains a tokenizer on the training texts (`lmlab.text.tokenizers.train_tokenizer`), encodes
the data once, builds the model with the tokenizer's vocabulary, runs the one Trainer with the
task's objective and returns the trained model (tokenizer attached, ready to `save`) and the
history. The command line (`lmlab train rnn`, `lmlab classify`, `lmlab similarity`) only parses
arguments around these functions.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from lmlab.data.tokens import PaddedBatches, RandomWindows, encode_ids, encode_to_array
from lmlab.errors import DataError
from lmlab.models.rnn.classifier import RNNClassifier, RNNClassifierConfig
from lmlab.models.rnn.common import load_pretrained_embeddings
from lmlab.models.rnn.lm import RNNLanguageModel, RNNLMConfig
from lmlab.models.rnn.siamese import SiameseConfig, SiameseEncoder
from lmlab.text import special
from lmlab.train.objectives import causal_lm, classification, pair_similarity
from lmlab.train.trainer import History, TrainConfig, Trainer

log = logging.getLogger("lmlab")


def fit_tokenizer(texts: Sequence[str], kind: str = "word", vocab_size: int | None = None,
                  min_frequency: int = 1, *, specials: Sequence[str] = special.LM_SPECIALS) -> Any:
    """A tokenizer trained on `texts` whose first ids are `specials` ([PAD]=0, [UNK], <s>, </s>)."""
    from lmlab.text.tokenizers import train_tokenizer

    if not texts:
        raise DataError("no training texts", fix="pass a non-empty corpus")
    return train_tokenizer(kind, list(texts), vocab_size=vocab_size, min_frequency=min_frequency,
                           special_tokens=list(specials))


def special_ids(tokenizer: Any) -> tuple[int, int, int]:
    """(pad, bos, eos) ids of a tokenizer trained by `fit_tokenizer`."""
    return tuple(tokenizer.token_to_id(t) for t in (special.PAD, special.BOS, special.EOS))  # type: ignore[return-value]


def train_rnn_lm(train_texts: Sequence[str], valid_texts: Sequence[str] | None = None,
                 model_config: RNNLMConfig | None = None, train_config: TrainConfig | None = None, *,
                 tokenizer: Any = None, tokenizer_kind: str = "word", vocab_size: int | None = None,
                 seq_len: int = 64, batch_size: int = 32, word_vectors: Any = None,
                 ) -> tuple[RNNLanguageModel, History]:
    """Train an RNN language model on sentences (one text each; <s>/</s> around every one).

    A tokenizer is trained on `train_texts` unless one is given; then `train_causal_lm` runs.
    """
    train_config = train_config or TrainConfig()
    tokenizer = tokenizer or fit_tokenizer(train_texts, tokenizer_kind, vocab_size)
    model_config = (model_config or RNNLMConfig()).replace(vocab_size=tokenizer.get_vocab_size())
    torch.manual_seed(train_config.seed)
    model = RNNLanguageModel(model_config, tokenizer)
    if word_vectors is not None:
        load_pretrained_embeddings(model.embed, tokenizer, word_vectors)
    return train_causal_lm(model, train_texts, valid_texts, train_config, tokenizer=tokenizer,
                           seq_len=seq_len, batch_size=batch_size)


def train_causal_lm(model: torch.nn.Module, train_texts: Sequence[str],
                    valid_texts: Sequence[str] | None = None, train_config: TrainConfig | None = None,
                    *, tokenizer: Any, seq_len: int = 64, batch_size: int = 32,
                    ) -> tuple[torch.nn.Module, History]:
    """Train any causal language model (RNN, GPT ...) on sentences with next-token prediction.

    Training reads random windows of `seq_len` tokens from the concatenated corpus (<s> text </s>
    per sentence, a memory-mapped array under `train_config.out_dir`, or a temporary folder);
    evaluation scores whole validation sentences from <s>, as perplexity does. Returns the model
    with the best evaluated weights (when kept) in eval mode, and the history.
    """
    train_config = train_config or TrainConfig()
    _, bos, eos = special_ids(tokenizer)
    work = Path(train_config.out_dir) if train_config.out_dir else Path(tempfile.mkdtemp(prefix="lmlab-"))
    tokens = encode_to_array(train_texts, tokenizer, work / "data" / "train.tokens", bos_id=bos,
                             eos_id=eos, progress=train_config.progress)
    train = RandomWindows(tokens, seq_len=min(seq_len, len(tokens) - 1), batch_size=batch_size,
                          seed=train_config.seed)
    valid = None
    if valid_texts:  # whole sentences from <s>, cut to the model's context (+1: inputs and targets)
        context = getattr(model, "max_seq_len", None)
        ids = encode_ids(valid_texts, tokenizer, bos_id=bos, eos_id=eos,
                         max_len=None if context is None else context + 1)
        valid = PaddedBatches({"ids": ids}, batch_size=64)
    history = Trainer(model, causal_lm, train, valid, train_config).fit()
    load_best(model, train_config)
    return model.eval(), history


def load_best(model: torch.nn.Module, config: TrainConfig) -> None:
    """Replace the final weights by the best evaluated ones when a best checkpoint exists."""
    if not config.out_dir or not config.keep_best:
        return
    best = Path(config.out_dir) / "checkpoints" / "best"
    if best.exists():
        from lmlab.train.checkpoint import load_checkpoint

        load_checkpoint(best, model, restore_rng=False)
        log.info("kept the best evaluated weights (%s)", best)


def _check_aligned(**columns: Sequence[Any]) -> None:
    sizes = {k: len(v) for k, v in columns.items()}
    if len(set(sizes.values())) != 1 or not next(iter(sizes.values())):
        raise DataError(f"inputs must be non-empty and aligned, got sizes {sizes}",
                        fix="give one label/score per text")


def train_rnn_classifier(texts: Sequence[str], labels: Sequence[str], valid_texts: Sequence[str] = (),
                         valid_labels: Sequence[str] = (), model_config: RNNClassifierConfig | None = None,
                         train_config: TrainConfig | None = None, *, tokenizer_kind: str = "word",
                         vocab_size: int | None = 20_000, min_frequency: int = 2, batch_size: int = 32,
                         word_vectors: Any = None) -> tuple[RNNClassifier, History]:
    """Train a (bi)RNN text classifier; labels are strings (their sorted set names the classes)."""
    _check_aligned(texts=texts, labels=labels)
    train_config = train_config or TrainConfig()
    names = sorted(set(labels))
    unknown = sorted(set(valid_labels) - set(names))
    if unknown:
        raise DataError(f"validation labels {unknown} never occur in training", fix="check the label column")
    tokenizer = fit_tokenizer(texts, tokenizer_kind, vocab_size, min_frequency)
    cfg = (model_config or RNNClassifierConfig()).replace(vocab_size=tokenizer.get_vocab_size(), labels=names)
    index = {n: i for i, n in enumerate(names)}

    def batches(xs: Sequence[str], ys: Sequence[str]) -> PaddedBatches:
        return PaddedBatches({"ids": [s or [special_ids(tokenizer)[0]] for s in
                                      encode_ids(xs, tokenizer, max_len=cfg.max_len)],
                              "labels": [index[y] for y in ys]}, batch_size=batch_size)

    valid = batches(valid_texts, valid_labels) if len(valid_texts) else None
    torch.manual_seed(train_config.seed)
    model = RNNClassifier(cfg, tokenizer)
    if word_vectors is not None:
        load_pretrained_embeddings(model.embed, tokenizer, word_vectors)
    history = Trainer(model, classification, batches(texts, labels), valid, train_config).fit()
    load_best(model, train_config)
    return model.eval(), history


def classification_accuracy(model: RNNClassifier, texts: Sequence[str], labels: Sequence[str]) -> float:
    """Fraction of texts whose predicted label equals the gold one."""
    _check_aligned(texts=texts, labels=labels)
    predicted = model.predict(list(texts))
    return sum(p == y for p, y in zip(predicted, labels, strict=True)) / len(labels)


def train_siamese(a_texts: Sequence[str], b_texts: Sequence[str], scores: Sequence[float],
                  model_config: SiameseConfig | None = None, train_config: TrainConfig | None = None, *,
                  valid: tuple[Sequence[str], Sequence[str], Sequence[float]] | None = None,
                  tokenizer_kind: str = "word", vocab_size: int | None = 20_000,
                  batch_size: int = 32) -> tuple[SiameseEncoder, History]:
    """Train a siamese encoder so that cos(embed(a), embed(b)) matches `scores` in [-1, 1]."""
    _check_aligned(a=a_texts, b=b_texts, scores=scores)
    train_config = train_config or TrainConfig()
    tokenizer = fit_tokenizer([*a_texts, *b_texts], tokenizer_kind, vocab_size)
    cfg = (model_config or SiameseConfig()).replace(vocab_size=tokenizer.get_vocab_size())
    pad = special_ids(tokenizer)[0]

    def batches(a: Sequence[str], b: Sequence[str], s: Sequence[float]) -> PaddedBatches:
        def ids(xs):
            return [x or [pad] for x in encode_ids(xs, tokenizer, max_len=cfg.max_len)]

        return PaddedBatches({"a_ids": ids(a), "b_ids": ids(b), "score": [float(x) for x in s]},
                             batch_size=batch_size)

    torch.manual_seed(train_config.seed)
    model = SiameseEncoder(cfg, tokenizer)
    history = Trainer(model, pair_similarity, batches(a_texts, b_texts, scores),
                      batches(*valid) if valid else None, train_config).fit()
    load_best(model, train_config)
    return model.eval(), history
