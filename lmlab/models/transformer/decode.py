"""One-token decoding steps for GPT with plain function calls: same arithmetic, fewer Python calls.

A decoding step of a small model on a CPU is a few dozen matrix-vector products; running them
through the nested modules (Block -> MultiHeadAttention -> Linear ...) costs about 450 Python
calls per token (5-8% of a step of the 4-layer, 256-wide benchmark model: 2.99 against 2.76 ms
at batch 1, 5.73 against 5.40 ms at batch 8). A
`DecodePlan` gathers each layer's parameters once per generation (references to the parameters,
not copies) and `DecodePlan.step` runs a layer as ~15 `torch.nn.functional` calls on (B, D) rows:

    x = tok_emb[ids] (+ pos_emb[t])
    per layer:  q, k, v = split(W_qkv · norm1(x));  K, V = cache + (k, v)
                x = x + W_o · attention(q, K, V);   x = x + FF(norm2(x))
    logits = W_head · norm_f(x)

With grouped-query attention the H / Hkv query heads of a group attend to their one key/value
head together, as a block of queries over the same keys (no copy of the cache per query head);
with a sliding window only the last `window` cached positions are read.

On a CPU with oneDNN, the large projections (>= 2^20 weights: the LM head, the layers of
GPT-2-sized models) run through oneDNN's inner product on a copy of the weight laid out once for
the batch size (`Projection`): the same fp32 product up to summation order, 1.4-2.6x faster than
the default BLAS call at batch 8 and up to 1.35x at batch 1 on the development CPU for those
shapes (benchmarks/README.md), at the cost of that copy's memory while the plan lives.

It is only a faster path to the same function: `tests/models/test_transformer_decode.py` keeps its logits
equal to the module path for every config variant (norms, positions, activations, bias). It
applies to the stock modules in inference mode; a model with anything else inside (a wrapped
Linear such as LoRA, forward hooks, attention weights being recorded) gets `None` from
`DecodePlan.build` and keeps the module path.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lmlab.models.transformer.attention import MultiHeadAttention
from lmlab.models.transformer.kv_cache import KVCache
from lmlab.models.transformer.layers import Block, FeedForward, RMSNorm, SwiGLU, activate

Norm = Callable[[torch.Tensor], torch.Tensor]
log = logging.getLogger("lmlab")


#: weights from this many elements up are packed for oneDNN (tests lower it).
PACK_MIN_ELEMENTS = 1 << 20
#: no packing for models above this many parameter bytes (the copies double what they cover),
#: nor above a quarter of the machine's memory (`pack_budget`).
PACK_MAX_MODEL_BYTES = 4 << 30


def pack_budget() -> int:
    """The largest model (parameter bytes) whose projections are packed on this machine."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): the fixed cap alone
        return PACK_MAX_MODEL_BYTES
    return min(PACK_MAX_MODEL_BYTES, total // 4)


def _onednn_available() -> bool:
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


class Projection:
    """x (B, in) -> F.linear(x, weight, bias) (B, out), possibly through a packed oneDNN copy.

    With `pack_for` = the batch size, the weight is reordered for oneDNN's inner product
    (`torch.ops.mkldnn._linear_pointwise`, the kernel torch's own CPU compiler uses); the copy is
    made again whenever the weight changes in place (its version counter), so training between
    steps is seen. Without it, a plain `F.linear`. The packed copies live in `store` (one dict
    per model, kept between generations), so the next plan for the same batch size reuses them.
    """

    def __init__(self, linear: nn.Linear, pack_for: int | None = None,
                 store: dict | None = None) -> None:
        self.weight, self.bias = linear.weight, linear.bias
        self.pack_for = pack_for
        self._store = {} if store is None else store
        self._key = (id(self.weight), pack_for)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.pack_for is None:
            return F.linear(x, self.weight, self.bias)
        try:
            owner, version, packed = self._store.get(self._key, (None, -1, None))
            if owner is None or owner() is not self.weight or self.weight._version != version:
                packed = torch.ops.mkldnn._reorder_linear_weight(self.weight.detach(),
                                                                 self.pack_for)
                self._store[self._key] = (weakref.ref(self.weight), self.weight._version, packed)
            return torch.ops.mkldnn._linear_pointwise(x, packed, self.bias, "none", [], "")
        except RuntimeError as err:  # a torch build whose oneDNN lacks this kernel: plain BLAS
            log.debug("oneDNN projection unavailable (%s); using F.linear", err)
            self.pack_for = None
            self._store.pop(self._key, None)
            return F.linear(x, self.weight, self.bias)


@dataclass
class _Layer:
    norm_attn: Norm
    qkv: Projection
    out: Projection
    scale: float | None
    norm_ff: Norm
    up: Projection  # FeedForward.up, or SwiGLU.gate_up
    down: Projection
    activation: str  # "relu", "gelu", "gelu_tanh" or "swiglu"


def _plain(module: nn.Module | None, *types: type) -> bool:
    """Whether `module` is exactly one of `types` (no subclass, no wrapper) and has no hooks."""
    return (module is not None and type(module) in types and not module._forward_hooks
            and not module._forward_pre_hooks)


def _global_hooks() -> bool:
    from torch.nn.modules import module as nn_module

    return any(getattr(nn_module, name, None) for name in
               ("_global_forward_hooks", "_global_forward_pre_hooks"))


class DecodePlan:
    """The parameters of a GPT laid out for `step`; build one with `DecodePlan.build(gpt, batch)`."""

    def __init__(self, gpt: nn.Module, layers: list[_Layer], head: Projection) -> None:
        self.tok = gpt.tok_emb.weight
        pos = gpt.pos_emb
        self.pos_table = (pos.weight if isinstance(pos, nn.Embedding) else
                          pos.table if pos is not None else None)  # (L, D) or None
        self.rotary = gpt.rotary
        self.positions = gpt.positions
        self.layers = layers
        self.norm_f: Norm = gpt.norm_f.forward
        self.head = head
        c = gpt.config
        self.n_heads, self.d_model = c.n_heads, c.d_model
        self.n_kv_heads = getattr(c, "n_kv_heads", 0) or c.n_heads
        self.window = getattr(c, "sliding_window", None)

    @classmethod
    def build(cls, gpt: nn.Module, batch: int = 1) -> DecodePlan | None:
        """A plan over `gpt`'s parameters for steps of `batch` rows, or None when the model is not
        plain enough for one (training mode, modules replaced or hooked, attention weights being
        recorded)."""
        if gpt.training or _global_hooks():
            return None
        norms = (nn.LayerNorm, RMSNorm)
        if not (_plain(gpt.norm_f, *norms) and _plain(gpt.lm_head, nn.Linear)
                and _plain(gpt.tok_emb, nn.Embedding)):
            return None
        blocks = []
        for block in gpt.blocks:
            attn, ff = block.attn, block.ff
            if not (_plain(block, Block) and block.prenorm and block.cross is None
                    and _plain(attn, MultiHeadAttention) and not attn.cross
                    and not attn.record_weights and _plain(block.norm_attn, *norms)
                    and _plain(block.norm_ff, *norms) and _plain(attn.qkv, nn.Linear)
                    and _plain(attn.out, nn.Linear) and _plain(ff, FeedForward, SwiGLU)):
                return None
            up, act = (ff.gate_up, "swiglu") if isinstance(ff, SwiGLU) else (ff.up, ff.activation)
            if not (_plain(up, nn.Linear) and _plain(ff.down, nn.Linear)):
                return None
            blocks.append((block, up, act))
        weight = gpt.lm_head.weight
        model_bytes = sum(p.numel() * p.element_size() for p in gpt.parameters())
        pack = (weight.device.type == "cpu" and weight.dtype == torch.float32
                and model_bytes <= pack_budget() and _onednn_available())

        store = gpt.__dict__.setdefault("_packed_weights", {})  # survives between plans
        live = {id(m.weight) for m in gpt.modules() if isinstance(m, nn.Linear)}
        for key in [k for k in store if k[0] not in live or k[1] != batch]:
            del store[key]  # replaced modules, another batch size: free their copies

        def project(linear: nn.Linear) -> Projection:
            big = pack and linear.weight.numel() >= PACK_MIN_ELEMENTS
            return Projection(linear, batch if big else None, store)

        layers = [_Layer(block.norm_attn.forward, project(block.attn.qkv), project(block.attn.out),
                         block.attn.scale, block.norm_ff.forward, project(up),
                         project(block.ff.down), act) for block, up, act in blocks]
        return cls(gpt, layers, project(gpt.lm_head))

    def step(self, cache: KVCache, ids: torch.Tensor) -> torch.Tensor:
        """Append ids (B,) at position `cache.length` (room reserved); return logits (B, V)."""
        b, t = ids.shape[0], cache.length
        h, h_kv, d = self.n_heads, self.n_kv_heads, self.d_model
        dh = d // h
        x = F.embedding(ids, self.tok)  # (B, D)
        if self.pos_table is not None:
            x = x + self.pos_table[t]
        positions = self.positions[t : t + 1] if self.rotary is not None else None
        window = self.window if self.window is not None and t + 1 > self.window else None
        for i, layer in enumerate(self.layers):
            qkv = layer.qkv(layer.norm_attn(x))  # (B, D + 2 Hkv Dh)
            if h_kv == h:
                q, k, v = qkv.view(b, 3, h, 1, dh).unbind(1)  # 3 x (B, H, 1, Dh)
            else:
                q, k, v = qkv.split((d, h_kv * dh, h_kv * dh), dim=-1)
                q, k, v = q.view(b, h, 1, dh), k.view(b, h_kv, 1, dh), v.view(b, h_kv, 1, dh)
            if positions is not None:
                q, k = self.rotary.forward(q, positions), self.rotary.forward(k, positions)
            keys, values = cache.update(i, k, v)  # (B, Hkv, t + 1, Dh)
            if window is not None:
                keys, values = keys[:, :, -window:], values[:, :, -window:]
            # a group's H / Hkv queries over its one key/value head: (B, Hkv, H / Hkv, Dh)
            y = F.scaled_dot_product_attention(q.view(b, h_kv, h // h_kv, dh), keys, values,
                                               scale=layer.scale)
            x = x + layer.out(y.reshape(b, d))
            x = x + layer.down(activate(layer.up(layer.norm_ff(x)), layer.activation))
        cache.advance(1)
        return self.head(self.norm_f(x))
