"""`train_lm`: one call from texts to a trained language model with its tokenizer attached.

    >>> import lmlab
    >>> model = lmlab.train_lm("gpt-tiny", "mis_textos.txt", max_steps=300)   # doctest: +SKIP
    >>> lmlab.generate(model, "El perro").text                                # doctest: +SKIP
    >>> model.save("runs/gpt")                                                # doctest: +SKIP

The first argument is a preset name or a config: its class picks the family and the objective.

    GPTConfig    (gpt-tiny, gpt-mini, gpt-small-cpu, gpt2-*)  next-token prediction   byte-level BPE
    LlamaConfig  (llama-tiny, llama-mini, mixtral-tiny ...)    next-token prediction   byte-level BPE
    RNNLMConfig  (rnn-tiny, rnn-small, rnn-medium)            next-token prediction   words
    BERTConfig   (bert-tiny, minilm-l6, bert-base ...)        masked LM (80/10/10)    WordPiece
    T5Config     (t5-tiny, t5-small, t5-base)                 span corruption         Unigram

A tokenizer is fitted on the training texts (that kind by default; pass `tokenizer=` a kind name
or a trained `tokenizers.Tokenizer`), the config's `vocab_size` becomes the tokenizer's, the one
Trainer runs the family's objective (with resume, checkpoints, logs and progress from the
`TrainConfig`), and the model comes back in eval mode with the tokenizer attached, ready to
`save`, `generate` and `perplexity`. Its training history is `model.train_history`.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from typing import Any

import torch

from lmlab.config import Config
from lmlab.data.tokens import PaddedBatches, encode_ids
from lmlab.errors import ConfigError, DataError
from lmlab.text import special
from lmlab.train.pretraining import mask_tokens, mlm_nsp, span_corruption
from lmlab.train.recipes import fit_tokenizer, load_best, train_causal_lm
from lmlab.train.trainer import History, TrainConfig, Trainer

#: Span-corruption sentinels in a T5 tokenizer: enough for every window of up to 512 tokens.
N_SENTINELS = 32
DEFAULT_SEQ_LEN = 128


def _families() -> dict[type, tuple[str, str]]:
    """config class -> (family name, default tokenizer kind)."""
    from lmlab.models.rnn.lm import RNNLMConfig
    from lmlab.models.transformer.bert import BERTConfig
    from lmlab.models.transformer.gpt import GPTConfig
    from lmlab.models.transformer.llama import LlamaConfig
    from lmlab.models.transformer.t5 import T5Config

    return {GPTConfig: ("gpt", "bpe"), LlamaConfig: ("llama", "bpe"), RNNLMConfig: ("rnn", "word"),
            BERTConfig: ("bert", "wordpiece"), T5Config: ("t5", "unigram")}


def resolve_config(preset_or_config: str | Config) -> Config:
    """A config object from a preset name of any family, or the config itself."""
    families = _families()
    if isinstance(preset_or_config, Config):
        if type(preset_or_config) not in families:
            raise ConfigError(f"train_lm cannot train a {type(preset_or_config).__name__}",
                              fix=f"pass one of {', '.join(c.__name__ for c in families)}")
        return preset_or_config
    for cls in families:
        if preset_or_config in cls.PRESETS:
            return cls.preset(preset_or_config)
    names = [n for cls in families for n in cls.PRESETS]
    raise ConfigError(f"unknown model preset {preset_or_config!r}", where="train_lm",
                      fix=f"use one of {', '.join(names)} or a config object")


def read_texts(texts: Sequence[str] | str | os.PathLike[str]) -> list[str]:
    """Training texts: a list of strings, or a UTF-8 file / folder of .txt files (a line each)."""
    if isinstance(texts, str | os.PathLike):
        from lmlab.data.corpus import read_corpus_lines

        return read_corpus_lines(texts, min_lines=1)
    out = [t for t in texts if t.strip()]
    if not out:
        raise DataError("no training text", where="train_lm", fix="pass non-empty texts or a file")
    return out


def family_tokenizer(family: str, texts: Sequence[str], tokenizer: Any, config: Config,
                     vocab_size: int | None) -> Any:
    """The given tokenizer, or one of `tokenizer` (a kind) fitted with the family's specials."""
    if tokenizer is not None and not isinstance(tokenizer, str):
        return tokenizer
    kind = tokenizer or next(k for name, k in _families().values() if name == family)
    if vocab_size is None and kind not in ("word", "char"):
        vocab_size = config.vocab_size  # the preset's size, for the subword kinds
    specials = {"gpt": special.LM_SPECIALS, "llama": special.LM_SPECIALS, "rnn": special.LM_SPECIALS,
                "bert": special.DEFAULT_SPECIALS,
                "t5": (*special.LM_SPECIALS, *special.sentinel_tokens(N_SENTINELS))}[family]
    return fit_tokenizer(texts, kind, vocab_size, specials=specials)


