"""`lmlab sft MODEL --data FILE -o OUT` and `lmlab sft eval MODEL --data FILE`: instruction tuning.

    lmlab sft runs/gpt/model --data world -o runs/sft --steps 600 --chat-template alpaca
    lmlab sft runs/gpt/model --data alpaca.json --lora-rank 8 -o runs/lora --steps 300
    lmlab sft eval runs/sft/model --data world --json

Training reads instruction items (`--format alpaca`) or conversations (`--format messages`,
ShareGPT too; the format is guessed from the first row), validates every row (bad ones are
skipped and counted by line number), renders them through the chat template (`--chat-template`,
default the model's own) and trains on the replies only (`lmlab.align.sft`), with the shared
training options: checkpoints, `--resume` after Ctrl-C, `--threads`. `--data world` takes the
embedded world's instruction tasks. T0-style multitask prompted training is the same command on
prompted task data. With `--lora-rank R` only LoRA adapters train; OUT/adapter holds them in
PEFT's layout and OUT/model the merged model (which `lmlab chat` and `lmlab sft eval` open).

`eval` answers each held-out item greedily and reports exact match per task and overall (with
`--data world`, the world items after the first `--world-offset`, unseen in training).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from lmlab.cli.common import add_command, add_training_options, emit, train_config_from_args

EXAMPLE = "lmlab sft runs/gpt/model --data world -o runs/sft --steps 600 --chat-template alpaca"


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(subparsers, "sft", common,
                    help="supervised fine-tuning on instructions/conversations; `sft eval` scores it",
                    description=__doc__.split("\n\n")[0].strip("`"), example=EXAMPLE)
    p.add_argument("model", metavar="MODEL", help="an lmlab GPT/Llama folder, or `eval`")
    p.add_argument("eval_model", nargs="?", metavar="EVAL_MODEL",
                   help="with `eval`: the model folder to evaluate")
    d = p.add_argument_group("data")
    d.add_argument("--data", default="world",
                   help="JSON/JSONL instruction or conversation file, or `world` (default)")
    d.add_argument("--format", choices=("alpaca", "messages"), help="row format (default: guessed)")
    d.add_argument("--valid", help="held-out file to evaluate the loss on during training")
    d.add_argument("--world-items", type=int, default=2000,
                   help="world instruction items to train on, or to evaluate with eval (2000)")
    d.add_argument("--world-offset", type=int, default=100_000,
                   help="eval --data world: the first item evaluated (items before it are the "
                        "training ones; default 100000)")
    d.add_argument("--strict", action="store_true", help="stop at the first bad row instead of "
                   "skipping and counting bad rows")
    f = p.add_argument_group("formatting")
    f.add_argument("--chat-template", help="llama2, llama3, chatml, mistral, zephyr, alpaca or a "
                   ".jinja file (default: the model's own)")
    f.add_argument("--max-len", type=int, help="longest example in tokens (default: the context)")
    f.add_argument("--truncation", choices=("drop", "truncate", "error"), default="drop",
                   help="longer examples: skip and count them (default), cut them, or stop")
    f.add_argument("--pack", action="store_true",
                   help="pack short examples into full windows (no attention across examples)")
    lo = p.add_argument_group("LoRA")
    lo.add_argument("--lora-rank", type=int, default=0, help="train rank-R adapters only (0 = full)")
    lo.add_argument("--lora-alpha", type=float, help="adapter scale alpha (default 2 x rank)")
    lo.add_argument("--lora-dropout", type=float, default=0.0, help="dropout on adapter inputs")
    lo.add_argument("--lora-targets", default="qkv,out",
                    help="comma-separated: qkv,out,up,gate_up,down,lm_head (default qkv,out)")
    e = p.add_argument_group("eval")
    e.add_argument("--max-new-tokens", type=int, default=48, help="answer length limit (48)")
    add_training_options(p, lr=1e-3, batch_size=16)
    for action in p._actions:  # -o is needed to train, not to evaluate
        if action.dest == "out":
            action.required = False
    p.set_defaults(func=run)


def _template(args: argparse.Namespace) -> str | None:
    from pathlib import Path

    name = args.chat_template
    if name and name.endswith(".jinja") and Path(name).is_file():
        return Path(name).read_text(encoding="utf-8")
    return name


def _examples(args: argparse.Namespace, *, held_out: bool) -> list[Any]:
    from lmlab.align import read_sft_data, world_examples

    if args.data == "world":
        offset = args.world_offset if held_out else 0
        return world_examples(args.world_items, seed=args.seed, offset=offset)
    data = read_sft_data(args.data, args.format, errors="strict" if args.strict else "report")
    return data.examples


def _open(path: str, device: Any) -> Any:
    from lmlab.errors import ModelFormatError
    from lmlab.io.loading import load
    from lmlab.models.transformer.gpt import GPT

    model = load(path)
    if not isinstance(model, GPT):
        raise ModelFormatError(f"the folder holds a {type(model).__name__}, not a GPT/Llama",
                               where=path, fix="train one with `lmlab train gpt` or import one")
    return model.to(device)


def run(args: argparse.Namespace) -> int:
    from lmlab.errors import ConfigError

    if args.model == "eval":
        if not args.eval_model:
            raise ConfigError("`lmlab sft eval` needs a model folder", where="sft eval",
                              fix="lmlab sft eval runs/sft/model --data world")
        return run_eval(args)
    if args.eval_model:
        raise ConfigError(f"unexpected argument {args.eval_model!r}", where="sft",
                          fix="lmlab sft MODEL --data FILE -o OUT (or lmlab sft eval MODEL)")
    if not args.out:
        raise ConfigError("training needs a run folder", where="sft", fix="add -o OUT")
    return run_train(args)


def run_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lmlab.align import LoRAConfig, merge_lora, save_adapters, sft
    from lmlab.align.lora import lora_modules
    from lmlab.cli.common import only_main_process, torch_device

    device = torch_device(args)
    config = train_config_from_args(args, device)
    model = _open(args.model, device)
    examples = _examples(args, held_out=False)
    valid = None
    if args.valid:
        from lmlab.align import read_sft_data

        valid = read_sft_data(args.valid, args.format).examples
    lora = None
    if args.lora_rank:
        targets = tuple(t.strip() for t in args.lora_targets.split(",") if t.strip())
        lora = LoRAConfig(rank=args.lora_rank, alpha=args.lora_alpha or 2.0 * args.lora_rank,
                          dropout=args.lora_dropout, targets=targets)
    t0 = time.perf_counter()
    model, history = sft(model, examples, config, valid=valid, template=_template(args), lora=lora,
                         batch_size=args.batch_size, pack=args.pack, max_len=args.max_len,
                         truncation=args.truncation, on_lora=_print_lora)
    seconds = time.perf_counter() - t0
    if not only_main_process():
        return 0
    out = Path(args.out)
    adapter = None
    if lora_modules(model):
        adapter = save_adapters(model, out / "adapter", base_model_name_or_path=args.model)
        merge_lora(model)
    path = model.save(out / "model")
    report = model.sft_report
    result = {"model": str(path), "adapter": str(adapter) if adapter else None,
              "steps": history.steps, "train_seconds": round(seconds, 1),
              "stop_reason": history.stop_reason, "examples": report.kept,
              "dropped_too_long": len(report.too_long), "truncated": len(report.truncated),
              "rejected": len(report.invalid),
              "final_loss": history.losses()[-1] if history.losses() else None}
    text = (f"SFT: {history.steps} steps in {seconds:.0f} s on {report.summary()} -> {path}"
            + (f"\nadapters (PEFT layout): {adapter}" if adapter else ""))
    emit(args, result, text)
    return 0


def _print_lora(info: Any) -> None:
    import sys

    print(info, file=sys.stderr)


def run_eval(args: argparse.Namespace) -> int:
    import torch

    from lmlab.align import sft_eval
    from lmlab.cli.common import torch_device

    torch.set_num_threads(max(1, args.threads))
    device = torch_device(args)
    model = _open(args.eval_model, device)
    examples = _examples(args, held_out=True)
    report = sft_eval(model, examples, template=_template(args),
                      max_new_tokens=args.max_new_tokens)
    emit(args, report.to_dict(), report.describe())
    return 0
