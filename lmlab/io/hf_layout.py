"""The shape of a Hugging Face checkpoint family: key rules and config translation.

A family is one table of rules after torchtune's `convert_weights.py`:

    Rule("blocks.{}.attn.qkv.weight", ("layers.{}.self_attn.q_proj.weight", ...))

`{}` stands for the layer index. A rule with several Hugging Face keys concatenates them along
dimension 0 on import and splits them on export (equal chunks, or `part_sizes`). The reading and
writing code is `lmlab.io.hf`; the families are there and in `lmlab.io.hf_llama`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    """Our key <- one or more Hugging Face keys (concatenated on dim 0), optionally transposed."""

    ours: str
    theirs: tuple[str, ...]
    transpose: bool = False


@dataclass(frozen=True)
class Family:
    """One checkpoint family: its key map and config translation."""

    model_type: str  # Hugging Face "model_type"
    our_type: str  # lmlab registry type
    global_rules: tuple[Rule, ...]
    layer_rules: tuple[Rule, ...]
    config_in: Callable[[dict[str, Any]], dict[str, Any]]
    config_out: Callable[[dict[str, Any]], dict[str, Any]]
    strip_prefixes: tuple[str, ...] = ()
    export_prefix: str = ""
    ignore: tuple[str, ...] = ()  # regexes of Hugging Face keys that are fine to skip
    renames: tuple[tuple[str, str], ...] = ()  # (regex, replacement) for legacy key spellings
    optional_ours: tuple[str, ...] = field(default=())  # our keys a checkpoint may lack
    # sizes of the parts of a multi-key rule on export (default: equal chunks): (config, rule) -> sizes
    part_sizes: Callable[[dict[str, Any], Rule], tuple[int, ...]] | None = None
    # hooks on the Hugging Face tensors: before import (fuse legacy layouts), after export
    prepare: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
    finish_export: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
