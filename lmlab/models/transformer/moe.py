"""Sparse mixture-of-experts feed-forward, as in Mixtral (Jiang et al., 2024).

Instead of one MLP, a layer holds E expert MLPs and a router (Shazeer et al., 2017). Each token
goes to only k of them, so the parameters grow with E while the compute per token grows with k:

    x (B, T, D) -> N = B*T token rows (N, D)
    router logits  l = x @ W_r^T                       (N, E)    W_r: `router.weight` (E, D)
    probabilities  p = softmax(l) in float32           (N, E)
    top-k          w, idx = topk(p, k)                 (N, k)    the chosen experts and their p
    renormalise    w = w / sum(w)                      (N, k)    Mixtral does; Switch-style does not
    output         y_n = sum_j w_nj * expert_idx_nj(x_n)  (N, D) -> (B, T, D)

Every expert is a SwiGLU MLP (see `layers.SwiGLU`): expert_e(x) = down_e(silu(gate_e(x)) * up_e(x)).
Their weights are stacked as in transformers' `MixtralSparseMoeBlock`, so checkpoints map one to
one: `gate_up` (E, 2 d_ff, D) (`experts.gate_up_proj`; rows [:d_ff] are the gate, [d_ff:] the up
projection) and `down` (E, D, d_ff) (`experts.down_proj`); `router.weight` is `gate.weight`.

Left alone, a router collapses onto a few experts. The auxiliary loss of the Switch Transformer
(Fedus et al., 2022), E * sum_i f_i * P_i, is smallest when the tokens spread evenly; the module
keeps its router logits in `last_router_logits` while training, and `moe_aux_loss(model)` turns
them into that loss for the objective to add.

Two paths compute the same function (`path`): "reference" loops over tokens and their chosen
experts, as written above (to read, slow); "dispatch" sorts the N*k (token, slot) pairs by expert,
runs each expert once on its contiguous block of rows and scatter-adds the weighted results back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from lmlab.errors import DataError, check_choice, check_range
from lmlab.models.transformer.layers import activate

MoEPath = Literal["reference", "dispatch"]
PATHS = ("reference", "dispatch")


class MoEFeedForward(nn.Module):
    """Top-k routed mixture of SwiGLU experts, (B, T, D) -> (B, T, D); a drop-in `Block.ff`.

    Args:
        d_model: D, the model width.
        d_ff: the hidden width of each expert.
        n_experts: E, the number of experts.
        top_k: k, experts per token (Mixtral: 8 experts, top-2).
        jitter: multiplicative noise on the router's input while training, x * U(1 - j, 1 + j)
            (Switch Transformer); 0 turns it off. Only the router sees it.
        normalize_top_k: rescale the k chosen probabilities to sum to 1 (Mixtral); False keeps
            the softmax probabilities (Switch, Qwen2-MoE without `norm_topk_prob`).
        path: "dispatch" (batched per expert) or "reference" (the written-out loop).
    """

    def __init__(self, d_model: int, d_ff: int, n_experts: int, top_k: int, *, jitter: float = 0.0,
                 normalize_top_k: bool = True, path: MoEPath = "dispatch") -> None:
        super().__init__()
        check_range("d_model", d_model, 1)
        check_range("d_ff", d_ff, 1)
        check_range("n_experts", n_experts, 1)
        check_range("top_k", top_k, 1, n_experts)
        check_range("jitter", jitter, 0, 1, high_open=True)
        check_choice("path", path, PATHS)
        self.d_model, self.d_ff, self.n_experts, self.top_k = d_model, d_ff, n_experts, top_k
        self.jitter, self.normalize_top_k = jitter, normalize_top_k
        self.path: MoEPath = path
        self.router = nn.Linear(d_model, n_experts, bias=False)
        self.gate_up = nn.Parameter(torch.empty(n_experts, 2 * d_ff, d_model))
        self.down = nn.Parameter(torch.empty(n_experts, d_model, d_ff))
        for weight in (self.router.weight, self.gate_up, self.down):
            nn.init.normal_(weight, mean=0.0, std=0.02)
        self.last_router_logits: torch.Tensor | None = None

    def extra_repr(self) -> str:
        return (f"d_model={self.d_model}, d_ff={self.d_ff}, n_experts={self.n_experts}, "
                f"top_k={self.top_k}, path={self.path!r}")

    def route(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Token rows x (N, D) -> router logits (N, E), gate weights (N, k) float32, experts (N, k)."""
        if self.training and self.jitter > 0:
            x = x * torch.empty_like(x).uniform_(1.0 - self.jitter, 1.0 + self.jitter)
        logits = self.router(x)
        probs = F.softmax(logits.float(), dim=-1)
        weights, experts = probs.topk(self.top_k, dim=-1)
        if self.normalize_top_k:
            weights = weights / weights.sum(dim=-1, keepdim=True)
        return logits, weights, experts

    def expert(self, e: int, x: torch.Tensor) -> torch.Tensor:
        """Expert e on rows x (..., D) -> (..., D): down_e(silu(gate_e(x)) * up_e(x))."""
        return F.linear(activate(F.linear(x, self.gate_up[e]), "swiglu"), self.down[e])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, D) -> (B, T, D); keeps the router logits (B*T, E) while training."""
        check_choice("path", self.path, PATHS)
        rows = x.reshape(-1, x.shape[-1])  # (N, D)
        logits, weights, experts = self.route(rows)
        self.last_router_logits = logits if self.training else None
        run = self._reference if self.path == "reference" else self._dispatch
        return run(rows, weights, experts).view_as(x)

    def _reference(self, rows: torch.Tensor, weights: torch.Tensor, experts: torch.Tensor) -> torch.Tensor:
        """For each token, the weighted sum of its k experts' outputs. rows (N, D) -> (N, D)."""
        out = []
        for n in range(rows.shape[0]):
            y = torch.zeros_like(rows[n])
            for j in range(self.top_k):
                e = int(experts[n, j])
                y = y + (weights[n, j] * self.expert(e, rows[n])).to(rows.dtype)
            out.append(y)
        return torch.stack(out) if out else torch.zeros_like(rows)

    def _dispatch(self, rows: torch.Tensor, weights: torch.Tensor, experts: torch.Tensor) -> torch.Tensor:
        """Group the N*k (token, slot) pairs by expert, one matmul pair per expert. (N, D) -> (N, D)."""
        flat = experts.reshape(-1)  # (N*k,) expert of each slot, token-major
        order = flat.argsort(stable=True)  # slots sorted by expert
        token = order // self.top_k  # (N*k,) the token of each sorted slot
        counts = torch.bincount(flat, minlength=self.n_experts).tolist()  # one host sync
        blocks = rows[token].split(counts)  # expert e's rows, contiguous
        y = torch.cat([self.expert(e, block) for e, block in enumerate(blocks) if counts[e]])
        y = (y * weights.reshape(-1)[order, None]).to(rows.dtype)  # (N*k, D)
        return torch.zeros_like(rows).index_add_(0, token, y)


