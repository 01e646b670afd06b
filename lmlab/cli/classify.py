"""`lmlab classify train|predict`: a bidirectional RNN text classifier.

    lmlab classify train --data ../shared/data/imdb/train.jsonl.gz --text-field text \\
        --label-field label --valid-fraction 0.1 --epochs 2 -o runs/imdb-bilstm
    lmlab classify predict --model runs/imdb-bilstm/model "Una película preciosa."
"""

from __future__ import annotations

import argparse
import re
import time
from typing import Any

from lmlab.cli.common import (
    add_command,
    add_group,
    add_rnn_options,
    add_training_options,
    emit,
    load_model_of,
    load_word_vectors,
    only_main_process,
    read_texts,
    train_config_from_args,
)
from lmlab.data.columns import read_columns, split_holdout

_TAGS = re.compile(r"<[^>]{1,20}>")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "classify", common, help="train and apply an RNN text classifier",
                    description="Bidirectional RNN text classification.",
                    example="lmlab classify train --data reviews.jsonl -o runs/clf")
    p = add_command(sub, "train", common, help="train a BiRNN classifier on labelled texts",
                    example="lmlab classify train --data reviews.jsonl --valid-fraction 0.1 -o runs/clf")
    p.add_argument("--data", help="JSONL (.gz) with text and label fields, or TSV (default: world reviews)")
    p.add_argument("--text-field", default="text", help="text field (JSONL key or TSV column number)")
    p.add_argument("--label-field", default="label", help="label field (JSONL key or TSV column number)")
    p.add_argument("--valid", help="validation file (same format); default: --valid-fraction of --data")
    p.add_argument("--valid-fraction", type=float, default=0.1, help="held-out share (0.1)")
    p.add_argument("--limit", type=int, help="read at most N examples")
    p.add_argument("--max-len", type=int, default=256, help="tokens kept per text (256)")
    p.add_argument("--min-frequency", type=int, default=2, help="rarer words become [UNK] (2)")
    p.add_argument("--unidirectional", action="store_true", help="one direction only")
    p.add_argument("--word-vectors", help="word2vec file or lmlab vectors folder for the inputs")
    add_rnn_options(p, d_embed=128, d_hidden=128)
    add_training_options(p, lr=2e-3)
    p.set_defaults(func=run_train, vocab_size=20_000)
    q = add_command(sub, "predict", common, help="label texts with a trained classifier",
                    example='lmlab classify predict --model runs/clf/model "¡Me encantó!"')
    q.add_argument("texts", nargs="*", help="texts to classify")
    q.add_argument("-i", "--input", help="file with one text per line ('-' for stdin)")
    q.add_argument("-m", "--model", required=True, help="classifier folder (from classify train)")
    q.set_defaults(func=run_predict)


def clean(text: str) -> str:
    """Remove HTML tags such as IMDb's <br />."""
    return _TAGS.sub(" ", text)


def _examples(args: argparse.Namespace) -> tuple[list[str], list[str], list[str], list[str]]:
    from lmlab.errors import ConfigError

    if args.data:
        texts, labels = read_columns(args.data, [args.text_field, args.label_field], limit=args.limit)
    else:
        from lmlab.data.world import World

        world = World(seed=args.seed)
        if not hasattr(world, "reviews"):
            raise ConfigError("this version of the world has no reviews", fix="pass --data FILE")
        items = world.reviews(args.limit or 4000)
        texts, labels = [r.text for r in items], [r.sentiment for r in items]
    texts, labels = [clean(str(t)) for t in texts], [str(y) for y in labels]
    if args.valid:
        vt, vl = read_columns(args.valid, [args.text_field, args.label_field])
        return texts, labels, [clean(str(t)) for t in vt], [str(y) for y in vl]
    (texts, labels), (vt, vl) = split_holdout([texts, labels], args.valid_fraction, args.seed)
    return texts, labels, vt, vl


def run_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lmlab.cli.common import torch_device
    from lmlab.models.rnn.classifier import RNNClassifierConfig
    from lmlab.train.recipes import classification_accuracy, train_rnn_classifier

    device = torch_device(args)
    config = train_config_from_args(args, device)
    texts, labels, vt, vl = _examples(args)
    cfg = RNNClassifierConfig(cell=args.cell, d_embed=args.d_embed, d_hidden=args.d_hidden,
                              n_layers=args.layers, dropout=args.dropout, max_len=args.max_len,
                              bidirectional=not args.unidirectional)
    t0 = time.perf_counter()
    model, history = train_rnn_classifier(texts, labels, vt, vl, cfg, config, tokenizer_kind=args.tokenizer,
                                          vocab_size=args.vocab_size, min_frequency=args.min_frequency,
                                          batch_size=args.batch_size,
                                          word_vectors=load_word_vectors(args.word_vectors))
    seconds = time.perf_counter() - t0
    if not only_main_process():
        return 0
    path = model.save(Path(args.out) / "model")
    acc = classification_accuracy(model, vt, vl)
    result = {"model": str(path), "n_train": len(texts), "n_valid": len(vt), "valid_accuracy": acc,
              "steps": history.steps, "train_seconds": round(seconds, 1), "labels": model.config.labels}
    emit(args, result, f"{len(texts)} texts, {history.steps} steps in {seconds:.0f} s; "
                       f"validation accuracy {acc:.2%} on {len(vt)} -> {path}")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from lmlab.cli.common import torch_device
    from lmlab.models.rnn.classifier import RNNClassifier

    model = load_model_of(args.model, RNNClassifier, "lmlab classify train", torch_device(args))
    texts = [clean(t) for t in read_texts(args)]
    probs = model.predict_proba(texts)
    labels = model.config.labels
    rows = [{"text": t, "label": labels[int(p.argmax())],
             "probs": {name: round(float(x), 4) for name, x in zip(labels, p, strict=True)}}
            for t, p in zip(texts, probs, strict=True)]
    emit(args, rows, "\n".join(f"{r['label']}\t{max(r['probs'].values()):.2f}\t{r['text'][:70]}" for r in rows))
    return 0
