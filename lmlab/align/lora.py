"""LoRA: low-rank adapters on chosen linear layers (Hu et al. 2021), saved in PEFT's layout.

    info = apply_lora(model, LoRAConfig(rank=8, alpha=16, targets=("qkv", "out")))
    print(info)                       # "LoRA: 12,288 trainable parameters of 1,234,567 (1.00%)"
    ...train...                       # only the adapters have requires_grad
    save_adapters(model, "runs/sft/adapter")   # adapter_config.json + adapter_model.safetensors
    merge_lora(model)                 # W <- W + (alpha / r) B A; plain nn.Linear modules again

A wrapped layer computes  y = W x + b + (alpha / r) * B A dropout(x),  A (r, in) random
(Kaiming-uniform, as PEFT), B (out, r) zero, so training starts from the base model exactly.

Targets are module names of lmlab's decoders: "qkv" (the fused q/k/v projection), "out" (the
attention output), "up" / "gate_up" (the MLP input: GELU / SwiGLU), "down" (the MLP output) and
"lm_head". Saving maps each to the Hugging Face module of the same base exported with
`lmlab.io.hf.export_hf`: a fused layer whose Hugging Face model has separate ones (Llama's
q_proj/k_proj/v_proj, gate_proj/up_proj) gets the same A and the matching rows of B in each, which
is exact, since [Bq; Bk; Bv] A = [Bq A; Bk A; Bv A]. Loading goes back: equal A's fuse into one
adapter of rank r, different ones (an adapter trained with PEFT) into one of rank k r whose B is
block-diagonal, again exact. GPT-2's Conv1D layers keep the same A and B (`fan_in_fan_out`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lmlab.config import Config
from lmlab.errors import ConfigError, ModelFormatError, check_range

log = logging.getLogger("lmlab")

TARGETS = ("qkv", "out", "up", "gate_up", "down", "lm_head")
CONFIG_NAME = "adapter_config.json"
WEIGHTS_NAME = "adapter_model.safetensors"
_PEFT_PREFIX = "base_model.model."


@dataclass
class LoRAConfig(Config):
    """Adapter settings: rank r, scale alpha (the update is alpha / r * B A), dropout on the
    adapter's input, and the target module names (`TARGETS`)."""

    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.0
    targets: tuple[str, ...] = ("qkv", "out")

    def __post_init__(self) -> None:
        check_range("rank", self.rank, 1)
        check_range("alpha", self.alpha, 0, low_open=True)
        check_range("dropout", self.dropout, 0, 1, high_open=True)
        self.targets = tuple(self.targets)
        unknown = [t for t in self.targets if t not in TARGETS]
        if unknown or not self.targets:
            raise ConfigError(f"unknown LoRA targets {unknown}" if unknown else "no LoRA targets",
                              where="lora", fix=f"choose among {', '.join(TARGETS)}")


class LoRALinear(nn.Module):
    """A frozen `nn.Linear` plus a trainable low-rank update: x (..., in) -> (..., out)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.base_layer = base
        self.rank, self.alpha, self.scaling = rank, alpha, alpha / rank
        p = base.weight
        self.lora_A = nn.Linear(base.in_features, rank, bias=False, device=p.device, dtype=p.dtype)
        self.lora_B = nn.Linear(rank, base.out_features, bias=False, device=p.device, dtype=p.dtype)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        for q in base.parameters():
            q.requires_grad_(False)

    # the base layer's attributes, for code that reads them (`model.lm_head.weight`)
    @property
    def weight(self) -> torch.Tensor:
        return self.base_layer.weight

    @property
    def bias(self) -> torch.Tensor | None:
        return self.base_layer.bias

    @property
    def in_features(self) -> int:
        return self.base_layer.in_features

    @property
    def out_features(self) -> int:
        return self.base_layer.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base_layer(x) + self.lora_B(self.lora_A(self.dropout(x))) * self.scaling

    def delta(self) -> torch.Tensor:
        """The update (out, in) = alpha / r * B A."""
        return (self.lora_B.weight @ self.lora_A.weight) * self.scaling

    def set_factors(self, a: torch.Tensor, b: torch.Tensor) -> None:
        """Replace A (r', in) and B (out, r') (the rank may change; the scaling is kept)."""
        p = self.base_layer.weight
        self.lora_A = nn.Linear(a.shape[1], a.shape[0], bias=False, device=p.device, dtype=p.dtype)
        self.lora_B = nn.Linear(b.shape[1], b.shape[0], bias=False, device=p.device, dtype=p.dtype)
        with torch.no_grad():
            self.lora_A.weight.copy_(a)
            self.lora_B.weight.copy_(b)


@dataclass
class LoRAInfo:
    """What `apply_lora` did: the wrapped module names and the parameter counts."""

    modules: list[str] = field(default_factory=list)
    trainable: int = 0
    total: int = 0

    def __str__(self) -> str:
        share = 100 * self.trainable / max(self.total, 1)
        return (f"LoRA on {len(self.modules)} layers: {self.trainable:,} trainable parameters "
                f"of {self.total:,} ({share:.2f}%)")


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameters, tied ones counted once."""
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def lora_modules(model: nn.Module) -> dict[str, LoRALinear]:
    """{module name: LoRALinear} of a model, in module order."""
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALinear)}


