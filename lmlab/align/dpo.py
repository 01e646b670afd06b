"""Direct preference optimisation (Rafailov et al. 2023) on the one Trainer.

    pairs = read_preferences("pairs.jsonl").pairs          # or world_preferences(2000)
    policy, history = dpo(policy, pairs, TrainConfig(max_steps=200, lr=1e-4), beta=0.1)

The policy starts as (usually) an SFT model; the reference is a frozen copy of it (or the model
passed as `reference`), or, with `precompute_reference=True`, its log-probs of every reply are
computed once before training and the reference is dropped. Each pair is rendered through the
chat template exactly as SFT renders a conversation (`lmlab.align.preferences.encode_pair`), and
`batch_logps` sums the log-probs of the final reply's tokens (its end-of-turn included) given the
prompt, chosen and rejected rows in one forward pass. The loss is `lmlab.align.losses.dpo_loss`
(sigmoid, conservative DPO with label smoothing, or IPO with TRL's per-token normalisation).

The reference lives outside the trained module (it is neither optimised nor checkpointed): its
parameters have requires_grad False and it runs under `torch.no_grad()` in eval mode.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from lmlab.align.format import ChatFormat
from lmlab.align.losses import dpo_loss
from lmlab.align.preferences import (
    PreferenceBatches,
    PreferencePair,
    encode_pairs,
    pad_id_of,
)
from lmlab.errors import ConfigError
from lmlab.train.recipes import load_best
from lmlab.train.trainer import History, TrainConfig, Trainer

log = logging.getLogger("lmlab")


def batch_logps(model: torch.nn.Module, ids: torch.Tensor, labels: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log-probs of the labelled tokens of right-padded rows, in one forward pass.

    Args:
        model: a causal LM, `model(ids)` -> logits (B, T, V).
        ids: (B, T) int64, right-padded (a causal LM never reads the padding after a token).
        labels: (B, T) bool, True on the tokens to score (each given everything before it).
    Returns:
        (log-probs (B,) float32, scored tokens per row (B,) int64).
    """
    out = model(ids[:, :-1])
    logits = out[0] if isinstance(out, tuple) else out
    logp = F.log_softmax(logits.float(), dim=-1).gather(-1, ids[:, 1:, None]).squeeze(-1)  # (B, T-1)
    scored = labels[:, 1:]
    return (logp * scored).sum(-1), scored.sum(-1)


def sequence_logps(model: Any, prompt_ids: Sequence[Sequence[int]],
                   response_ids: Sequence[Sequence[int]], *, pad_id: int = 0) -> torch.Tensor:
    """log p(response | prompt) (B,) for B (prompt, response) id lists: one padded forward pass.

    Render both with `ChatFormat` (`encode_prompt`, then `encode` of the conversation with the
    reply) to score a reply as SFT trained it; `encode_pair` does so for preference pairs.
    """
    if len(prompt_ids) != len(response_ids) or not prompt_ids:
        raise ConfigError(f"{len(prompt_ids)} prompts for {len(response_ids)} responses",
                          fix="pass one response per prompt (and at least one)")
    rows = [list(p) + list(r) for p, r in zip(prompt_ids, response_ids, strict=True)]
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.zeros(len(rows), width, dtype=torch.bool)
    for i, (p, row) in enumerate(zip(prompt_ids, rows, strict=True)):
        ids[i, :len(row)] = torch.tensor(row)
        labels[i, len(p):len(row)] = True
    device = next(model.parameters()).device
    return batch_logps(model, ids.to(device), labels.to(device))[0]


