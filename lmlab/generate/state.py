"""Reordering a language model's state: the one extra thing beam search needs from a model.

Beam search keeps, after every step, the batch rows (hypotheses) that scored best, some of them
twice, and drops the rest: the model state must follow, `state[rows]`. A model says how through an
optional method

    model.reorder_state(state, rows) -> state     # rows (B',) int64: keep these rows, in order

and every state made of the usual pieces works without it (`reorder_state` below):

- a tensor: batch is dimension 0 (a tensor whose first dimension is not the batch size raises);
- an object with a `reorder(rows)` method (e.g. `lmlab.models.transformer.kv_cache.KVCache`);
- tuples, lists and dicts of the above, recursively; `None`, numbers and strings stay as they are.

A model whose state keeps the batch elsewhere (e.g. torch RNN hidden states (L, B, H)) implements
`reorder_state` itself.
"""

from __future__ import annotations

from typing import Any

import torch


def reorder_state(model: Any, state: Any, rows: torch.Tensor, batch: int) -> Any:
    """Keep batch rows `rows` of `state` (which has `batch` rows), through the model if it can."""
    custom = getattr(model, "reorder_state", None)
    if custom is not None:
        return custom(state, rows)
    return reorder_generic(state, rows, batch)


def reorder_generic(state: Any, rows: torch.Tensor, batch: int) -> Any:
    """`state[rows]` for tensors (batch first), `.reorder` objects and containers of them."""
    if isinstance(state, torch.Tensor):
        if state.dim() == 0 or state.shape[0] != batch:
            raise TypeError(
                f"cannot reorder a state tensor of shape {tuple(state.shape)} for a batch of "
                f"{batch}: the generic reordering needs the batch on dimension 0; give the model "
                "a reorder_state(state, rows) method")
        return state.index_select(0, rows.to(state.device))
    if hasattr(state, "reorder") and callable(state.reorder):
        return state.reorder(rows.to(_device_of(state)))
    if isinstance(state, tuple):
        items = [reorder_generic(s, rows, batch) for s in state]
        return type(state)(*items) if hasattr(state, "_fields") else tuple(items)
    if isinstance(state, list):
        return [reorder_generic(s, rows, batch) for s in state]
    if isinstance(state, dict):
        return {k: reorder_generic(v, rows, batch) for k, v in state.items()}
    if state is None or isinstance(state, int | float | str | bool):
        return state
    raise TypeError(f"cannot reorder a model state of type {type(state).__name__}; give the model "
                    "a reorder_state(state, rows) method")


def _device_of(state: Any) -> torch.device:
    for value in vars(state).values():
        if isinstance(value, torch.Tensor):
            return value.device
    return torch.device("cpu")