def apply_lora(model: nn.Module, config: LoRAConfig | None = None) -> LoRAInfo:
    """Freeze `model` and wrap its target linear layers in `LoRALinear` (in place).

    Raises:
        ConfigError: the model already has adapters, or no layer matches the targets.
    """
    config = config or LoRAConfig()
    if lora_modules(model):
        raise ConfigError("the model already has LoRA adapters", where="lora",
                          fix="merge them first (merge_lora) or train the existing ones")
    for p in model.parameters():
        p.requires_grad_(False)
    names = [name for name, m in model.named_modules()
             if isinstance(m, nn.Linear) and name.rsplit(".", 1)[-1] in config.targets]
    if not names:
        raise ConfigError(f"no linear layer of a {type(model).__name__} is named "
                          f"{', '.join(config.targets)}", where="lora",
                          fix=f"choose targets among {', '.join(TARGETS)} that the model has")
    for name in names:
        parent, leaf = _parent(model, name)
        setattr(parent, leaf, LoRALinear(getattr(parent, leaf), config.rank, config.alpha,
                                         config.dropout))
    model.lora_config = config
    trainable, total = count_parameters(model)
    info = LoRAInfo(names, trainable, total)
    log.info("%s", info)
    return info


def _parent(model: nn.Module, name: str) -> tuple[nn.Module, str]:
    path, _, leaf = name.rpartition(".")
    return (model.get_submodule(path) if path else model), leaf


@torch.no_grad()
def merge_lora(model: nn.Module) -> nn.Module:
    """Fold every adapter into its base weight (W + alpha / r B A) and unwrap it; every parameter
    becomes trainable again. A head tied to the embeddings is untied first (config updated)."""
    tied_head = getattr(getattr(model, "config", None), "tie_embeddings", False)
    for name, m in lora_modules(model).items():
        parent, leaf = _parent(model, name)
        base = m.base_layer
        merged = base.weight + m.delta().to(base.weight.dtype)
        if name == "lm_head" and tied_head:  # the embeddings keep their own weights
            model.config = model.config.replace(tie_embeddings=False)
        base.weight = nn.Parameter(merged)
        setattr(parent, leaf, base)
    for p in model.parameters():
        p.requires_grad_(True)
    if hasattr(model, "lora_config"):
        del model.lora_config
    return model


# ---- PEFT layout ---------------------------------------------------------------------------


def _hf_names(model: nn.Module, name: str) -> tuple[list[str], list[int] | None, bool] | None:
    """The Hugging Face module names an lmlab module exports to, the row sizes of B's split
    (None: not split), and whether the layer is a transposed Conv1D; None without a layout."""
    from lmlab.io.hf import export_family

    try:
        family = export_family(model)
        cfg = model.config.to_dict()
        family.config_out(cfg)  # raises for a config the family cannot express
    except (ModelFormatError, AttributeError, KeyError):
        return None
    key = f"{name}.weight"
    m = re.fullmatch(r"blocks\.(\d+)\.(.+)", key)
    rules = family.layer_rules if m else family.global_rules
    pattern = f"blocks.{{}}.{m[2]}" if m else key
    rule = next((r for r in rules if r.ours == pattern), None)
    if rule is None:
        return None
    theirs = [t.format(m[1]) if m else t for t in rule.theirs]
    theirs = [("" if t.startswith("lm_head") else family.export_prefix) + t[: -len(".weight")]
              for t in theirs]
    sizes = None
    if len(theirs) > 1:
        sizes = (list(family.part_sizes(cfg, rule)) if family.part_sizes is not None else None)
    return theirs, sizes, rule.transpose


def _layout(model: nn.Module) -> dict[str, tuple[list[str], list[int] | None, bool]] | None:
    out = {}
    for name in lora_modules(model):
        mapped = _hf_names(model, name)
        if mapped is None:
            return None
        out[name] = mapped
    return out


def _target_suffixes(names: Sequence[str]) -> list[str]:
    """PEFT `target_modules`: the shortest name ends that tell the targeted layers apart."""
    leaves = {n.rsplit(".", 1)[-1] for n in names}
    two = {".".join(n.split(".")[-2:]) for n in names}
    ambiguous = len(two) > len(leaves) or any(leaf == "c_proj" for leaf in leaves)
    return sorted(two if ambiguous else leaves)


