"""`lmlab align reward|score|dpo`: learning from preference pairs.

    lmlab align reward --model runs/sft/model --data world -o runs/rm --steps 300
    lmlab align score runs/rm --input pairs.jsonl --json
    lmlab align dpo runs/sft/model --data pairs.jsonl -o runs/dpo --beta 0.1 --loss sigmoid

PAIRS is a JSON/JSONL(.gz) file of {"prompt", "chosen", "rejected"} rows (conversational prompts,
instruction rows and Anthropic HH transcripts too; `lmlab.align.preferences`), or `world` for the
embedded world's pairs. Every row is validated; bad ones are skipped and counted by line number
(`--strict` stops at the first). `--eval-fraction F` holds out a seeded part of the pairs and
reports accuracy on it (HH's harmless-base ships only a test split). `reward` trains a reward
model on a causal LM backbone (OUT/model, type "reward"); `score` gives the reward of each
{"prompt", "response"} row, or of both replies of each pair with the accuracy; `dpo` trains the
policy with DPO against a frozen copy of itself (`--reference` another model,
`--precompute-ref` to compute the reference log-probs once), OUT/model being the new policy.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from lmlab.cli.common import (
    add_command,
    add_group,
    add_training_options,
    emit,
    train_config_from_args,
)

EXAMPLE = "lmlab align dpo runs/sft/model --data world -o runs/dpo --steps 200 --beta 0.1"


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "align", common, help="reward models and DPO on preference pairs",
                    description=__doc__.split("\n\n")[0].replace("`", ""), example=EXAMPLE)
    p = add_command(sub, "reward", common, help="train a reward model on preference pairs",
                    example="lmlab align reward --model runs/sft/model --data world -o runs/rm")
    p.add_argument("--model", required=True, help="the backbone: an lmlab GPT/Llama folder")
    _data_options(p)
    add_training_options(p, lr=1e-3, batch_size=8)
    p.set_defaults(func=run_reward)

    p = add_command(sub, "score", common, help="rewards of responses, or accuracy on pairs",
                    example="lmlab align score runs/rm --input pairs.jsonl")
    p.add_argument("rm", metavar="RM", help="a reward-model folder (or the run folder holding model/)")
    p.add_argument("--input", required=True,
                   help='JSONL of {"prompt", "response"} rows, or of preference pairs')
    p.add_argument("--chat-template", help="override the reward model's chat template")
    p.set_defaults(func=run_score)

    p = add_command(sub, "dpo", common, help="direct preference optimisation of a policy",
                    example=EXAMPLE)
    p.add_argument("policy", metavar="POLICY", help="an lmlab GPT/Llama folder (usually SFT)")
    _data_options(p)
    o = p.add_argument_group("DPO")
    o.add_argument("--beta", type=float, default=0.1, help="KL strength beta (0.1)")
    o.add_argument("--loss", choices=("sigmoid", "ipo"), default="sigmoid",
                   help="sigmoid (DPO; with --label-smoothing: conservative DPO) or ipo")
    o.add_argument("--label-smoothing", type=float, default=0.0,
                   help="assumed rate of flipped labels, in [0, 0.5) (0)")
    o.add_argument("--reference", help="reference model folder (default: the policy as it starts)")
    o.add_argument("--precompute-ref", action="store_true",
                   help="compute the reference log-probs once, then free the reference")
    add_training_options(p, lr=1e-4, batch_size=8)
    p.set_defaults(func=run_dpo)


def _data_options(p: argparse.ArgumentParser) -> None:
    d = p.add_argument_group("data")
    d.add_argument("--data", default="world", help="JSON/JSONL(.gz) preference pairs, or `world`")
    d.add_argument("--valid", help="held-out pairs to evaluate on")
    d.add_argument("--eval-fraction", type=float, default=0.0,
                   help="hold out this part of --data for evaluation (0 = none)")
    d.add_argument("--world-items", type=int, default=2000, help="--data world: pairs (2000)")
    d.add_argument("--limit", type=int, help="read at most this many pairs")
    d.add_argument("--strict", action="store_true", help="stop at the first bad row")
    d.add_argument("--chat-template", help="llama2, chatml, zephyr, alpaca, ... or a .jinja file "
                   "(default: the model's own)")


def _template(args: argparse.Namespace) -> str | None:
    name = args.chat_template
    if name and name.endswith(".jinja") and Path(name).is_file():
        return Path(name).read_text(encoding="utf-8")
    return name


def _pairs(args: argparse.Namespace) -> tuple[list[Any], list[Any] | None, Any]:
    from lmlab.align.preferences import read_preferences, split_pairs, world_preferences

    report = None
    if args.data == "world":
        pairs = world_preferences(args.world_items, seed=args.seed)
    else:
        data = read_preferences(args.data, errors="strict" if args.strict else "report",
                                limit=args.limit)
        pairs, report = data.pairs, data.report
    valid = None
    if args.valid:
        valid = read_preferences(args.valid).pairs
    elif args.eval_fraction:
        pairs, valid = split_pairs(pairs, args.eval_fraction, seed=args.seed)
    return pairs, valid, report


def _open_lm(path: str, device: Any) -> Any:
    from lmlab.errors import ModelFormatError
    from lmlab.io.loading import load
    from lmlab.models.transformer.gpt import GPT

    folder = Path(path) / "model" if (Path(path) / "model" / "config.json").is_file() else Path(path)
    model = load(folder)
    if not isinstance(model, GPT):
        raise ModelFormatError(f"the folder holds a {type(model).__name__}, not a GPT/Llama",
                               where=str(path), fix="train one with `lmlab train gpt` or `lmlab sft`")
    return model.to(device)


def _bad(report: Any) -> int:
    return len(report.bad) if report is not None else 0


def run_reward(args: argparse.Namespace) -> int:
    from lmlab.align.reward import reward_accuracy, train_reward
    from lmlab.cli.common import only_main_process, torch_device

    device = torch_device(args)
    config = train_config_from_args(args, device)
    backbone = _open_lm(args.model, device)
    pairs, valid, report = _pairs(args)
    t0 = time.perf_counter()
    rm, history = train_reward(backbone, pairs, config, valid=valid, template=_template(args),
                               batch_size=args.batch_size)
    seconds = time.perf_counter() - t0
    if not only_main_process():
        return 0
    path = rm.save(Path(args.out) / "model")
    train_acc = reward_accuracy(rm, pairs[:500])
    held = reward_accuracy(rm, valid) if valid else None
    result = {"model": str(path), "steps": history.steps, "train_seconds": round(seconds, 1),
              "pairs": rm.reward_report.kept, "dropped_too_long": len(rm.reward_report.too_long),
              "bad_rows": _bad(report), "train_accuracy": train_acc["accuracy"],
              "eval_accuracy": held["accuracy"] if held else None,
              "eval_pairs": held["n"] if held else 0, "stop_reason": history.stop_reason}
    text = (f"reward model: {history.steps} steps in {seconds:.0f} s on {rm.reward_report.summary()}; "
            f"train accuracy {train_acc['accuracy']:.3f}"
            + (f", held-out {held['accuracy']:.3f} on {held['n']} pairs" if held else "") + f" -> {path}")
    emit(args, result, text)
    return 0


def run_score(args: argparse.Namespace) -> int:
    import json

    import torch

    from lmlab.align.data import numbered_rows
    from lmlab.align.preferences import row_to_pair
    from lmlab.align.reward import RewardModel
    from lmlab.cli.common import torch_device
    from lmlab.errors import DataError, ModelFormatError
    from lmlab.io.loading import load

    torch.set_num_threads(max(1, getattr(args, "threads", 1) or 1))
    folder = Path(args.rm) / "model" if (Path(args.rm) / "model" / "config.json").is_file() else Path(args.rm)
    rm = load(folder)
    if not isinstance(rm, RewardModel):
        raise ModelFormatError(f"the folder holds a {type(rm).__name__}, not a reward model",
                               where=str(args.rm), fix="train one with `lmlab align reward`")
    rm = rm.to(torch_device(args))
    path = Path(args.input)
    if not path.is_file():
        raise DataError("no such file", where=str(path), fix="pass a JSONL file")
    prompts, responses, kinds, lines = [], [], [], []
    for n, row in numbered_rows(path):
        where = f"{path}, line {n}"
        if isinstance(row, Exception):
            raise DataError(str(row), where=where, fix="write one JSON object per line")
        if isinstance(row, dict) and "response" in row:
            if not isinstance(row.get("response"), str) or "prompt" not in row:
                raise DataError("a row needs a 'prompt' and a text 'response'", where=where,
                                fix='write {"prompt": ..., "response": ...}')
            prompts.append(row["prompt"])
            responses.append(row["response"])
            kinds.append("response")
        else:
            try:
                pair = row_to_pair(row)
            except DataError as exc:
                raise DataError(str(exc), where=where) from exc
            prompts += [pair.prompt, pair.prompt]
            responses += [pair.chosen, pair.rejected]
            kinds.append("pair")
        lines.append(n)
    scores = rm.score_many(prompts, responses, template=_template(args))
    out, k, right = [], 0, 0
    for kind, n in zip(kinds, lines, strict=True):
        if kind == "response":
            out.append({"line": n, "reward": scores[k]})
            k += 1
        else:
            c, r = scores[k], scores[k + 1]
            right += c > r
            out.append({"line": n, "chosen": c, "rejected": r})
            k += 2
    pairs = kinds.count("pair")
    result = {"rows": out, "pairs": pairs, "accuracy": right / pairs if pairs else None}
    text = "\n".join(json.dumps(row) for row in out)
    if pairs:
        text += f"\naccuracy {right / pairs:.3f} on {pairs} pairs"
    emit(args, result, text)
    return 0


def run_dpo(args: argparse.Namespace) -> int:
    from lmlab.align.dpo import dpo
    from lmlab.cli.common import only_main_process, torch_device

    device = torch_device(args)
    config = train_config_from_args(args, device)
    policy = _open_lm(args.policy, device)
    reference = _open_lm(args.reference, device) if args.reference else None
    if reference is not None and reference.tokenizer.get_vocab() != policy.tokenizer.get_vocab():
        from lmlab.errors import ConfigError

        raise ConfigError(f"the reference {args.reference} has another tokenizer than the policy "
                          f"{args.policy}", fix="use a reference with the policy's tokenizer")
    pairs, valid, report = _pairs(args)
    t0 = time.perf_counter()
    policy, history = dpo(policy, pairs, config, reference=reference,
                          precompute_reference=args.precompute_ref, beta=args.beta,
                          loss_type=args.loss, label_smoothing=args.label_smoothing, valid=valid,
                          template=_template(args), batch_size=args.batch_size)
    seconds = time.perf_counter() - t0
    if not only_main_process():
        return 0
    path = policy.save(Path(args.out) / "model")
    evals = [r for r in history.records if r["split"] == "eval"]
    result = {"model": str(path), "steps": history.steps, "train_seconds": round(seconds, 1),
              "pairs": policy.dpo_report.kept, "dropped_too_long": len(policy.dpo_report.too_long),
              "bad_rows": _bad(report), "final_loss": history.losses()[-1] if history.losses() else None,
              "eval": evals[-1] if evals else None, "stop_reason": history.stop_reason}
    text = f"DPO: {history.steps} steps in {seconds:.0f} s on {policy.dpo_report.summary()} -> {path}"
    emit(args, result, text)
    return 0
