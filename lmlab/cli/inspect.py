"""`lmlab inspect MODEL`: what a saved model folder holds (config, tensors, tokenizer), without
building the model, so it works on any folder of the format."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from lmlab.cli.common import add_command, emit


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(subparsers, "inspect", common, help="show what a saved model folder holds",
                    example="lmlab inspect models/trigram --json")
    p.add_argument("path", help="an lmlab model folder or a Hugging Face one (config.json + "
                   "safetensors files)")
    p.set_defaults(func=run)


def inspect_folder(path: str | Path) -> dict[str, Any]:
    """Config, tensor names/shapes/dtypes, parameter count and tokenizer size of a model folder.

    Only the safetensors headers are read (no tensor is loaded), so any size and dtype works, and
    sharded Hugging Face checkpoints are listed whole."""
    import json

    from safetensors import safe_open

    from lmlab.io.folder import read_tokenizer
    from lmlab.io.loading import is_hf_folder

    folder = Path(path)
    if is_hf_folder(folder):
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    else:
        from lmlab.io.folder import read_config

        config = read_config(folder)
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        from lmlab.errors import ModelFormatError

        raise ModelFormatError("no .safetensors file in the folder", where=str(folder),
                               fix="point to a model folder with its weights")
    tensors: dict[str, dict[str, Any]] = {}
    for file in files:
        with safe_open(str(file), framework="pt") as handle:
            for name in handle.keys():  # noqa: SIM118 - a safetensors handle, not a dict
                piece = handle.get_slice(name)
                tensors[name] = {"shape": list(piece.get_shape()),
                                 "dtype": _DTYPES.get(piece.get_dtype(), piece.get_dtype().lower())}
    tokenizer = read_tokenizer(folder)
    n = sum(math.prod(t["shape"]) for t in tensors.values())
    return {"path": str(folder), "config": config, "tensors": dict(sorted(tensors.items())),
            "n_parameters": n,
            "tokenizer_vocab_size": tokenizer.get_vocab_size() if tokenizer is not None else None}


#: safetensors' dtype names -> torch's
_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
           "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
           "BOOL": "bool"}



def run(args: argparse.Namespace) -> int:
    info = inspect_folder(args.path)
    kind = info["config"].get("type") or f"Hugging Face {info['config'].get('model_type')}"
    lines = [f"{info['path']}: type {kind}, {info['n_parameters']:,} values"]
    lines += [f"  {name:40} {tuple(t['shape'])} {t['dtype']}" for name, t in info["tensors"].items()]
    if info["tokenizer_vocab_size"] is not None:
        lines.append(f"  tokenizer: {info['tokenizer_vocab_size']:,} tokens")
    emit(args, info, "\n".join(lines))
    return 0