def pair_logps(model: torch.nn.Module, batch: dict[str, Any]
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(chosen logps (B,), rejected logps (B,), chosen tokens (B,), rejected tokens (B,)) of a
    `PreferenceBatches` batch: the 2B rows in one forward pass."""
    ids = torch.cat([batch["chosen_ids"], batch["rejected_ids"]])
    labels = torch.cat([batch["chosen_labels"], batch["rejected_labels"]])
    logps, n = batch_logps(model, ids, labels)
    b = batch["chosen_ids"].shape[0]
    return logps[:b], logps[b:], n[:b], n[b:]


def frozen_copy(model: torch.nn.Module) -> torch.nn.Module:
    """A deep copy of `model` in eval mode with every parameter's requires_grad False."""
    ref = copy.deepcopy(model).eval()
    ref.requires_grad_(False)
    return ref


class DPOObjective:
    """The DPO objective `(model, batch) -> (loss, metrics)` for the Trainer.

    Args:
        reference: the frozen reference LM, or None when every batch carries precomputed
            `ref_chosen` / `ref_rejected`.
        beta, loss_type, label_smoothing: as in `dpo_loss`.
    Metrics: loss, chosen/rejected (mean implicit rewards), margin (their mean gap), accuracy
    (pairs whose chosen reward is the larger), n (pairs).
    """

    def __init__(self, reference: torch.nn.Module | None, *, beta: float = 0.1,
                 loss_type: str = "sigmoid", label_smoothing: float = 0.0) -> None:
        dpo_loss(torch.zeros(1), torch.zeros(1), torch.zeros(1), torch.zeros(1), beta,
                 label_smoothing, loss_type)  # checks the options now, not at step 1
        self.reference, self.beta = reference, beta
        self.loss_type, self.label_smoothing = loss_type, label_smoothing

    def reference_logps(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """(ref chosen (B,), ref rejected (B,)): precomputed ones, else the reference's."""
        if "ref_chosen" in batch:
            return batch["ref_chosen"], batch["ref_rejected"]
        if self.reference is None:
            raise ConfigError("the batch has no reference log-probs and there is no reference model",
                              fix="pass reference=... or precompute_reference=True")
        device = batch["chosen_ids"].device
        if next(self.reference.parameters()).device != device:
            self.reference.to(device)
        with torch.no_grad():
            chosen, rejected, _, _ = pair_logps(self.reference.eval(), batch)
        return chosen, rejected

    def __call__(self, model: torch.nn.Module, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        ref_chosen, ref_rejected = self.reference_logps(batch)
        chosen, rejected, n_chosen, n_rejected = pair_logps(model, batch)
        losses, r_chosen, r_rejected = dpo_loss(
            chosen, rejected, ref_chosen.to(chosen), ref_rejected.to(chosen), self.beta,
            self.label_smoothing, self.loss_type, chosen_tokens=n_chosen, rejected_tokens=n_rejected)
        loss = losses.mean()
        return loss, {"loss": float(loss.detach()), "chosen": float(r_chosen.mean()),
                      "rejected": float(r_rejected.mean()),
                      "margin": float((r_chosen - r_rejected).mean()),
                      "accuracy": float((r_chosen > r_rejected).float().mean()), "n": len(losses)}


@torch.no_grad()
def precompute_reference_logps(reference: torch.nn.Module, encoded: Sequence[Any], *,
                               pad_id: int = 0, batch_size: int = 32) -> None:
    """Fill each `EncodedPair`'s `ref_chosen` / `ref_rejected` with the reference's log-probs."""
    reference.eval()
    device = next(reference.parameters()).device
    batches = PreferenceBatches(encoded, batch_size, pad_id=pad_id, shuffle=False)
    for g, group in enumerate(batches.groups):
        batch = {k: v.to(device) for k, v in batches[g].items() if k.endswith(("ids", "labels"))}
        chosen, rejected, _, _ = pair_logps(reference, batch)
        for k, c, r in zip(group, chosen.tolist(), rejected.tolist(), strict=True):
            encoded[k].ref_chosen, encoded[k].ref_rejected = c, r


def _vocab(model: Any) -> Any:
    tok = getattr(model, "tokenizer", None)
    return None if tok is None else tok.get_vocab()


def dpo(policy: Any, pairs: Sequence[PreferencePair], train_config: TrainConfig | None = None, *,
        reference: torch.nn.Module | None = None, precompute_reference: bool = False,
        beta: float = 0.1, loss_type: str = "sigmoid", label_smoothing: float = 0.0,
        valid: Sequence[PreferencePair] | None = None, template: str | None = None,
        batch_size: int = 8, max_len: int | None = None, **train_options: Any) -> tuple[Any, History]:
    """Train `policy` on preference pairs with DPO; returns (policy in eval mode, History).

    Args:
        policy: a causal LM with a tokenizer (GPT, Llama), usually SFT-trained.
        pairs: training pairs (`read_preferences`, `world_preferences`).
        train_config: a `TrainConfig`; keyword `train_options` replace its fields.
        reference: the frozen reference; default a frozen copy of `policy` as it starts.
        precompute_reference: compute the reference's log-probs once, then drop the reference.
        beta, loss_type ("sigmoid" | "ipo"), label_smoothing: as in `dpo_loss`.
        valid: held-out pairs (evaluated with the same objective: accuracy, margin).
        template: the chat template (default the policy's own); it becomes `policy.chat_template`.
        batch_size: pairs per batch; max_len: longest side in tokens (default: the context + 1),
            longer pairs are dropped and counted in `policy.dpo_report`.
    """
    train_config = (train_config or TrainConfig()).replace(**train_options)
    fmt = ChatFormat.for_model(policy, template)
    context = getattr(policy, "max_seq_len", None)
    max_len = max_len or (context + 1 if context else None)
    pad = pad_id_of(policy)
    encoded, report = encode_pairs(pairs, fmt, max_len=max_len)
    if reference is not None and _vocab(reference) != _vocab(policy):
        raise ConfigError(f"the reference {type(reference).__name__} has another tokenizer than the "
                          f"policy {type(policy).__name__}",
                          fix="use a reference with the policy's tokenizer (e.g. the SFT model)")
    reference = frozen_copy(policy) if reference is None else reference.eval().requires_grad_(False)
    valid_encoded = encode_pairs(valid, fmt, max_len=max_len)[0] if valid else None
    if precompute_reference:
        for enc in (encoded, valid_encoded or []):
            precompute_reference_logps(reference, enc, pad_id=pad)
        reference = None
    objective = DPOObjective(reference, beta=beta, loss_type=loss_type, label_smoothing=label_smoothing)
    batches = PreferenceBatches(encoded, batch_size, pad_id=pad, seed=train_config.seed)
    valid_batches = PreferenceBatches(valid_encoded, 64, pad_id=pad, shuffle=False) if valid_encoded else None
    policy.chat_template = fmt.template
    policy.dpo_report = report
    history = Trainer(policy, objective, batches, valid_batches, train_config).fit()
    load_best(policy, train_config)
    return policy.eval(), history
