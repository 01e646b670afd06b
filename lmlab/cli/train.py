"""`lmlab train rnn`: train an RNN language model on a corpus (default: the embedded world).

The training options (steps, learning rate, schedule, evaluation, checkpoints, resume) are shared by
every command that trains a neural model (`classify`, `translate`, `similarity`) through
`add_training_options` and `train_config_from_args`. Runs on N GPUs with torchrun:

    torchrun --nproc_per_node=4 -m lmlab.cli.main train rnn --corpus big.txt -o runs/lstm
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from lmlab.cli.common import add_command, add_group, emit


def add_training_options(p: argparse.ArgumentParser, *, steps: int | None = None, lr: float = 3e-3,
                         batch_size: int = 32) -> None:
    """The Trainer's options, in one argument group."""
    g = p.add_argument_group("training")
    g.add_argument("-o", "--out", required=True, help="run folder: model/, checkpoints/, metrics, loss.png")
    g.add_argument("--steps", type=int, default=steps, help="optimiser steps (default: --epochs passes)")
    g.add_argument("--epochs", type=float, default=1.0, help="passes over the data when --steps is not given")
    g.add_argument("--lr", type=float, default=lr, help=f"peak learning rate (default {lr:g})")
    g.add_argument("--warmup", type=int, default=0, help="linear warm-up steps (default 0)")
    g.add_argument("--schedule", choices=("cosine", "linear", "constant"), default="cosine")
    g.add_argument("--batch-size", type=int, default=batch_size, help=f"examples per batch ({batch_size})")
    g.add_argument("--grad-accum", type=int, default=1, help="micro-batches per optimiser step (1)")
    g.add_argument("--grad-clip", type=float, default=1.0, help="max gradient norm, 0 = off (1.0)")
    g.add_argument("--weight-decay", type=float, default=0.01, help="AdamW weight decay on matrices")
    g.add_argument("--eval-every", type=int, default=0, help="evaluate every N steps (0 = at the end)")
    g.add_argument("--early-stopping", type=int, default=0,
                   help="stop after N evaluations without improvement (0 = never)")
    g.add_argument("--resume", nargs="?", const="auto", default=None, metavar="CHECKPOINT",
                   help="continue a run (default: OUT/checkpoints/last)")
    g.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")


def train_config_from_args(args: argparse.Namespace, device: Any) -> Any:
    """A TrainConfig from the parsed training options."""
    from lmlab.train import TrainConfig

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from lmlab.cli.common import show_progress

    return TrainConfig(max_steps=args.steps, epochs=args.epochs, lr=args.lr, warmup_steps=args.warmup,
                       schedule=args.schedule, grad_accum=args.grad_accum, grad_clip=args.grad_clip,
                       weight_decay=args.weight_decay, eval_every=args.eval_every,
                       early_stopping=args.early_stopping, seed=args.seed, device=str(device),
                       out_dir=args.out, resume_from=args.resume, progress=show_progress(args),
                       log_every=10)


def load_model_of(path: str, cls: type, train_command: str, device: Any) -> Any:
    """Open a model folder, check it holds a `cls`, move it to `device`."""
    import lmlab
    from lmlab.errors import ModelFormatError

    model = lmlab.load(path)
    if not isinstance(model, cls):
        raise ModelFormatError(f"the folder holds a {type(model).__name__}, not a {cls.__name__}",
                               where=path, fix=f"train one with {train_command}")
    return model.to(device)


def only_main_process() -> bool:
    """After training under torchrun: leave the process group; True in the process that reports."""
    from lmlab.train import distributed

    distributed.teardown()  # evaluation and saving below are local to the main process
    return distributed.is_main_process()


def add_rnn_options(p: argparse.ArgumentParser, *, cell: str = "lstm", d_embed: int = 128,
                    d_hidden: int = 256) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--cell", choices=("elman", "lstm", "gru"), default=cell, help=f"recurrent cell ({cell})")
    g.add_argument("--d-embed", type=int, default=d_embed, help=f"embedding size ({d_embed})")
    g.add_argument("--d-hidden", type=int, default=d_hidden, help=f"hidden size ({d_hidden})")
    g.add_argument("--layers", type=int, default=1, help="stacked recurrent layers (1)")
    g.add_argument("--dropout", type=float, default=0.0, help="dropout (0.0)")
    g.add_argument("--tokenizer", choices=("word", "char", "bpe", "wordpiece", "unigram"), default="word")
    g.add_argument("--vocab-size", type=int, default=None, help="tokenizer vocabulary (default: all words)")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "train", common, help="train neural models (RNN language models)",
                    description="Train neural models with the one Trainer.",
                    example="lmlab train rnn --cell gru --steps 1000 -o runs/gru",
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


