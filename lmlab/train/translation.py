"""Translation with the RNN encoder-decoder: train, translate (greedy or beam), score with sacrebleu.

    model, history = train_seq2seq(src_texts, tgt_texts, valid=(src_dev, tgt_dev))
    hyps = translate(model, ["el niño come pan ."], strategy="beam", num_beams=4)
    corpus_scores(hyps, refs)      # {"chrf": ..., "bleu": ...}: sacrebleu's corpus chrF and BLEU

One joint word/subword tokenizer serves both languages. Decoding goes through `lmlab.generate`
on `model.condition(src)`, the same code that decodes every other language model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch

from lmlab.data.tokens import PaddedBatches, encode_ids, pad_sequences
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


@torch.no_grad()
def translate(model: Seq2Seq, texts: Sequence[str], *, strategy: Literal["greedy", "beam"] = "greedy",
              num_beams: int = 4, max_new_tokens: int | None = None, batch_size: int = 64) -> list[str]:
    """Translate texts with greedy or beam search; returns the decoded target texts in input order."""
    from lmlab.generate import GenerationConfig, generate

    cfg = model.config
    model.eval()
    device = next(model.parameters()).device
    gen_cfg = GenerationConfig(strategy=strategy, num_beams=num_beams if strategy == "beam" else 4,
                               max_new_tokens=max_new_tokens or cfg.max_len, stop_token_ids=(cfg.eos_id,))
    src_ids = [s or [cfg.eos_id] for s in encode_ids(list(texts), model.tokenizer, eos_id=cfg.eos_id,
                                                      max_len=cfg.max_len)]
    order = sorted(range(len(src_ids)), key=lambda i: len(src_ids[i]))  # similar lengths together
    out: list[str] = [""] * len(src_ids)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        ids, mask = pad_sequences([src_ids[r] for r in rows], cfg.pad_id)
        lm = model.condition(ids.to(device), mask.to(device))
        gens = generate(lm, [[cfg.bos_id]] * len(rows), gen_cfg)
        for r, g in zip(rows, gens, strict=True):
            kept = [i for i in g.ids if i != cfg.eos_id]
            out[r] = model.tokenizer.decode(kept)
    return out


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """sacrebleu corpus chrF (Popović 2015) and BLEU (Papineni et al. 2002; 13a tokenisation)."""
    import sacrebleu

    if len(hypotheses) != len(references) or not references:
        raise DataError(f"{len(hypotheses)} hypotheses for {len(references)} references",
                        fix="translate every reference's source once")
    refs = [list(references)]
    return {"chrf": sacrebleu.corpus_chrf(list(hypotheses), refs).score,
            "bleu": sacrebleu.corpus_bleu(list(hypotheses), refs).score}
