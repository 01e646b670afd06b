"""Objectives: `(model, batch) -> (loss, metrics)`, the only thing that differs between tasks.

The Trainer never knows what a model computes; an objective reads the batch (a dict of tensors from
`lmlab.data.tokens`), calls the model and returns a scalar loss plus float metrics. `metrics["n"]`
counts the predictions in the batch, so evaluation averages are weighted correctly.

    causal_lm       batch {"ids" (B, T), "mask"? (B, T)}           model(ids) -> logits (B, T, V)
    classification  batch {"ids", "mask", "labels" (B,)}           model(ids, mask) -> logits (B, C)
    pair_similarity batch {"a_ids","a_mask","b_ids","b_mask","score" (B,)}  model(ids, mask) -> (B, D)
    seq2seq         batch {"src_ids","src_mask","tgt_ids","tgt_mask"} model(src, src_mask, tgt_in)

Losses are means in nats: cross-entropy (Shannon 1948; the log-loss of every LM), and for pairs the
squared error between cosine and gold score (the CosineSimilarityLoss of Reimers & Gurevych 2019).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

Objective = Callable[[torch.nn.Module, dict[str, Any]], tuple[torch.Tensor, dict[str, float]]]
IGNORE = -100


def _logits(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, tuple) else out


def token_cross_entropy(logits: torch.Tensor, targets: torch.Tensor,
                        mask: torch.Tensor | None = None) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy over kept positions; logits (B, T, V), targets (B, T), mask (B, T) bool.

    Returns (loss in nats/token, number of scored tokens).
    """
    if mask is not None:
        targets = targets.masked_fill(~mask, IGNORE)
    n = int((targets != IGNORE).sum())
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1),
                           ignore_index=IGNORE)
    return loss, n


def causal_lm(model: torch.nn.Module, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
    """Next-token prediction: predict ids[:, 1:] from ids[:, :-1] (masked positions not scored).

    A mixture-of-experts model (config `router_aux_loss_coef` > 0) also pays the routers'
    load-balancing loss in training; "loss" and "ppl" report the language-model part only."""
    ids = batch["ids"]
    mask = batch.get("mask")
    logits = _logits(model(ids[:, :-1]))  # (B, T-1, V)
    loss, n = token_cross_entropy(logits, ids[:, 1:], None if mask is None else mask[:, 1:])
    value = float(loss.detach())
    metrics = {"loss": value, "ppl": math.exp(min(value, 50.0)), "n": n}
    inner = getattr(model, "module", model)  # DDP keeps the model in .module
    coef = getattr(getattr(inner, "config", None), "router_aux_loss_coef", 0.0)
    if coef and inner.training:
        from lmlab.models.transformer.moe import moe_aux_loss

        aux = moe_aux_loss(inner, coef, mask=None if mask is None else mask[:, :-1])
        if aux is not None:
            loss = loss + aux
            metrics["aux_loss"] = float(aux.detach())
    return loss, metrics


def classification(model: torch.nn.Module, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy of class logits (B, C) against labels (B,); reports accuracy."""
    logits = _logits(model(batch["ids"], batch.get("mask")))
    labels = batch["labels"]
    loss = F.cross_entropy(logits.float(), labels)
    acc = float((logits.argmax(-1) == labels).float().mean())
    return loss, {"loss": float(loss.detach()), "accuracy": acc, "n": int(labels.numel())}


def pair_similarity(model: torch.nn.Module, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
    """Squared error between cos(model(a), model(b)) and the gold `score` (B,) in [-1, 1].

    `model(ids, mask)` returns sentence vectors (B, D); both sides go through one forward pass.
    """
    a_ids, b_ids = batch["a_ids"], batch["b_ids"]
    a_mask = batch.get("a_mask", torch.ones_like(a_ids, dtype=torch.bool))
    b_mask = batch.get("b_mask", torch.ones_like(b_ids, dtype=torch.bool))
    # One forward over both sides (a data-parallel wrapper allows one forward per backward).
    width = max(a_ids.shape[1], b_ids.shape[1])
    ids = torch.cat([F.pad(a_ids, (0, width - a_ids.shape[1])), F.pad(b_ids, (0, width - b_ids.shape[1]))])
    mask = torch.cat([F.pad(a_mask, (0, width - a_mask.shape[1])), F.pad(b_mask, (0, width - b_mask.shape[1]))])
    a, b = model(ids, mask).chunk(2)                                 # (B, D) each
    cos = F.cosine_similarity(a.float(), b.float(), dim=-1)
    score = batch["score"].float()
    loss = F.mse_loss(cos, score)
    return loss, {"loss": float(loss.detach()), "n": int(score.numel())}


def seq2seq(model: torch.nn.Module, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
    """Teacher forcing: predict tgt_ids[:, 1:] from the source and tgt_ids[:, :-1]."""
    tgt, tgt_mask = batch["tgt_ids"], batch.get("tgt_mask")
    logits = _logits(model(batch["src_ids"], batch.get("src_mask"), tgt[:, :-1]))
    loss, n = token_cross_entropy(logits, tgt[:, 1:], None if tgt_mask is None else tgt_mask[:, 1:])
    value = float(loss.detach())
    return loss, {"loss": value, "ppl": math.exp(min(value, 50.0)), "n": n}


OBJECTIVES: dict[str, Objective] = {"causal_lm": causal_lm, "classification": classification,
                                    "pair_similarity": pair_similarity, "seq2seq": seq2seq}