def _corpus(args: argparse.Namespace) -> tuple[list[str], list[str], list[str], Any]:
    """(train, valid, test texts, entropy floor or None)."""
    if args.corpus:
        from lmlab.data.corpus import read_corpus_lines

        lines = read_corpus_lines(args.corpus, min_lines=2)
        if args.valid:
            return lines, read_corpus_lines(args.valid), [], None
        cut = max(1, len(lines) // 50)
        return lines[:-cut], lines[-cut:], [], None
    from lmlab.data.world import World

    world = World(seed=args.seed)
    n = args.world_sentences
    splits = world.lm_splits(n, max(200, n // 20), max(200, n // 20))
    texts = [[s.text for s in part] for part in (splits.train, splits.valid, splits.test)]
    return texts[0], texts[1], texts[2], world.entropy_floor(splits.test)


def read_columns(path: str, fields: list[str], *, limit: int | None = None) -> list[list[Any]]:
    """Columns of a data file: JSONL (.gz) by key, or TSV by 1-based column number ("1", "2").

    Returns one list per field, aligned. Raises DataError naming the first bad line.
    """
    from lmlab.data.corpus import iter_jsonl, iter_lines
    from lmlab.errors import DataError

    cols: list[list[Any]] = [[] for _ in fields]
    if path.endswith((".jsonl", ".jsonl.gz", ".json.gz")):
        for n, rec in enumerate(iter_jsonl(path), 1):
            missing = [f for f in fields if f not in rec]
            if missing:
                raise DataError(f"record {n} has no field {missing[0]!r}", where=path,
                                fix=f"name the fields present: {', '.join(rec)}")
            for col, f in zip(cols, fields, strict=True):
                col.append(rec[f])
            if limit and n >= limit:
                break
        return cols
    index = []
    for f in fields:
        if not f.isdigit() or int(f) < 1:
            raise DataError(f"column {f!r} is not a 1-based column number", where=path,
                            fix="for TSV files give column numbers, e.g. 1 and 2")
        index.append(int(f) - 1)
    for n, line in enumerate(iter_lines(path), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if max(index) >= len(parts):
            raise DataError(f"line {n} has {len(parts)} tab-separated columns, column {max(index) + 1} needed",
                            where=path, fix="check the column numbers or the file's separator (TAB)")
        for col, i in zip(cols, index, strict=True):
            col.append(parts[i])
        if limit and len(cols[0]) >= limit:
            break
    return cols


def split_holdout(columns: list[list[Any]], fraction: float, seed: int) -> tuple[list[list[Any]], list[list[Any]]]:
    """Shuffle rows with `seed` and cut off `fraction` of them as a validation set."""
    import random

    from lmlab.errors import check_range

    check_range("valid fraction", fraction, 0, 1, low_open=True, high_open=True)
    order = list(range(len(columns[0])))
    random.Random(seed).shuffle(order)
    cut = max(1, int(len(order) * fraction))
    valid, train = order[:cut], order[cut:]
    return [[c[i] for i in train] for c in columns], [[c[i] for i in valid] for c in columns]


def load_word_vectors(path: str | None) -> Any:
    """Word vectors for input embeddings: an lmlab folder, or a word2vec text/binary file (gensim)."""
    if not path:
        return None
    from pathlib import Path

    from lmlab.errors import require

    if Path(path).is_dir():
        import lmlab

        return lmlab.load(path)
    gensim = require("gensim.models", "reading word2vec files")
    return gensim.KeyedVectors.load_word2vec_format(path, binary=not path.endswith((".txt", ".vec")))


def run_rnn(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lmlab.cli.common import torch_device
    from lmlab.models.rnn.lm import RNNLMConfig
    from lmlab.train.recipes import lm_perplexity, train_rnn_lm

    device = torch_device(args)
    config = train_config_from_args(args, device)
    train, valid, test, floor = _corpus(args)
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
    result = {"model": str(path), "steps": history.steps, "train_seconds": round(seconds, 1),
              "stop_reason": history.stop_reason,
              "valid": lm_perplexity(model, valid).to_dict()}
    if test:
        result["test"] = lm_perplexity(model, test).to_dict()
    if floor is not None:
        result["entropy_floor"] = floor.to_dict()
    lines = [f"{args.cell} LM: {history.steps} steps in {seconds:.0f} s -> {path}",
             f"valid perplexity {result['valid']['ppl']:.2f}"]
    if test:
        lines.append(f"test perplexity {result['test']['ppl']:.2f}"
                     + (f" (exact floor {floor.ppl:.2f})" if floor is not None else ""))
    emit(args, result, "\n".join(lines))
    return 0
