"""Folder save/load for `torch.nn.Module` models built from a `Config` dataclass.

A model class sets `config_type`, `config_class`, is built as `cls(config, tokenizer=None)` and
keeps both in `self.config` and `self.tokenizer`; `TorchSavableMixin` supplies `folder_parts`/`from_folder_parts`,
hence `save`/`load`. Tied weights (one storage under two names) are written once and re-tied by
the module's own constructor, so loading checks every other name and shape strictly.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from lmlab.io.folder import Arrays, SavableMixin, check_arrays


def tied_aliases(module) -> frozenset[str]:
    """Names in `state_dict` whose storage is shared with an earlier name (e.g. tied embeddings)."""
    seen: set[int] = set()
    aliases = set()
    for name, tensor in module.state_dict(keep_vars=True).items():
        ptr = tensor.data_ptr() if tensor.numel() else id(tensor)
        if ptr in seen:
            aliases.add(name)
        seen.add(ptr)
    return frozenset(aliases)


class TorchSavableMixin(SavableMixin):
    """`Savable` for nn.Modules with `config: Config` (and optional `tokenizer`)."""

    config_class: ClassVar[type]
    arrays_as: ClassVar[str] = "torch"

    def folder_parts(self) -> tuple[dict[str, Any], Arrays, Any]:
        aliases = tied_aliases(self)
        state = {k: v for k, v in self.state_dict().items() if k not in aliases}  # type: ignore[attr-defined]
        return self.config.to_dict(), state, getattr(self, "tokenizer", None)  # type: ignore[attr-defined]

    @classmethod
    def from_folder_parts(cls, config: dict[str, Any], arrays: dict[str, Any], tokenizer: Any, *,
                          where: str) -> Self:
        cfg = cls.config_class.from_dict(config, where=where)
        model = cls(cfg, tokenizer=tokenizer)  # type: ignore[call-arg]
        expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        check_arrays(expected, arrays, where=where, optional=tied_aliases(model))
        model.load_state_dict(arrays, strict=False)
        model.eval()
        return model