def train_lm(preset_or_config: str | Config, texts: Sequence[str] | str | os.PathLike[str],
             valid_texts: Sequence[str] | None = None, train_config: TrainConfig | None = None, *,
             tokenizer: Any = None, vocab_size: int | None = None, seq_len: int | None = None,
             batch_size: int = 32, **train_options: Any) -> Any:
    """Fit (or take) a tokenizer, build the model, train it; return it with the tokenizer attached.

    Args:
        preset_or_config: a preset name ("gpt-tiny", "rnn-small", "bert-tiny", "t5-tiny" ...)
            or a `GPTConfig` / `RNNLMConfig` / `BERTConfig` / `T5Config`.
        texts: training texts (one sentence or paragraph each), or a text file / folder.
        valid_texts: texts to evaluate on during training (and keep the best weights by).
        train_config: a `TrainConfig`; keyword `train_options` replace its fields
            (e.g. `max_steps=300, lr=2e-3`).
        tokenizer: a trained `tokenizers.Tokenizer`, or a kind ("bpe", "word", "wordpiece",
            "unigram", "char") to fit on `texts`; default: the family's kind (module docstring).
        vocab_size: size of a fitted subword tokenizer (default: the preset's vocab_size).
        seq_len: tokens per training window (default min(128, the model's context)).
        batch_size: sequences per optimiser step.
    Returns:
        the trained model in eval mode; `model.train_history` is the Trainer's `History`.
    """
    config = resolve_config(preset_or_config)
    family = _families()[type(config)][0]
    train_config = (train_config or TrainConfig()).replace(**train_options)
    train = read_texts(texts)
    tok = family_tokenizer(family, train, tokenizer, config, vocab_size)
    config = config.replace(vocab_size=tok.get_vocab_size())
    context = getattr(config, "max_seq_len", None)
    window = seq_len or (min(DEFAULT_SEQ_LEN, context) if context else DEFAULT_SEQ_LEN)
    if context is not None and window > context:
        raise ConfigError(f"seq_len={window} exceeds the model's max_seq_len={context}",
                          where="train_lm", fix=f"use seq_len <= {context} or a longer context")
    torch.manual_seed(train_config.seed)
    model = _build(family, config, tok)
    valid = list(valid_texts) if valid_texts else None
    if family in ("gpt", "llama", "rnn"):
        model, history = train_causal_lm(model, train, valid, train_config, tokenizer=tok,
                                         seq_len=window, batch_size=batch_size)
    elif family == "bert":
        history = train_masked_lm(model, train, valid, train_config, max_len=window,
                                  batch_size=batch_size)
    else:
        history = train_span_corruption(model, train, valid, train_config, max_len=window,
                                        batch_size=batch_size)
    model.train_history = history
    return model.eval()


def _build(family: str, config: Config, tokenizer: Any) -> Any:
    from lmlab.models.rnn.lm import RNNLanguageModel
    from lmlab.models.transformer.bert import BertForPreTraining
    from lmlab.models.transformer.gpt import GPT
    from lmlab.models.transformer.llama import Llama
    from lmlab.models.transformer.t5 import T5

    if family == "t5":
        pad = tokenizer.token_to_id(special.PAD)
        config = config.replace(pad_id=pad, decoder_start_id=pad)
    cls = {"gpt": GPT, "llama": Llama, "rnn": RNNLanguageModel, "bert": BertForPreTraining,
           "t5": T5}[family]
    return cls(config, tokenizer)


# ---- masked language modelling (BERT) -----------------------------------------------------------


