"""`lmlab translate train|run`: an RNN encoder-decoder with attention.

    lmlab translate train --data ../shared/data/spa_eng_tatoeba/spa.txt --source-field 2 \\
        --target-field 1 --limit 30000 --steps 3000 -o runs/es-en
    lmlab translate run --model runs/es-en/model --beam 4 "¿Dónde está la estación?"
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
    load_model_of,
    only_main_process,
    read_texts,
    train_config_from_args,
)
from lmlab.data.columns import read_columns, split_holdout


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "translate", common, help="train and run an RNN translation model",
                    description="Seq2seq RNN with attention (Bahdanau or Luong).",
                    example='lmlab translate run --model runs/es-en/model "¿Dónde está?"')
    p = add_command(sub, "train", common, help="train a seq2seq model on sentence pairs",
                    example="lmlab translate train --data spa.txt --source-field 2 --target-field 1 "
                            "--steps 2000 -o runs/es-en")
    p.add_argument("--data", help="TSV (or JSONL) of sentence pairs (default: the world's es->en)")
    p.add_argument("--source-field", default="1", help="source column number / key (1)")
    p.add_argument("--target-field", default="2", help="target column number / key (2)")
    p.add_argument("--limit", type=int, help="read only the first N pairs of the file")
    p.add_argument("--shuffle-limit", type=int, help="shuffle all pairs with --seed, then keep N")
    p.add_argument("--valid-size", type=int, default=500, help="held-out pairs for chrF/BLEU (500)")
    p.add_argument("--attention", choices=("bahdanau", "luong"), default="luong")
    p.add_argument("--max-len", type=int, default=48, help="tokens kept per sentence (48)")
    p.add_argument("--beam", type=int, default=1, help="beam width for the final evaluation (1 = greedy)")
    add_rnn_options(p, cell="gru", d_embed=128, d_hidden=256)
    add_training_options(p, lr=2e-3, batch_size=64)
    p.set_defaults(func=run_train)
    q = add_command(sub, "run", common, help="translate texts with a trained model",
                    example='lmlab translate run --model runs/es-en/model "¿Dónde está la estación?"')
    q.add_argument("texts", nargs="*", help="texts to translate")
    q.add_argument("-i", "--input", help="file with one text per line ('-' for stdin)")
    q.add_argument("-m", "--model", required=True, help="seq2seq folder (from translate train)")
    q.add_argument("--beam", type=int, default=1, help="beam width (1 = greedy)")
    q.set_defaults(func=run_translate)


def _pairs(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    from lmlab.errors import ConfigError

    if args.data:
        src, tgt = read_columns(args.data, [args.source_field, args.target_field],
                                limit=None if args.shuffle_limit else args.limit)
    else:
        from lmlab.data.world import World

        world = World(seed=args.seed)
        if not hasattr(world, "parallel"):
            raise ConfigError("this version of the world has no parallel text", fix="pass --data FILE")
        items = world.parallel(args.limit or 5000)
        src, tgt = [p.es for p in items], [p.en for p in items]
    if args.shuffle_limit:
        import random

        order = list(range(len(src)))
        random.Random(args.seed).shuffle(order)
        order = order[: args.shuffle_limit]
        src, tgt = [src[i] for i in order], [tgt[i] for i in order]
    return [str(s) for s in src], [str(t) for t in tgt]


def run_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lmlab.apps.translate import evaluate_translation
    from lmlab.cli.common import torch_device
    from lmlab.models.rnn.seq2seq import Seq2SeqConfig
    from lmlab.train.translation import train_seq2seq

    device = torch_device(args)
    config = train_config_from_args(args, device)
    src, tgt = _pairs(args)
    fraction = min(0.5, args.valid_size / max(1, len(src)))
    (src, tgt), (vs, vt) = split_holdout([src, tgt], fraction, args.seed)
    cfg = Seq2SeqConfig(cell=args.cell, d_embed=args.d_embed, d_hidden=args.d_hidden, n_layers=args.layers,
                        dropout=args.dropout, attention=args.attention, max_len=args.max_len)
    t0 = time.perf_counter()
    model, history = train_seq2seq(src, tgt, valid=(vs, vt), model_config=cfg, train_config=config,
                                   tokenizer_kind=args.tokenizer, vocab_size=args.vocab_size,
                                   batch_size=args.batch_size)
    seconds = time.perf_counter() - t0
    if not only_main_process():
        return 0
    path = model.save(Path(args.out) / "model")
    evaluation = evaluate_translation(model, vs, vt, num_beams=args.beam)
    scores = evaluation.scores
    result = {"model": str(path), "n_train": len(src), "n_valid": len(vs), "steps": history.steps,
              "train_seconds": round(seconds, 1), "decoding": f"beam {args.beam}" if args.beam > 1 else "greedy",
              **scores, "examples": evaluation.examples(vs, vt)}
    emit(args, result, f"{len(src)} pairs, {history.steps} steps in {seconds:.0f} s: chrF {scores['chrf']:.1f}, "
                       f"BLEU {scores['bleu']:.1f} on {len(vs)} held-out pairs -> {path}")
    return 0


def run_translate(args: argparse.Namespace) -> int:
    from lmlab.apps.translate import translate
    from lmlab.cli.common import torch_device
    from lmlab.models.rnn.seq2seq import Seq2Seq

    model = load_model_of(args.model, Seq2Seq, "lmlab translate train", torch_device(args))
    texts = read_texts(args)
    outs = translate(model, texts, strategy="beam" if args.beam > 1 else "greedy", num_beams=max(args.beam, 1))
    emit(args, [{"source": s, "translation": t} for s, t in zip(texts, outs, strict=True)], "\n".join(outs))
    return 0
