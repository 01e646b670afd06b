"""`lmlab ladder [CORPUS] [--quick]`: the lecture's ladder of language models on one corpus."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lmlab.cli.common import add_command, emit, show_progress


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(
        subparsers, "ladder", common,
        help="train and compare n-grams, RNNs, LSTM, GRU, GPT and word2vec on one corpus",
        description=("Train the ladder of language models on one split of one corpus (the embedded world "
                     "by default) and compare test perplexity (with the exact floor on the world), "
                     "long-range probes, samples with every decoding strategy and word2vec neighbours. "
                     "Writes OUT/ladder.json, OUT/report.html and every trained model under "
                     "OUT/models/<name> (unigram, bigram, trigram, 5gram, elman, lstm, gru, gpt, "
                     "word2vec), ready for `lmlab generate OUT/models/gpt \"...\"` and `lmlab eval`."),
        example="lmlab ladder --quick            # about 2 minutes on a laptop CPU\n"
                "  lmlab ladder mis_textos/ --out ladder-quijote")
    p.add_argument("corpus", nargs="?", help="a UTF-8 text file or folder of .txt files (default: the world)")
    p.add_argument("--quick", action="store_true", help="small sizes and budgets (a couple of minutes)")
    p.add_argument("--out", default="ladder-out", help="output folder (default ladder-out)")
    p.add_argument("--train-tokens", type=int, help="training tokens to use (default 1M, quick 150k)")
    p.add_argument("--steps", type=int, help="optimiser steps for each neural model")
    p.add_argument("--no-save-models", action="store_true",
                   help="do not keep the trained models under OUT/models")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from lmlab.apps.ladder import LadderConfig, run_ladder
    from lmlab.apps.ladder_report import terminal_table, write_outputs
    from lmlab.device import resolve_device, seed_everything
    from lmlab.errors import check_range

    seed_everything(args.seed)
    resolve_device(args.device)  # fail early on an unavailable device
    overrides: dict[str, Any] = {"seed": args.seed, "device": args.device, "progress": show_progress(args)}
    if args.train_tokens is not None:
        overrides["train_tokens"] = int(check_range("--train-tokens", args.train_tokens, 1000))
    if args.steps is not None:
        steps = int(check_range("--steps", args.steps, 1))
        overrides.update(rnn_steps=steps, gpt_steps=steps)
    config = LadderConfig.preset("quick" if args.quick else "full", **overrides)
    from pathlib import Path

    models_dir = None if args.no_save_models else Path(args.out) / "models"
    result, wv = run_ladder(config, corpus=args.corpus, models_dir=models_dir)
    paths = write_outputs(result, wv, args.out)
    stream = sys.stderr if args.json else sys.stdout
    console = Console(file=stream, width=None if stream.isatty() else 120)
    console.print(terminal_table(result))
    console.print(f"report: {paths['html']}   figures: {paths['json']}")
    if models_dir is not None:
        console.print(f"models: {models_dir}/<name>   try: lmlab generate {models_dir}/gpt "
                      f'"{result.prompts[0] if result.prompts else ""}"')
    if args.json:
        emit(args, {**result.to_dict(), "outputs": {k: str(v) for k, v in paths.items()}})
    return 0