def save_adapters(model: nn.Module, path: str | os.PathLike[str], *,
                  base_model_name_or_path: str | None = None) -> Path:
    """Write the adapters alone as `adapter_config.json` + `adapter_model.safetensors`.

    With a model that `lmlab.io.hf.export_hf` can export, the names are the Hugging Face ones,
    so `peft.PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(exported), path)`
    computes the same logits; otherwise lmlab's module names (readable by `load_adapters` only).
    """
    from safetensors.torch import save_file

    modules = lora_modules(model)
    config = getattr(model, "lora_config", None)
    if not modules or config is None:
        raise ConfigError("the model has no LoRA adapters to save", where="save_adapters",
                          fix="apply_lora(model, LoRAConfig(...)) and train first")
    layout = _layout(model)
    if layout is None:
        log.warning("no Hugging Face layout for this %s: adapters saved under lmlab's module "
                    "names (peft cannot load them onto a transformers model)", type(model).__name__)
    tensors: dict[str, torch.Tensor] = {}
    hf_targets, conv1d = [], False
    for name, m in modules.items():
        a, b = m.lora_A.weight.detach().cpu(), m.lora_B.weight.detach().cpu()
        theirs, sizes, transpose = layout[name] if layout else ([name], None, False)
        conv1d = conv1d or transpose
        parts = b.split(sizes, dim=0) if sizes else b.chunk(len(theirs), dim=0)
        for hf, part in zip(theirs, parts, strict=True):
            tensors[f"{_PEFT_PREFIX}{hf}.lora_A.weight"] = a.contiguous().clone()
            tensors[f"{_PEFT_PREFIX}{hf}.lora_B.weight"] = part.contiguous().clone()
            hf_targets.append(hf)
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / WEIGHTS_NAME), metadata={"format": "pt"})
    peft_config = {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": config.rank,
        "lora_alpha": config.alpha, "lora_dropout": config.dropout,
        "target_modules": _target_suffixes(hf_targets) if layout else sorted(modules),
        "fan_in_fan_out": conv1d, "bias": "none", "modules_to_save": None,
        "init_lora_weights": True, "inference_mode": True, "use_rslora": False,
        "use_dora": False, "base_model_name_or_path": base_model_name_or_path,
        "lmlab": {"targets": list(config.targets), "layout": "hf" if layout else "lmlab"},
    }
    (folder / CONFIG_NAME).write_text(json.dumps(peft_config, indent=2) + "\n", encoding="utf-8")
    return folder


def load_adapters(model: nn.Module, path: str | os.PathLike[str]) -> LoRAInfo:
    """Put adapters saved by `save_adapters` (or PEFT, on lmlab's target layers) on `model`.

    Raises:
        ModelFormatError: the folder lacks the files, or a target layer has no adapter there.
    """
    from safetensors.torch import load_file

    folder = Path(path)
    if not (folder / CONFIG_NAME).is_file() or not (folder / WEIGHTS_NAME).is_file():
        raise ModelFormatError(f"no {CONFIG_NAME} and {WEIGHTS_NAME}", where=str(folder),
                               fix="pass a folder written by save_adapters or PEFT")
    cfg = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))
    targets = tuple(cfg.get("lmlab", {}).get("targets") or _lmlab_targets(cfg["target_modules"]))
    info = apply_lora(model, LoRAConfig(rank=int(cfg["r"]), alpha=float(cfg["lora_alpha"]),
                                        dropout=float(cfg.get("lora_dropout") or 0.0),
                                        targets=targets))
    tensors = load_file(str(folder / WEIGHTS_NAME))
    tensors = {k.replace(".default.", "."): v for k, v in tensors.items()}
    layout = _layout(model) if cfg.get("lmlab", {}).get("layout", "hf") == "hf" else None
    for name, m in lora_modules(model).items():
        theirs = layout[name][0] if layout else [name]
        try:
            a_s = [tensors[f"{_PEFT_PREFIX}{hf}.lora_A.weight"] for hf in theirs]
            b_s = [tensors[f"{_PEFT_PREFIX}{hf}.lora_B.weight"] for hf in theirs]
        except KeyError as exc:
            raise ModelFormatError(f"no adapter for {exc.args[0]}", where=str(folder),
                                   fix="save the adapters of the same targets") from exc
        if all(torch.equal(a, a_s[0]) for a in a_s):
            m.set_factors(a_s[0], torch.cat(b_s))
        else:  # separately trained parts: one adapter of rank k r, block-diagonal B
            m.set_factors(torch.cat(a_s), torch.block_diag(*b_s))
    info.trainable, info.total = count_parameters(model)
    return info


_HF_TO_LMLAB = {"q_proj": "qkv", "k_proj": "qkv", "v_proj": "qkv", "c_attn": "qkv",
                "attn.c_attn": "qkv",
                "o_proj": "out", "attn.c_proj": "out", "gate_proj": "gate_up", "up_proj": "gate_up",
                "down_proj": "down", "mlp.c_proj": "down", "c_fc": "up", "mlp.c_fc": "up",
                "lm_head": "lm_head"}


def _lmlab_targets(target_modules: Any) -> list[str]:
    names = [target_modules] if isinstance(target_modules, str) else list(target_modules)
    out = sorted({_HF_TO_LMLAB[n] for n in names if n in _HF_TO_LMLAB})
    if not out:
        raise ModelFormatError(f"target_modules {names} name no layer lmlab adapts",
                               fix=f"use adapters on {', '.join(_HF_TO_LMLAB)}")
    return out
