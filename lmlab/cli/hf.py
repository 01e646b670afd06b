"""`lmlab hf import|export`: Hugging Face checkpoint folders to lmlab folders and back.

    lmlab hf import ~/modelos/SmolLM2-135M-Instruct -o models/smollm2 --dtype bfloat16
    lmlab hf export models/smollm2 -o exported/smollm2 --model-type llama

Supported families: GPT-2, BERT, and the Llama family (llama, mistral, qwen2, mixtral). `lmlab.load`
opens a Hugging Face folder directly too; importing writes it once in lmlab's own format (with its
tokenizer and chat template). A model without a chat template can be given a built-in one
(`--chat-template llama2|llama3|chatml|mistral|zephyr|alpaca`).
"""

from __future__ import annotations

import argparse
from typing import Any

from lmlab.cli.common import add_command, add_group, emit


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "hf", common, help="import and export Hugging Face checkpoints",
                    description=__doc__.split("\n\n")[0].strip("`"),
                    example="lmlab hf import ~/modelos/Qwen2.5-0.5B-Instruct -o models/qwen")
    p = add_command(sub, "import", common, help="a Hugging Face folder -> an lmlab model folder",
                    example="lmlab hf import ~/modelos/SmolLM2-135M -o models/smollm2 --dtype auto")
    p.add_argument("folder", help="Hugging Face folder: config.json, *.safetensors, tokenizer files")
    p.add_argument("-o", "--out", required=True, help="the lmlab model folder to write")
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16", "auto"), default="float32",
                   help="weights' dtype (auto: as stored; default float32)")
    p.add_argument("--chat-template", metavar="NAME",
                   help="a built-in chat template for a model that ships none")
    p.set_defaults(func=run_import)
    p = add_command(sub, "export", common, help="an lmlab model folder -> a Hugging Face folder",
                    example="lmlab hf export models/gpt -o exported/gpt2")
    p.add_argument("model", help="an lmlab model folder (GPT, BERT or Llama family)")
    p.add_argument("-o", "--out", required=True, help="the Hugging Face folder to write")
    p.add_argument("--model-type", choices=("gpt2", "bert", "llama", "mistral", "qwen2", "mixtral"),
                   help="the layout to write (default: the one the model's config implies)")
    p.set_defaults(func=run_export)


def run_import(args: argparse.Namespace) -> int:
    from lmlab.io.hf import import_hf

    model = import_hf(args.folder, dtype=None if args.dtype == "float32" else args.dtype)
    if args.chat_template:
        from lmlab.chat import template_for

        model.chat_template = template_for(args.chat_template)
    path = model.save(args.out)
    n = sum(p.numel() for p in model.parameters())
    emit(args, {"model": str(path), "type": model.config_type, "parameters": n,
                "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
                "chat_template": model.chat_template is not None},
         f"{args.folder} -> {path}: {type(model).__name__}, {n:,} parameters"
         + (", with a chat template" if model.chat_template else ""))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from lmlab.io.hf import export_family, export_hf
    from lmlab.io.loading import load

    model = load(args.model)
    family = export_family(model, args.model_type)
    path = export_hf(model, args.out, model_type=family.model_type)
    emit(args, {"folder": str(path), "model_type": family.model_type},
         f"{args.model} -> {path} ({family.model_type})")
    return 0
