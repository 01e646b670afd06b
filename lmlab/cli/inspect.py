"""`lmlab inspect MODEL`: what a saved model folder holds (config, tensors, tokenizer), without
building the model, so it works on any folder of the format."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lmlab.cli.common import add_command, emit


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = add_command(subparsers, "inspect", common, help="show what a saved model folder holds",
                    example="lmlab inspect models/trigram --json")
    p.add_argument("path", help="a model folder (config.json + model.safetensors)")
    p.set_defaults(func=run)


def inspect_folder(path: str | Path) -> dict[str, Any]:
    """Config, tensor names/shapes/dtypes, parameter count and tokenizer size of a model folder."""
    from lmlab.io.folder import read_arrays, read_config, read_tokenizer

    config = read_config(path)
    arrays = read_arrays(path)
    tokenizer = read_tokenizer(path)
    tensors = {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in sorted(arrays.items())}
    return {
        "path": str(path),
        "config": config,
        "tensors": tensors,
        "n_parameters": int(sum(v.size for v in arrays.values())),
        "tokenizer_vocab_size": tokenizer.get_vocab_size() if tokenizer is not None else None,
    }


def run(args: argparse.Namespace) -> int:
    info = inspect_folder(args.path)
    lines = [f"{info['path']}: type {info['config']['type']}, {info['n_parameters']:,} values"]
    lines += [f"  {name:40} {tuple(t['shape'])} {t['dtype']}" for name, t in info["tensors"].items()]
    if info["tokenizer_vocab_size"] is not None:
        lines.append(f"  tokenizer: {info['tokenizer_vocab_size']:,} tokens")
    emit(args, info, "\n".join(lines))
    return 0