class MaskedBatches:
    """Padded batches of `[CLS] text [SEP]` with BERT's 80/10/10 masking, fixed per batch index.

    Batch i is masked with a generator seeded by (seed, i), so a run (and its resume) sees the
    same masks every time; specials and padding are never chosen.
    """

    def __init__(self, texts: Sequence[str], tokenizer: Any, *, max_len: int, batch_size: int,
                 seed: int = 0, prob: float = 0.15) -> None:
        ids = {name: tokenizer.token_to_id(name) for name in (special.PAD, special.CLS,
                                                              special.SEP, special.MASK)}
        missing = [name for name, i in ids.items() if i is None]
        if missing:
            raise ConfigError(f"the tokenizer lacks {', '.join(missing)} for masked LM training",
                              fix="fit it with special.DEFAULT_SPECIALS (train_lm does)")
        self.pad, self.cls, self.sep, self.mask = (ids[n] for n in (special.PAD, special.CLS,
                                                                    special.SEP, special.MASK))
        seqs = encode_ids(texts, tokenizer, bos_id=self.cls, eos_id=self.sep, max_len=max_len)
        self.batches = PaddedBatches({"ids": seqs}, batch_size, pad_id=self.pad)
        self.vocab_size, self.seed, self.prob = tokenizer.get_vocab_size(), seed, prob

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        batch = self.batches[i]
        ids = batch["ids"]
        specials = ~batch["mask"] | (ids == self.cls) | (ids == self.sep)
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + i)
        inputs, labels = mask_tokens(ids, mask_id=self.mask, vocab_size=self.vocab_size,
                                     special=specials, prob=self.prob, generator=generator)
        return {"ids": inputs, "mask": batch["mask"], "labels": labels}


def train_masked_lm(model: torch.nn.Module, texts: Sequence[str], valid_texts: Sequence[str] | None,
                    train_config: TrainConfig, *, max_len: int = DEFAULT_SEQ_LEN,
                    batch_size: int = 32) -> History:
    """Masked-LM pre-training of a `BertForPreTraining` (MLM only, no next-sentence task)."""
    tok = model.tokenizer
    data = MaskedBatches(texts, tok, max_len=max_len, batch_size=batch_size, seed=train_config.seed)
    valid = (MaskedBatches(valid_texts, tok, max_len=max_len, batch_size=64,
                           seed=train_config.seed + 1) if valid_texts else None)
    history = Trainer(model, mlm_nsp, data, valid, train_config).fit()
    load_best(model, train_config)
    return history


# ---- span corruption (T5) ----------------------------------------------------------------------


def span_corruption_pairs(texts: Sequence[str], tokenizer: Any, *, max_len: int, seed: int = 0,
                          decoder_start_id: int) -> dict[str, list[list[int]]]:
    """T5 pairs per text: source = corrupted ids + </s>, target = start + spans + </s>.

    The spans of text k are drawn from a generator seeded by (seed, k); texts of one token are
    skipped (nothing to corrupt).
    """
    eos = tokenizer.token_to_id(special.EOS)
    sentinels = [tokenizer.token_to_id(t) for t in special.sentinel_tokens(N_SENTINELS)]
    if eos is None or None in sentinels:
        raise ConfigError("the tokenizer lacks </s> or the <extra_id_N> sentinels",
                          fix="fit it with special.sentinel_tokens (train_lm does)")
    src, tgt = [], []
    for k, ids in enumerate(encode_ids(texts, tokenizer, max_len=max_len - 1)):
        if len(ids) < 2:
            continue
        inputs, targets = span_corruption(ids, sentinels, random.Random(seed * 1_000_003 + k))
        src.append([*inputs, eos])
        tgt.append([decoder_start_id, *targets, eos])
    if not src:
        raise DataError("no text has two tokens to corrupt", fix="pass longer texts")
    return {"src_ids": src, "tgt_ids": tgt}


def train_span_corruption(model: torch.nn.Module, texts: Sequence[str],
                          valid_texts: Sequence[str] | None, train_config: TrainConfig, *,
                          max_len: int = DEFAULT_SEQ_LEN, batch_size: int = 32) -> History:
    """Span-corruption pre-training of a `T5` (Raffel et al. 2020, section 3.1.4)."""
    from lmlab.train.objectives import seq2seq

    cfg, tok = model.config, model.tokenizer

    def batches(xs: Sequence[str], size: int, seed: int) -> PaddedBatches:
        pairs = span_corruption_pairs(xs, tok, max_len=max_len, seed=seed,
                                      decoder_start_id=cfg.decoder_start_id)
        return PaddedBatches(pairs, size, pad_id=cfg.pad_id)

    valid = batches(valid_texts, 64, train_config.seed + 1) if valid_texts else None
    history = Trainer(model, seq2seq, batches(texts, batch_size, train_config.seed), valid,
                      train_config).fit()
    load_best(model, train_config)
    return history

