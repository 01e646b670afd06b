"""One-token decoding steps for GPT with plain function calls: same arithmetic, fewer Python calls.

A decoding step of a small model on a CPU is a few dozen matrix-vector products of a few hundred
microseconds in all; running them through the nested modules (Block -> MultiHeadAttention ->
Linear ...) costs about 450 Python calls per token, as much time again as the arithmetic. A
`DecodePlan` gathers each layer's parameters once per generation (references to the parameters,
not copies) and `DecodePlan.step` runs a layer as ~15 `torch.nn.functional` calls on (B, D) rows:

    x = tok_emb[ids] (+ pos_emb[t])
    per layer:  q, k, v = split(W_qkv · norm1(x));  K, V = cache + (k, v)
                x = x + W_o · attention(q, K, V);   x = x + FF(norm2(x))
    logits = W_head · norm_f(x)      (a wide vocabulary on a CPU: through oneDNN, `HeadProjection`)

It is only a faster path to the same function: `tests/models/test_decode.py` keeps its logits
equal to the module path for every config variant (norms, positions, activations, bias). It
applies to the stock modules in inference mode; a model with anything else inside (a wrapped
Linear such as LoRA, forward hooks, attention weights being recorded) gets `None` from
`DecodePlan.build` and keeps the module path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lmlab.models.transformer.attention import MultiHeadAttention
from lmlab.models.transformer.kv_cache import KVCache
from lmlab.models.transformer.layers import Block, FeedForward, RMSNorm, SwiGLU, activate

Norm = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class _Layer:
    norm_attn: Norm
    qkv_w: torch.Tensor
    qkv_b: torch.Tensor | None
    out_w: torch.Tensor
    out_b: torch.Tensor | None
    scale: float | None
    norm_ff: Norm
    up_w: torch.Tensor  # FeedForward.up, or SwiGLU.gate_up
    up_b: torch.Tensor | None
    down_w: torch.Tensor
    down_b: torch.Tensor | None
    activation: str  # "relu", "gelu", "gelu_tanh" or "swiglu"


class HeadProjection:
    """The LM head of a decoding step, x (B, D) -> logits (B, V), as `F.linear(x, weight, bias)`.

    On a CPU with oneDNN, in float32, for a vocabulary at least 4x wider than the model, it runs
    through oneDNN's inner product on a prepacked copy of the weight instead of the default BLAS
    call: the same fp32 product (equal up to summation order, ~1e-6 relative), 1.2-1.6x faster
    for these wide, flat shapes on the development CPU (an (8192 x 256) head: 1.54 vs 2.38 ms at
    batch 8; GPT-2's (50257 x 768): 17.6 vs 28.7 ms; benchmarks/README.md). The copy (V·D floats)
    is made again whenever the weight changes in place, tracked by its version counter.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        self.weight, self.bias = weight, bias
        v, d = weight.shape
        self.onednn = (weight.device.type == "cpu" and weight.dtype == torch.float32
                       and v >= 4 * d and torch.backends.mkldnn.is_available())
        self._packed: torch.Tensor | None = None
        self._version = -1

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.onednn:
            return F.linear(x, self.weight, self.bias)
        if self._packed is None or self.weight._version != self._version:
            self._packed = self.weight.detach().to_mkldnn()
            self._version = self.weight._version
        return torch.ops.aten.mkldnn_linear(x.contiguous().to_mkldnn(), self._packed,
                                            self.bias).to_dense()


def _plain(module: nn.Module | None, *types: type) -> bool:
    """Whether `module` is exactly one of `types` (no subclass, no wrapper) and has no hooks."""
    return (module is not None and type(module) in types and not module._forward_hooks
            and not module._forward_pre_hooks)


def _global_hooks() -> bool:
    from torch.nn.modules import module as nn_module

    return any(getattr(nn_module, name, None) for name in
               ("_global_forward_hooks", "_global_forward_pre_hooks"))


class DecodePlan:
    """The parameters of a GPT laid out for `step`; build one with `DecodePlan.build(gpt)`."""

    def __init__(self, gpt: nn.Module, layers: list[_Layer]) -> None:
        self.tok = gpt.tok_emb.weight
        pos = gpt.pos_emb
        self.pos_table = (pos.weight if isinstance(pos, nn.Embedding) else
                          pos.table if pos is not None else None)  # (L, D) or None
        self.rotary = gpt.rotary
        self.positions = gpt.positions
        self.layers = layers
        self.norm_f: Norm = gpt.norm_f.forward
        self.head = HeadProjection(gpt.lm_head.weight, gpt.lm_head.bias)
        self.n_heads, self.d_model = gpt.config.n_heads, gpt.config.d_model

    @classmethod
    def build(cls, gpt: nn.Module) -> DecodePlan | None:
        """A plan over `gpt`'s parameters, or None when the model is not plain enough for one
        (training mode, modules replaced or hooked, attention weights being recorded)."""
        if gpt.training or _global_hooks():
            return None
        norms = (nn.LayerNorm, RMSNorm)
        if not (_plain(gpt.norm_f, *norms) and _plain(gpt.lm_head, nn.Linear)
                and _plain(gpt.tok_emb, nn.Embedding)):
            return None
        layers = []
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
            layers.append(_Layer(
                block.norm_attn.forward, attn.qkv.weight, attn.qkv.bias, attn.out.weight,
                attn.out.bias, attn.scale, block.norm_ff.forward, up.weight, up.bias,
                ff.down.weight, ff.down.bias, act))
        return cls(gpt, layers)

    def step(self, cache: KVCache, ids: torch.Tensor) -> torch.Tensor:
        """Append ids (B,) at position `cache.length` (room reserved); return logits (B, V)."""
        b, t = ids.shape[0], cache.length
        h, d = self.n_heads, self.d_model
        x = F.embedding(ids, self.tok)  # (B, D)
        if self.pos_table is not None:
            x = x + self.pos_table[t]
        positions = self.positions[t : t + 1] if self.rotary is not None else None
        for i, layer in enumerate(self.layers):
            qkv = F.linear(layer.norm_attn(x), layer.qkv_w, layer.qkv_b)  # (B, 3D)
            q, k, v = qkv.view(b, 3, h, 1, d // h).unbind(1)  # 3 x (B, H, 1, Dh)
            if positions is not None:
                q, k = self.rotary.forward(q, positions), self.rotary.forward(k, positions)
            keys, values = cache.update(i, k, v)  # (B, H, t + 1, Dh)
            y = F.scaled_dot_product_attention(q, keys, values, scale=layer.scale)  # (B, H, 1, Dh)
            x = x + F.linear(y.reshape(b, d), layer.out_w, layer.out_b)
            up = F.linear(layer.norm_ff(x), layer.up_w, layer.up_b)
            x = x + F.linear(activate(up, layer.activation), layer.down_w, layer.down_b)
        cache.advance(1)
        return self.head(self.norm_f(x))
