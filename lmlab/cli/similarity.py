"""`lmlab similarity train|score`: sentence similarity with a siamese RNN or a Transformer encoder.

    lmlab similarity train --data pairs.tsv -o runs/siamese          # a<TAB>b<TAB>score
    lmlab similarity score "El gato duerme." "Un felino descansa."     # all-MiniLM-L6-v2
    lmlab similarity score --model runs/siamese/model "a" "b"
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
    only_main_process,
    train_config_from_args,
)
from lmlab.data.columns import read_columns, split_holdout
from lmlab.io.packaged import DEFAULT_ENCODER


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "similarity", common, help="train and apply sentence-similarity encoders",
                    description="Siamese RNN sentence encoders and cosine similarity.",
                    example='lmlab similarity score "El gato duerme." "Un felino descansa."')
    p = add_command(sub, "train", common, help="train a siamese RNN encoder on scored sentence pairs",
                    example="lmlab similarity train --data pairs.tsv --steps 500 -o runs/siamese")
    p.add_argument("--data", help="TSV/JSONL of (a, b, score) (default: the world's sentence pairs, similarity 0-5)")
    p.add_argument("--fields", nargs=3, default=["1", "2", "3"], metavar=("A", "B", "SCORE"),
                   help="columns / keys of the two sentences and the score (1 2 3)")
    p.add_argument("--score-max", type=float, default=None,
                   help="divide scores by this (e.g. 5 for STS); default: the largest |score|")
    p.add_argument("--valid-fraction", type=float, default=0.1, help="held-out share (0.1)")
    p.add_argument("--limit", type=int, help="read at most N pairs (world default 4000)")
    p.add_argument("--pooling", choices=("mean", "final"), default="mean")
    add_rnn_options(p, d_embed=128, d_hidden=128)
    add_training_options(p, lr=2e-3)
    p.set_defaults(func=run_train)
    q = add_command(sub, "score", common, help="cosine similarity of two texts (or of pairs in a file)",
                    example='lmlab similarity score "El gato duerme." "Un felino descansa."')
    q.add_argument("texts", nargs="*", help="two texts (a b), or pairs a1 b1 a2 b2 ...")
    q.add_argument("-m", "--model", default=DEFAULT_ENCODER,
                   help=f"an lmlab folder with embed() (siamese RNN, sentence encoder); default {DEFAULT_ENCODER}")
    q.set_defaults(func=run_score)


def _pairs(args: argparse.Namespace) -> tuple[list[str], list[str], list[float]]:
    from lmlab.errors import ConfigError, DataError

    if args.data:
        a, b, s = read_columns(args.data, list(args.fields), limit=args.limit)
    else:
        from lmlab.data.world import World

        world = World(seed=args.seed)
        if not hasattr(world, "sentence_pairs"):
            raise ConfigError("this version of the world has no sentence pairs", fix="pass --data FILE")
        items = world.sentence_pairs(args.limit or 4000)
        a, b, s = [p.a for p in items], [p.b for p in items], [p.similarity for p in items]
    try:
        scores = [float(x) for x in s]
    except ValueError as exc:
        raise DataError(f"a score is not a number ({exc})", where=args.data, fix="check --fields") from exc
    top = args.score_max or max(abs(x) for x in scores) or 1.0
    return [str(x) for x in a], [str(x) for x in b], [x / top for x in scores]


def run_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from scipy.stats import spearmanr

    from lmlab.cli.common import torch_device
    from lmlab.models.rnn.siamese import SiameseConfig
    from lmlab.train.recipes import train_siamese

    device = torch_device(args)
    config = train_config_from_args(args, device)
    a, b, s = _pairs(args)
    (a, b, s), (va, vb, vs) = split_holdout([a, b, s], args.valid_fraction, args.seed)
    cfg = SiameseConfig(cell=args.cell, d_embed=args.d_embed, d_hidden=args.d_hidden, n_layers=args.layers,
                        dropout=args.dropout, pooling=args.pooling)
    t0 = time.perf_counter()
    model, history = train_siamese(a, b, s, cfg, config, valid=(va, vb, vs), tokenizer_kind=args.tokenizer,
                                   vocab_size=args.vocab_size, batch_size=args.batch_size)
    seconds = time.perf_counter() - t0
    if not only_main_process():
        return 0
    path = model.save(Path(args.out) / "model")
    import math
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant scores: undefined correlation, reported as None
        rho = float(spearmanr(model.similarity(va, vb).numpy(), vs).statistic)
    rho = None if math.isnan(rho) else rho
    result = {"model": str(path), "n_train": len(a), "n_valid": len(va), "steps": history.steps,
              "train_seconds": round(seconds, 1), "valid_spearman": rho}
    emit(args, result, f"{len(a)} pairs, {history.steps} steps in {seconds:.0f} s; "
                       f"validation Spearman {rho if rho is None else round(rho, 3)} on {len(va)} -> {path}")
    return 0


def load_encoder(name: str) -> Any:
    """An object with `embed(texts)`: an lmlab folder, or a sentence-encoder name."""
    from pathlib import Path

    from lmlab.errors import ModelFormatError

    if Path(name).is_dir():
        from lmlab.io.folder import load_model

        model = load_model(name)
        if not hasattr(model, "embed"):
            raise ModelFormatError(f"a {type(model).__name__} has no embed()", where=name,
                                   fix="pass a siamese RNN or sentence-encoder folder")
        return model
    from lmlab.io.packaged import PACKAGED_MODELS, load_sentence_encoder

    if name not in PACKAGED_MODELS:
        raise ModelFormatError(f"no sentence encoder named {name!r} is available", where="--model",
                               fix=f"pass an lmlab folder that has embed(), or one of: {', '.join(PACKAGED_MODELS)}")
    return load_sentence_encoder(name)


def run_score(args: argparse.Namespace) -> int:
    from lmlab.cli.common import torch_device
    from lmlab.errors import DataError

    if len(args.texts) < 2 or len(args.texts) % 2:
        raise DataError(f"got {len(args.texts)} texts, need pairs", fix='pass "text a" "text b" (or more pairs)')
    device = torch_device(args)
    encoder = load_encoder(args.model).to(device)
    a, b = args.texts[0::2], args.texts[1::2]
    sims = (encoder.embed(a) * encoder.embed(b)).sum(-1).tolist()
    rows = [{"a": x, "b": y, "cosine": round(c, 4)} for x, y, c in zip(a, b, sims, strict=True)]
    emit(args, rows, "\n".join(f"{r['cosine']:.3f}\t{r['a']}\t{r['b']}" for r in rows))
    return 0
