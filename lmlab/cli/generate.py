"""`lmlab generate MODEL "prompt"`: continue a text with any saved language model.

    lmlab generate ladder-out/models/gpt "El gato" --strategy sample --top-p 0.9 -n 40 --stream
    lmlab generate runs/gpt/model "El gato" --strategy beam --num-beams 5 --n-best 3 --json

MODEL is an lmlab model folder (`lmlab.load`); its `tokenizer.json` encodes the prompt and decodes
the output. The prompt is read as `lmlab.generate` reads text in Python: the model's start token
(`<s>`) first when it has one (`--no-bos` leaves it out), and its end token (`</s>`) stops a
sequence. An encoder-decoder (seq2seq, T5) transforms instead: the prompt is its source.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from lmlab.cli.common import add_command, emit

EXAMPLE = 'lmlab generate ladder-out/models/gpt "El perro" --strategy sample --top-p 0.9 --stream'


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(subparsers, "generate", common, help="generate text with a saved language model",
                    description=__doc__.split("\n\n")[0].strip("`"), example=EXAMPLE)
    p.add_argument("model", help="an lmlab model folder (n-gram, RNN, GPT, seq2seq ...)")
    p.add_argument("prompt", nargs="?", default="", help="the text to continue (default: empty)")
    p.add_argument("--strategy", choices=("greedy", "sample", "beam"), default="greedy")
    p.add_argument("-n", "--max-new-tokens", type=int, default=32, help="tokens to add at most (32)")
    g = p.add_argument_group("sampling (--strategy sample)")
    g.add_argument("--temperature", type=float, default=1.0, help="> 1 flatter, < 1 sharper, 0 greedy")
    g.add_argument("--top-k", type=int, default=0, help="sample among the k most likely (0 = all)")
    g.add_argument("--top-p", type=float, default=1.0, help="nucleus: smallest set with this mass")
    b = p.add_argument_group("beam search (--strategy beam)")
    b.add_argument("--num-beams", type=int, default=4, help="beam width (4)")
    b.add_argument("--length-penalty", type=float, default=1.0,
                   help="rank by log p / length ** this (1.0)")
    b.add_argument("--no-early-stopping", action="store_true",
                   help="keep searching after num-beams hypotheses finished")
    b.add_argument("--n-best", type=int, default=1, help="hypotheses to show (1)")
    p.add_argument("--repetition-penalty", type=float, default=1.0, help="> 1 discourages repeats")
    p.add_argument("--no-repeat-ngram", type=int, default=0, metavar="N",
                   help="never repeat an n-gram of this size (0 = off)")
    p.add_argument("--stop", action="append", default=[], metavar="TEXT",
                   help="stop before this text (repeatable)")
    p.add_argument("--top-logprobs", type=int, default=0, metavar="K",
                   help="show each token's log-probability and K alternatives")
    p.add_argument("--truncate", choices=("error", "left"), default="error",
                   help="a prompt too long for the context: fail, or keep its end")
    p.add_argument("--no-bos", action="store_true", help="do not put <s> before the prompt")
    p.add_argument("--stream", action="store_true",
                   help="print tokens as they are generated (with --json: one JSON line each)")
    p.set_defaults(func=run)


def _config(args: argparse.Namespace):
    from lmlab.generate import GenerationConfig

    sampling = args.strategy == "sample"
    return GenerationConfig(
        strategy=args.strategy, max_new_tokens=args.max_new_tokens,
        temperature=args.temperature if sampling else 1.0, top_k=args.top_k if sampling else 0,
        top_p=args.top_p if sampling else 1.0, repetition_penalty=args.repetition_penalty,
        no_repeat_ngram_size=args.no_repeat_ngram, num_beams=args.num_beams,
        length_penalty=args.length_penalty, early_stopping=not args.no_early_stopping,
        n_best=args.n_best, stop_strings=tuple(args.stop), seed=args.seed,
        top_logprobs=args.top_logprobs, truncate=args.truncate)


def _open(args: argparse.Namespace):
    """The model of the folder, on the chosen device, checked to read and write text."""
    from lmlab.cli.common import torch_device
    from lmlab.errors import ModelFormatError
    from lmlab.generate.api import is_encoder_decoder
    from lmlab.io.loading import load

    model = load(args.model)
    if not hasattr(model, "start") and not is_encoder_decoder(model):
        raise ModelFormatError(f"a {type(model).__name__} is not a language model", where=args.model,
                               fix="pass a folder holding an n-gram, RNN, GPT or seq2seq model")
    if getattr(model, "tokenizer", None) is None:
        raise ModelFormatError("the model folder has no tokenizer.json to read the prompt",
                               where=args.model, fix="save the model together with its tokenizer")
    if hasattr(model, "to"):
        model = model.to(torch_device(args))
    return model


def run(args: argparse.Namespace) -> int:
    from lmlab.generate import generate, stream

    model = _open(args)
    tokenizer = model.tokenizer
    config = _config(args)
    add_bos = not args.no_bos
    if args.stream:
        started = bool(args.prompt)  # without a prompt, the text starts at its first character
        if not args.json:
            sys.stdout.write(args.prompt)
        for ev in stream(model, args.prompt, config, add_bos=add_bos):
            if args.json:
                print(json.dumps({"id": ev.id, "text": ev.text, "log_prob": ev.log_prob,
                                  "top": ev.top, "finish_reason": ev.finish_reason},
                                 ensure_ascii=False), flush=True)
            else:
                text = ev.text or ""
                if not started:
                    text = text.lstrip()
                started = started or bool(text)
                sys.stdout.write(text)
                sys.stdout.flush()
        if not args.json:
            sys.stdout.write("\n")
        return 0
    gen = generate(model, args.prompt, config, add_bos=add_bos)
    data = gen.to_dict()
    data["prompt"] = args.prompt
    data["tokens"] = [tokenizer.id_to_token(i) for i in gen.ids]
    emit(args, data, _human(args, gen, tokenizer))
    return 0


def _human(args: argparse.Namespace, gen, tokenizer) -> str:
    """The prompt and its continuation; with --top-logprobs a table of tokens; with --n-best the list."""
    lines = []
    for rank, g in enumerate(gen.nbest or [gen], 1):
        head = f"{rank}. [{g.score:.3f}] " if len(gen.nbest) > 1 else ""
        lines.append(f"{head}{args.prompt}{g.text if args.prompt else (g.text or '').lstrip()}")
    if args.top_logprobs:
        lines.append("")
        for i, (tok, lp) in enumerate(zip(gen.ids, gen.log_probs, strict=True)):
            alts = "  ".join(f"{tokenizer.id_to_token(a)} {alp:.2f}" for a, alp in gen.top[i])
            lines.append(f"{tokenizer.id_to_token(tok):>14} {lp:7.3f}   | {alts}")
    lines.append(f"({len(gen.ids)} tokens, {gen.finish_reason})")
    return "\n".join(lines)
