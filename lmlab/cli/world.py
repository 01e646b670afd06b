"""`lmlab world ...`: generate the embedded world's data and measure the exact entropy floor."""

from __future__ import annotations

import argparse
from typing import Any

from lmlab.cli.common import add_command, add_group, emit

SPLITS = ("train", "valid", "test")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "world", common,
                    help="the embedded synthetic Spanish/English world with exact ground truth",
                    example="lmlab world generate lm -o world.txt --n-tokens 1000000")

    from lmlab.data.world.export import kinds

    p = add_command(sub, "generate", common, help="write one kind of world data to a file",
                    example="lmlab world generate lm -o train.txt --n-tokens 1000000 --split train")
    p.add_argument("kind", choices=kinds(), help="what to generate (lm: text, one sentence per line)")
    p.add_argument("-o", "--output", required=True, help="file to write")
    size = p.add_mutually_exclusive_group()
    size.add_argument("-n", "--n", "--n-sentences", "--n-items", dest="n", type=int, default=None,
                      help="number of sentences (lm), probes per distance (probes), people (documents) "
                           "or items (other kinds)")
    size.add_argument("--n-tokens", type=int, default=None,
                      help="lm only: sentences until at least this many tokens (default 100000)")
    p.add_argument("--split", choices=SPLITS, default="train",
                   help="lm only: which independent stream of the seed (default train)")
    p.set_defaults(func=run_generate)

    p = add_command(sub, "entropy", common,
                    help="exact cross-entropy floor (bits/token, perplexity) of generated lm text",
                    example="lmlab world entropy test.txt --json")
    p.add_argument("file", help="text written by `lmlab world generate lm`")
    p.set_defaults(func=run_entropy)


def run_generate(args: argparse.Namespace) -> int:
    from lmlab.data.world import World
    from lmlab.data.world.export import export

    summary = export(World(args.seed), args.kind, args.output, n=args.n, n_tokens=args.n_tokens,
                     split=args.split)
    text = f"wrote {args.output}: " + ", ".join(
        f"{k} {v}" for k, v in summary.items() if k not in ("path", "kind", "floor"))
    if "floor" in summary:
        fl = summary["floor"]
        text += f"\nfloor: {fl['bits_per_token']:.4f} bits/token, perplexity {fl['ppl']:.3f}"
    emit(args, summary, text)
    return 0


def run_entropy(args: argparse.Namespace) -> int:
    from lmlab.data.corpus import iter_lines
    from lmlab.data.world import World

    path = args.file
    world = World(args.seed)
    floor = world.entropy_floor(world.score_lines(iter_lines(path), str(path)), where=str(path))
    emit(args, {"path": str(path), **floor.to_dict()},
         f"{path}: {floor.n_sentences} sentences, {floor.n_tokens} tokens (+{floor.n_sentences} ends)\n"
         f"floor: {floor.bits_per_token:.4f} bits/token, perplexity {floor.ppl:.3f} "
         f"({floor.bits_per_word:.4f} bits/word without ends)")
    return 0
