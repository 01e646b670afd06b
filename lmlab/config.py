"""Config dataclasses: typed, serialisable to `config.json`, with named presets.

A model family writes

    @dataclass
    class GPTConfig(Config):
        d_model: int = 768
        ...
        def __post_init__(self): check_range("d_model", self.d_model, 1)

and gets `to_dict`, `from_dict` (unknown keys are named, with the valid ones listed), and presets
via `PRESETS = {"gpt2-small": {...}}` + `GPTConfig.preset("gpt2-small", n_layers=2)`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Self

from lmlab.errors import ConfigError


@dataclasses.dataclass
class Config:
    """Base class for model configs. Subclasses are dataclasses."""

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str | None = None) -> Self:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise ConfigError(
                f"unknown {cls.__name__} field(s) {', '.join(map(repr, unknown))}",
                where=where,
                fix=f"valid fields are: {', '.join(fields)}",
            )
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigError(f"invalid {cls.__name__}: {exc}", where=where) from exc

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> Self:
        """Build a named preset, optionally overriding some fields."""
        if name not in cls.PRESETS:
            raise ConfigError(
                f"unknown {cls.__name__} preset {name!r}",
                fix=f"use one of: {', '.join(cls.PRESETS)}",
            )
        return cls.from_dict({**cls.PRESETS[name], **overrides})

    def replace(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)
