"""A preallocated key/value cache for incremental decoding.

At step t a decoder needs the keys and values of every earlier position; recomputing them costs
O(t) per step, caching them makes a step O(1) in projections. The cache holds two tensors
(L, B, H, capacity, Dh) allocated once; each step writes its new keys and values in place at the
current length (no `torch.cat`, no reallocation per step) and attention reads the view [:length].
When a sequence outgrows the capacity the buffers double (rare, amortised).

The cache is mutable: `GPT.step(cache, ids)` writes into it and returns it, so a state must not be
stepped twice; `clone()` forks one (e.g. to score alternatives) and `reorder()` gathers the batch
rows that beam search keeps.
"""

from __future__ import annotations

import torch


class KVCache:
    """Keys and values of all layers: `k`, `v` (L, B, H, capacity, Dh); `length` positions filled."""

    def __init__(self, n_layers: int, batch: int, n_heads: int, d_head: int, capacity: int, *,
                 device: torch.device | str | None = None, dtype: torch.dtype = torch.float32) -> None:
        shape = (n_layers, batch, n_heads, capacity, d_head)
        self.k = torch.empty(shape, device=device, dtype=dtype)
        self.v = torch.empty(shape, device=device, dtype=dtype)
        self.length = 0
        self._layers()

    def _layers(self) -> None:
        # Per-layer views, so a step's write is one `narrow().copy_()` and no multi-dim indexing.
        self.k_layers, self.v_layers = self.k.unbind(0), self.v.unbind(0)

    @property
    def capacity(self) -> int:
        return self.k.shape[3]

    def reserve(self, extra: int) -> None:
        """Make room for `extra` more positions, doubling the buffers when they are too small."""
        need = self.length + extra
        if need <= self.capacity:
            return
        new_cap = max(need, 2 * self.capacity)
        for name in ("k", "v"):
            old = getattr(self, name)
            new = old.new_empty((*old.shape[:3], new_cap, old.shape[4]))
            new[:, :, :, : self.length] = old[:, :, :, : self.length]
            setattr(self, name, new)
        self._layers()

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write this layer's new k, v (B, H, T, Dh) after the cached prefix; return the prefix + them.

        The length advances only through `advance`, once all layers have written.
        """
        start, t = self.length, k.shape[2]
        keys, values = self.k_layers[layer], self.v_layers[layer]
        keys.narrow(2, start, t).copy_(k)
        values.narrow(2, start, t).copy_(v)
        return keys.narrow(2, 0, start + t), values.narrow(2, 0, start + t)  # (B, H, start+T, Dh)

    def advance(self, n: int) -> None:
        self.length += n

    def reorder(self, rows: torch.Tensor) -> KVCache:
        """Keep batch rows `rows` (B',) int64, in that order (beam search); returns self."""
        self.k = self.k.index_select(1, rows)
        self.v = self.v.index_select(1, rows)
        self._layers()
        return self

    def clone(self) -> KVCache:
        """An independent copy (same capacity) that can be stepped separately."""
        other = KVCache.__new__(KVCache)
        other.k, other.v, other.length = self.k.clone(), self.v.clone(), self.length
        other._layers()
        return other
