"""Training recipe of the RNN encoder-decoder for translation.

    model, history = train_seq2seq(src_texts, tgt_texts, valid=(src_dev, tgt_dev))

One joint word/subword tokenizer serves both languages. Decoding and scoring live above the
trainer: `lmlab.apps.translate.translate` / `evaluate_translation` (through `lmlab.generate`) and
`lmlab.metrics.translation.corpus_scores` (sacrebleu's chrF and BLEU).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from lmlab.data.tokens import PaddedBatches, encode_ids
from lmlab.errors import DataError
from lmlab.models.rnn.seq2seq import Seq2Seq, Seq2SeqConfig
from lmlab.train.objectives import seq2seq
from lmlab.train.recipes import fit_tokenizer, load_best, special_ids
from lmlab.train.trainer import History, TrainConfig, Trainer


def _pairs_to_batches(src: Sequence[str], tgt: Sequence[str], tokenizer: Any, cfg: Seq2SeqConfig,
                      batch_size: int) -> PaddedBatches:
    if len(src) != len(tgt) or not src:
        raise DataError(f"need aligned, non-empty source/target lists, got {len(src)} and {len(tgt)}",
                        fix="give one translation per source sentence")
    src_ids = [s or [cfg.eos_id] for s in encode_ids(src, tokenizer, eos_id=cfg.eos_id, max_len=cfg.max_len)]
    tgt_ids = encode_ids(tgt, tokenizer, bos_id=cfg.bos_id, eos_id=cfg.eos_id, max_len=cfg.max_len)
    return PaddedBatches({"src_ids": src_ids, "tgt_ids": tgt_ids}, batch_size=batch_size, pad_id=cfg.pad_id)


def train_seq2seq(src_texts: Sequence[str], tgt_texts: Sequence[str], *,
                  valid: tuple[Sequence[str], Sequence[str]] | None = None,
                  model_config: Seq2SeqConfig | None = None, train_config: TrainConfig | None = None,
                  tokenizer_kind: str = "word", vocab_size: int | None = 16_000, min_frequency: int = 1,
                  batch_size: int = 32) -> tuple[Seq2Seq, History]:
    """Train an attention encoder-decoder on aligned sentence pairs."""
    train_config = train_config or TrainConfig()
    tokenizer = fit_tokenizer([*src_texts, *tgt_texts], tokenizer_kind, vocab_size, min_frequency)
    pad, bos, eos = special_ids(tokenizer)
    cfg = (model_config or Seq2SeqConfig()).replace(vocab_size=tokenizer.get_vocab_size(), pad_id=pad,
                                                    bos_id=bos, eos_id=eos)
    train = _pairs_to_batches(src_texts, tgt_texts, tokenizer, cfg, batch_size)
    dev = _pairs_to_batches(*valid, tokenizer, cfg, batch_size) if valid else None
    torch.manual_seed(train_config.seed)
    model = Seq2Seq(cfg, tokenizer)
    history = Trainer(model, seq2seq, train, dev, train_config).fit()
    load_best(model, train_config)
    return model.eval(), history
