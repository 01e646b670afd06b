"""Folder save/load for `torch.nn.Module` models built from a `Config` dataclass.

A model class sets `config_type`, `config_class`, is built as `cls(config, tokenizer=None)` and
keeps both in `self.config` and `self.tokenizer`; `TorchSavableMixin` supplies `folder_parts`/`from_folder_parts`,
hence `save`/`load`. Tied weights (one storage under two names) are written once and re-tied by
the module's own constructor, so loading checks every other name and shape strictly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Self

from lmlab.io.folder import Arrays, SavableMixin, check_arrays


def _tie_map(module) -> dict[str, str]:
    """{alias name: first name} for `state_dict` entries that are one tensor (tied embeddings).

    Ties are the same Parameter under two names, or (after a copy) one storage; both are found,
    on any device, meta included."""
    first: dict[int, str] = {}
    out = {}
    for name, tensor in module.state_dict(keep_vars=True).items():
        keys = [id(tensor)]
        if tensor.device.type != "meta" and tensor.numel():
            keys.append(tensor.data_ptr())
        source = next((first[k] for k in keys if k in first), None)
        if source is not None:
            out[name] = source
        for k in keys:
            first.setdefault(k, name)
    return out


def tied_aliases(module) -> frozenset[str]:
    """Names in `state_dict` whose tensor is shared with an earlier name (e.g. tied embeddings)."""
    return frozenset(_tie_map(module))


@contextlib.contextmanager
def parameters_on_meta() -> Iterator[None]:
    """Build modules whose parameters live on the meta device: nothing is allocated or initialised
    for them (a checkpoint fills them with `load_weights`), while buffers computed in constructors
    (position tables) are real. Ties made in constructors are kept."""
    import torch
    from torch import nn

    register = nn.Module.register_parameter

    def on_meta(self, name, param):
        if param is not None and param.device.type != "meta":
            param = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
        register(self, name, param)

    nn.Module.register_parameter = on_meta  # type: ignore[method-assign]
    try:
        with torch.no_grad():
            yield
    finally:
        nn.Module.register_parameter = register  # type: ignore[method-assign]


def load_weights(model, state: Mapping[str, Any], *, dtype: Any = None, where: str | None = None
                 ) -> None:
    """Put `state` into a model built under `parameters_on_meta` (or a normal one), without a
    second copy: tensors are taken as they are (cast to `dtype` when given), ties restored.

    Raises ModelFormatError (via `check_arrays`) when a name or shape does not match."""
    from torch import nn

    ties = _tie_map(model)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    where = where or type(model).__name__
    check_arrays(expected, state, where=where, optional=frozenset(ties))
    if dtype is not None:  # one tensor at a time: a dict given to us drops each original as it goes
        state = state if isinstance(state, dict) else dict(state)
        for name in list(state):
            state[name] = state[name].to(dtype)
    model.load_state_dict(state, strict=False, assign=True)
    for alias, source in ties.items():
        *path, leaf = alias.split(".")
        *src_path, src_leaf = source.split(".")
        owner = model.get_submodule(".".join(path))
        tensor = getattr(model.get_submodule(".".join(src_path)), src_leaf)
        if isinstance(tensor, nn.Parameter):
            owner.register_parameter(leaf, tensor)
        else:
            owner.register_buffer(leaf, tensor)
    left = [n for n, p in model.named_parameters() if p.device.type == "meta"]
    if left:
        from lmlab.errors import ModelFormatError

        raise ModelFormatError(f"no weights for {left[:5]}", where=where,
                               fix="the checkpoint lacks these tensors")


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
        with parameters_on_meta():  # the weights come from the file: no random init, one copy
            model = cls(cfg, tokenizer=tokenizer)  # type: ignore[call-arg]
        load_weights(model, arrays, where=where)
        model.eval()
        return model
