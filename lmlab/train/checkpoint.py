"""Training checkpoints without pickle: tensors in safetensors, everything else in JSON.

A checkpoint is a model folder (`lmlab.io.folder`), so `lmlab.load(ckpt)` opens the model when it is
savable, plus two files that let training continue exactly where it stopped:

    ckpt/
      config.json, model.safetensors, tokenizer.json   the model (as `model.save` writes it)
      optimizer.safetensors                            optimiser state tensors ("state.<i>.<name>")
                                                       and RNG states ("rng.torch_cpu", "rng.cuda.<i>")
      trainer_state.json                               step, data position, optimiser param groups,
                                                       Python/NumPy RNG states, history, best metric

`torch.save` pickles, so it is never used: optimiser state is split into its tensors and its plain
values. The folder is written atomically (`save_folder`), so a crash mid-save keeps the previous one.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lmlab.errors import ModelFormatError
from lmlab.io.folder import read_arrays, save_folder
from lmlab.io.torch_folder import tied_aliases

STATE_NAME = "trainer_state.json"
OPTIM_NAME = "optimizer.safetensors"
RAW_TYPE = "_trainer_checkpoint"  # model type written for modules that are not `Savable`


def capture_rng() -> tuple[Any, ...]:
    """A snapshot of the Python, NumPy and torch (CPU and CUDA) generators, cheap to take each step."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return random.getstate(), np.random.get_state(legacy=False), torch.get_rng_state(), cuda


def rng_state(snapshot: tuple[Any, ...] | None = None) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """RNG states (now, or of a `capture_rng` snapshot) as (JSON part, tensor part)."""
    (version, internal, gauss), np_state, cpu, cuda = snapshot or capture_rng()
    js = {"python": [version, list(internal), gauss],
          "numpy": {**np_state, "state": {"key": np_state["state"]["key"].tolist(),
                                          "pos": int(np_state["state"]["pos"])}}}
    tensors = {"rng.torch_cpu": cpu, **{f"rng.cuda.{i}": s for i, s in enumerate(cuda)}}
    return js, tensors


def set_rng_state(js: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    """Restore what `rng_state` returned."""
    version, internal, gauss = js["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = dict(js["numpy"])
    np_state["state"] = {"key": np.asarray(np_state["state"]["key"], dtype=np.uint32),
                         "pos": np_state["state"]["pos"]}
    np.random.set_state(np_state)
    torch.set_rng_state(tensors["rng.torch_cpu"])
    cuda = sorted((k for k in tensors if k.startswith("rng.cuda.")), key=lambda k: int(k.rsplit(".", 1)[1]))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k] for k in cuda])


def _split_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    plain: dict[str, dict[str, Any]] = {}
    for idx, st in sd["state"].items():
        for name, value in st.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{idx}.{name}"] = value.detach().to("cpu").contiguous().clone()
            else:
                plain.setdefault(str(idx), {})[name] = value
    return {"param_groups": sd["param_groups"], "plain_state": plain}, tensors


def _join_optimizer(js: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("state."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value
    for idx, values in js["plain_state"].items():
        state.setdefault(int(idx), {}).update(values)
    groups = [{k: tuple(v) if k == "betas" else v for k, v in g.items()} for g in js["param_groups"]]
    return {"state": state, "param_groups": groups}


def save_checkpoint(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    state: dict[str, Any], rng: tuple[Any, ...] | None = None) -> Path:
    """Atomically write model, optimiser, RNG states (now, or the `capture_rng` snapshot `rng`) and
    `state` (JSON-serialisable) to `path`."""
    from safetensors.torch import save as save_bytes

    if hasattr(model, "folder_parts") and hasattr(model, "config_type"):
        config, arrays, tokenizer = model.folder_parts()
        model_type = model.config_type
    else:
        aliases = tied_aliases(model)
        config, tokenizer, model_type = {}, None, RAW_TYPE
        arrays = {k: v for k, v in model.state_dict().items() if k not in aliases}
    opt_js, opt_tensors = _split_optimizer(optimizer)
    rng_js, rng_tensors = rng_state(rng)
    full_state = {**state, "optimizer": opt_js, "rng": rng_js}
    extra = {OPTIM_NAME: save_bytes({**opt_tensors, **rng_tensors}),
             STATE_NAME: json.dumps(full_state, indent=1, ensure_ascii=False) + "\n"}
    return save_folder(path, model_type, config, arrays, tokenizer, extra_files=extra)


def load_checkpoint(path: str | Path, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer | None = None, *,
                    restore_rng: bool = True) -> dict[str, Any]:
    """Load a checkpoint into `model` (and `optimizer`) in place; return the trainer state dict."""
    from safetensors.torch import load_file

    folder = Path(path)
    state_file, optim_file = folder / STATE_NAME, folder / OPTIM_NAME
    if not state_file.exists() or not optim_file.exists():
        raise ModelFormatError("not a training checkpoint (trainer_state.json or optimizer.safetensors "
                               "missing)", where=str(folder),
                               fix="pass a folder written by the Trainer, e.g. OUT/checkpoints/last")
    state = json.loads(state_file.read_text(encoding="utf-8"))
    arrays = read_arrays(folder, as_torch=True)
    expected = set(model.state_dict()) - tied_aliases(model)
    if set(arrays) != expected:
        missing, unexpected = sorted(expected - set(arrays)), sorted(set(arrays) - expected)
        raise ModelFormatError(f"checkpoint weights do not match the model (missing {missing[:3]}, "
                               f"unexpected {unexpected[:3]})", where=str(folder),
                               fix="resume with the same model configuration that wrote it")
    model.load_state_dict(arrays, strict=False)
    tensors = load_file(str(optim_file))
    if optimizer is not None:
        # load_state_dict moves each tensor to its parameter's device (and "step" where it belongs).
        optimizer.load_state_dict(_join_optimizer(state["optimizer"], tensors))
    if restore_rng:
        set_rng_state(state["rng"], tensors)
    return state