def load_balancing_loss(router_logits: torch.Tensor | Sequence[torch.Tensor], n_experts: int,
                        top_k: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Switch/Mixtral auxiliary loss E * sum_i f_i * P_i over all layers' tokens, a scalar.

    Args:
        router_logits: one layer's logits (N, E), or a sequence of them (one per layer, each
            N = B*T rows); a single tensor of L*N rows (layers concatenated) also works.
        n_experts, top_k: E and k of the routing.
        mask: optional (B, T) keep-mask (1 = real token, 0 = padding), the same for every layer.

    f_i is the number of (token, slot) assignments to expert i divided by the number of tokens
    (not token-slots), P_i the mean router probability of expert i, both over the kept tokens of
    all layers. This is transformers' `load_balancing_loss_func`, whose f_i sum to k: the value
    is k times the paper's with f_i as fractions of token-slots, and its minimum (uniform routing)
    is k rather than 1. For k = 1 it is exactly Switch's equation (4).
    """
    check_range("n_experts", n_experts, 1)
    check_range("top_k", top_k, 1, n_experts)
    layers = [router_logits] if isinstance(router_logits, torch.Tensor) else list(router_logits)
    if not layers:
        raise DataError("load_balancing_loss got no router logits",
                        fix="pass at least one (N, E) tensor of router logits")
    logits = torch.cat([layer.reshape(-1, n_experts) for layer in layers]).float()  # (L*N, E)
    probs = F.softmax(logits, dim=-1)
    chosen = probs.topk(top_k, dim=-1).indices  # (L*N, k)
    if mask is None:
        keep = torch.ones(logits.shape[0], device=logits.device)
    else:
        flat = mask.reshape(-1).to(device=logits.device, dtype=torch.float32)
        if logits.shape[0] % flat.numel():
            raise DataError(f"mask has {flat.numel()} tokens but the router logits have "
                            f"{logits.shape[0]} rows", fix="pass the (B, T) mask of the batch "
                            "whose B*T tokens each layer routed")
        keep = flat.repeat(logits.shape[0] // flat.numel())  # (L*N,)
    counts = torch.zeros(n_experts, device=logits.device).index_add_(
        0, chosen.reshape(-1), keep.repeat_interleave(top_k))  # kept assignments per expert
    total = keep.sum()
    f = counts / total  # (E,), sums to k
    p = (probs * keep[:, None]).sum(dim=0) / total  # (E,), sums to 1
    return n_experts * (f * p).sum()


def moe_aux_loss(model: nn.Module, coef: float = 0.01, *,
                 mask: torch.Tensor | None = None) -> torch.Tensor | None:
    """coef * load_balancing_loss over the last router logits of the model's MoE layers.

    Layers with the same (E, k) are pooled into one loss, as transformers does; differently
    shaped groups add their losses. None when the model has no MoEFeedForward or none kept
    logits (eval mode, or no forward yet). `mask` is the batch's optional (B, T) keep-mask.
    """
    groups: dict[tuple[int, int], list[torch.Tensor]] = {}
    for module in model.modules():
        if isinstance(module, MoEFeedForward) and module.last_router_logits is not None:
            groups.setdefault((module.n_experts, module.top_k), []).append(module.last_router_logits)
    if not groups:
        return None
    return coef * sum(load_balancing_loss(logits, e, k, mask) for (e, k), logits in groups.items())

