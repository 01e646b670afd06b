"""`lmlab train rnn|gpt|bert|t5`: train a language model on a corpus (default: the embedded world).

    lmlab train gpt mis_textos.txt -o runs/gpt --steps 1000 && lmlab generate runs/gpt/model "El"

Each command fits a tokenizer on the training text, trains with the one Trainer (resume,
checkpoints, logs, progress) and saves the model with its tokenizer as OUT/model, which
`lmlab generate`, `lmlab eval` and `lmlab.load` open. `gpt`, `bert` and `t5` run
`lmlab.train_lm` (next-token prediction, masked LM, span corruption); `rnn` keeps its own options.

The training options (steps, learning rate, schedule, evaluation, checkpoints, resume) are shared by
every command that trains a neural model (`classify`, `translate`, `similarity`) through
`lmlab.cli.common.add_training_options` and `train_config_from_args`, which also sets torch to
`--threads` CPU threads (default 1). Runs on N GPUs with torchrun:

    torchrun --nproc_per_node=4 -m lmlab.cli.main train rnn --corpus big.txt -o runs/lstm
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from lmlab.cli.common import (
    add_command,
    add_group,
    add_rnn_options,
    add_training_options,
    emit,
    load_word_vectors,
    only_main_process,
    train_config_from_args,
)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "train", common,
                    help="train language models (RNN, GPT, BERT, T5) on a corpus",
                    description="Train language models with the one Trainer; OUT/model is the result.",
                    example="lmlab train gpt mis_textos.txt -o runs/gpt --steps 1000",
                    title="models", metavar="MODEL")
    p = add_command(sub, "rnn", common, help="train an RNN (Elman/LSTM/GRU) language model",
                    example="lmlab train rnn --cell lstm --steps 2000 -o runs/lstm   # on the world")
    p.add_argument("--corpus", help="text file or folder, one sentence per line (default: the world)")
    p.add_argument("--valid", help="validation text (default: the world's, or 2%% of --corpus lines)")
    p.add_argument("--world-sentences", type=int, default=20_000,
                   help="world sentences to train on when no --corpus (20000)")
    p.add_argument("--seq-len", type=int, default=64, help="training window in tokens (64)")
    p.add_argument("--tie", action="store_true", help="tie input and output embeddings")
    p.add_argument("--word-vectors", help="word2vec text/binary file or lmlab vectors folder for the inputs")
    add_rnn_options(p)
    add_training_options(p, lr=3e-3)
    p.set_defaults(func=run_rnn)
    for family, helptext, preset, lr in FAMILIES:
        p = add_command(sub, family, common, help=helptext,
                        example=f"lmlab train {family} mis_textos.txt -o runs/{family} --steps 1000")
        p.add_argument("corpus", nargs="?", help="text file or folder, one text per line "
                       "(default: the embedded world)")
        p.add_argument("--valid", help="validation text (default: the world's, or 2%% of the lines)")
        p.add_argument("--world-sentences", type=int, default=20_000,
                       help="world sentences to train on when no corpus is given (20000)")
        _model_options(p, family, preset)
        add_training_options(p, lr=lr)
        p.set_defaults(func=run_lm, family=family)


#: (command, help, default preset, default peak learning rate)
FAMILIES = (
    ("gpt", "train a GPT (decoder-only Transformer) language model", "gpt-mini", 2e-3),
    ("llama", "train a Llama-family decoder (GQA, RoPE, SwiGLU; mixtral-tiny: experts)",
     "llama-tiny", 2e-3),
    ("bert", "pre-train a BERT encoder with masked language modelling", "bert-tiny", 1e-3),
    ("t5", "pre-train a T5 encoder-decoder with span corruption", "t5-tiny", 1e-3),
)


def _model_options(p: argparse.ArgumentParser, family: str, preset: str) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--preset", default=preset, help=f"size preset ({preset}); the options below "
                   "change it")
    g.add_argument("--d-model", type=int, help="width of the residual stream")
    g.add_argument("--layers", type=int, help="Transformer blocks (per stack for t5)")
    g.add_argument("--heads", type=int, help="attention heads")
    g.add_argument("--max-seq-len", type=int, help="longest context in tokens")
    if family in ("gpt", "llama"):
        g.add_argument("--pos", choices=("learned", "sinusoidal", "rotary", "none"),
                       help="positions (default: the preset's)")
    g.add_argument("--dropout", type=float, help="dropout (default: the preset's)")
    g.add_argument("--tokenizer", choices=("word", "char", "bpe", "wordpiece", "unigram"),
                   help="tokenizer fitted on the corpus (default: bpe for gpt, wordpiece for "
                   "bert, unigram for t5)")
    g.add_argument("--vocab-size", type=int, help="tokenizer vocabulary (default: the preset's)")
    g.add_argument("--seq-len", type=int, help="training window in tokens (default 128 or the "
                   "context if shorter)")


def _corpus(args: argparse.Namespace) -> tuple[list[str], list[str], list[str]]:
    """(train, valid, test texts): the corpus's lines with a validation cut, or the world's splits."""
    if args.corpus:
        from lmlab.data.corpus import read_corpus_lines

        lines = read_corpus_lines(args.corpus, min_lines=2)
        if args.valid:
            return lines, read_corpus_lines(args.valid), []
        cut = max(1, len(lines) // 50)
        return lines[:-cut], lines[-cut:], []
    from lmlab.data.world import World

    world = World(seed=args.seed)
    n = args.world_sentences
    splits = world.lm_splits(n, max(200, n // 20), max(200, n // 20))
    train, valid, test = ([s.text for s in part] for part in (splits.train, splits.valid, splits.test))
    return train, valid, test


def run_rnn(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lmlab.apps.evaluate import evaluate_lm
    from lmlab.cli.common import torch_device
    from lmlab.models.rnn.lm import RNNLMConfig
    from lmlab.train.recipes import train_rnn_lm

    device = torch_device(args)
    config = train_config_from_args(args, device)
    train, valid, test = _corpus(args)
    model_cfg = RNNLMConfig(cell=args.cell, d_embed=args.d_embed, d_hidden=args.d_hidden,
                            n_layers=args.layers, dropout=args.dropout, tie_weights=args.tie)
    t0 = time.perf_counter()
    model, history = train_rnn_lm(train, valid, model_cfg, config, tokenizer_kind=args.tokenizer,
                                  vocab_size=args.vocab_size, seq_len=args.seq_len,
                                  batch_size=args.batch_size, word_vectors=load_word_vectors(args.word_vectors))
    seconds = time.perf_counter() - t0
    if not only_main_process():
        return 0
    path = model.save(Path(args.out) / "model")
    _report(args, f"{args.cell} LM", path, history, seconds,
            {split: evaluate_lm(model, texts, seed=args.seed)
             for split, texts in (("valid", valid), ("test", test)) if texts})
    return 0


def _report(args: argparse.Namespace, what: str, path: Any, history: Any, seconds: float,
            scores: dict[str, dict[str, Any]]) -> None:
    """Print the run's summary: where the model is, steps, time, and each split's figures."""
    from lmlab.apps.evaluate import describe

    result = {"model": str(path), "steps": history.steps, "train_seconds": round(seconds, 1),
              "stop_reason": history.stop_reason, **scores}
    lines = [f"{what}: {history.steps} steps in {seconds:.0f} s -> {path}"]
    lines += [f"{split}: {describe(report)}" for split, report in scores.items()]
    emit(args, result, "\n".join(lines))


def _config_from_args(args: argparse.Namespace) -> Any:
    from lmlab.train.lm import resolve_config

    config = resolve_config(args.preset)
    names = {"d_model": args.d_model, "n_layers": args.layers, "n_heads": args.heads,
             "max_seq_len": args.max_seq_len, "dropout": args.dropout,
             "pos": getattr(args, "pos", None)}
    changes = {k: v for k, v in names.items() if v is not None}
    if "d_model" in changes and args.family == "t5" and "d_ff" not in changes:
        changes["d_ff"] = 4 * changes["d_model"]
    return config.replace(**changes)


def run_lm(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lmlab.apps.evaluate import evaluate_lm
    from lmlab.cli.common import torch_device
    from lmlab.errors import ConfigError
    from lmlab.train.lm import resolve_config, train_lm

    family = args.family
    if type(resolve_config(args.preset)).__name__.lower() != f"{family}config":
        raise ConfigError(f"--preset {args.preset!r} is not a {family} preset", where=f"train {family}",
                          fix=f"see `lmlab train {family} --help` for the default preset")
    device = torch_device(args)
    train_config = train_config_from_args(args, device)
    train, valid, test = _corpus(args)
    t0 = time.perf_counter()
    model = train_lm(_config_from_args(args), train, valid, train_config,
                     tokenizer=args.tokenizer, vocab_size=args.vocab_size, seq_len=args.seq_len,
                     batch_size=args.batch_size)
    seconds = time.perf_counter() - t0
    if not only_main_process():
        return 0
    path = model.save(Path(args.out) / "model")
    history = model.train_history
    if family in ("gpt", "llama"):
        scores = {split: evaluate_lm(model, texts, seed=args.seed)
                  for split, texts in (("valid", valid), ("test", test)) if texts}
    else:  # encoders and encoder-decoders: the objective's loss on the validation text
        last = [r for r in history.records if r["split"] == "eval"]
        scores = {"valid": {k: v for k, v in last[-1].items() if k not in ("split", "step")}} if last else {}
    _report(args, family.upper(), path, history, seconds, scores)
    return 0
