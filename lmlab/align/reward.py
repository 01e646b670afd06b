"""Reward models: a causal LM backbone with a scalar head, trained on preference pairs.

    rm = RewardModel.from_lm(sft_model)                      # the backbone's weights, a new head
    rm, history = train_reward(rm, pairs, TrainConfig(max_steps=300, lr=1e-4))
    rm.score([{"role": "user", "content": "..."}], "a reply")   # -> float
    rm.save("runs/rm/model"); lmlab.load("runs/rm/model")      # type "reward"

The reward of a conversation is a linear head on the backbone's final hidden state (`hidden`) at
its last real token (Ouyang et al. 2022; Stiennon et al. 2020), the conversation rendered through
the chat template exactly as SFT renders it (`encode_pair`). The objective is Bradley-Terry
(`bradley_terry_loss`): -log sigmoid(r_chosen - r_rejected), with metrics accuracy (pairs ranked
right) and gap (mean r_chosen - r_rejected). The folder holds the backbone's type and config
(`RewardConfig`), so any causal LM family registered in `lmlab.registry` (GPT, Llama) serves.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from lmlab.align.format import ChatFormat
from lmlab.align.losses import bradley_terry_loss
from lmlab.align.preferences import PreferenceBatches, PreferencePair, encode_pairs, pad_id_of
from lmlab.config import Config
from lmlab.errors import ConfigError
from lmlab.io.torch_folder import TorchSavableMixin
from lmlab.registry import class_for_type
from lmlab.train.recipes import load_best
from lmlab.train.trainer import History, TrainConfig, Trainer

log = logging.getLogger("lmlab")


@dataclass
class RewardConfig(Config):
    """A reward model: the backbone's registry type ("gpt", "llama") and its config as a dict."""

    backbone_type: str = "gpt"
    backbone: dict[str, Any] = field(default_factory=dict)


class RewardModel(TorchSavableMixin, nn.Module):
    """`forward(ids (B, T), mask (B, T) bool)` -> rewards (B,) read at each row's last True token."""

    config_type: ClassVar[str] = "reward"
    config_class: ClassVar[type] = RewardConfig

    def __init__(self, config: RewardConfig, tokenizer: Any = None) -> None:
        super().__init__()
        cls = class_for_type(config.backbone_type, where="reward model backbone")
        if not hasattr(cls, "hidden"):
            raise ConfigError(f"a {cls.__name__} has no hidden states to read a reward from",
                              fix="use a causal Transformer backbone (gpt, llama)")
        self.config, self.tokenizer = config, tokenizer
        self.backbone = cls(cls.config_class.from_dict(config.backbone), tokenizer=tokenizer)
        self.head = nn.Linear(self.backbone.config.d_model, 1)
        nn.init.normal_(self.head.weight, std=1.0 / (self.backbone.config.d_model + 1) ** 0.5)
        nn.init.zeros_(self.head.bias)

    @classmethod
    def from_lm(cls, lm: Any, *, template: str | None = None) -> RewardModel:
        """A reward model on a copy of `lm`'s weights (a fresh head); keeps its chat template."""
        config = RewardConfig(backbone_type=lm.config_type, backbone=lm.config.to_dict())
        model = cls(config, tokenizer=lm.tokenizer)
        model.backbone.load_state_dict(lm.state_dict())
        template = template or getattr(lm, "chat_template", None)
        if template:
            model.chat_template = ChatFormat(lm.tokenizer, template).template
        return model.to(next(lm.parameters()).device)

    @property
    def max_seq_len(self) -> int:
        return self.backbone.config.max_seq_len

    @property
    def bos_id(self) -> int | None:
        return self.backbone.bos_id

    @property
    def eos_id(self) -> int | None:
        return self.backbone.eos_id

    def forward(self, ids: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Rewards (B,) of right-padded rows ids (B, T); mask (B, T) True on real tokens."""
        h = self.backbone.hidden(ids)  # (B, T, D): right padding is never read by earlier tokens
        last = (mask.long().sum(-1) - 1 if mask is not None
                else torch.full((ids.shape[0],), ids.shape[1] - 1, device=ids.device))
        return self.head(h[torch.arange(ids.shape[0], device=ids.device), last]).squeeze(-1).float()

    def pair_rewards(self, batch: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(r_chosen (B,), r_rejected (B,)) of a `PreferenceBatches` batch, one forward pass."""
        ids = torch.cat([batch["chosen_ids"], batch["rejected_ids"]])
        mask = torch.cat([batch["chosen_mask"], batch["rejected_mask"]])
        r = self(ids, mask)
        b = batch["chosen_ids"].shape[0]
        return r[:b], r[b:]

    @torch.no_grad()
    def score(self, prompt: Sequence[Mapping[str, Any]] | str, response: str, *,
              template: str | None = None) -> float:
        """The reward of `response` to `prompt` (messages, or a user turn's text)."""
        return self.score_many([prompt], [response], template=template)[0]

    @torch.no_grad()
    def score_many(self, prompts: Sequence[Any], responses: Sequence[str], *,
                   template: str | None = None, batch_size: int = 32) -> list[float]:
        """Rewards of each (prompt, response), rendered as SFT renders them."""
        fmt = ChatFormat.for_model(self, template)
        rows = []
        for prompt, response in zip(prompts, responses, strict=True):
            messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
            rows.append(fmt.encode([*messages, {"role": "assistant", "content": response}]).ids)
        self.eval()
        device, pad, out = next(self.parameters()).device, pad_id_of(self), []
        for k in range(0, len(rows), batch_size):
            chunk = rows[k:k + batch_size]
            for r in chunk:
                self.backbone._check_length(len(r))
            width = max(len(r) for r in chunk)
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros(len(chunk), width, dtype=torch.bool)
            for i, r in enumerate(chunk):
                ids[i, :len(r)], mask[i, :len(r)] = torch.tensor(r), True
            out += self(ids.to(device), mask.to(device)).tolist()
        return out


def reward_objective(model: nn.Module, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
    """Bradley-Terry `(model, batch) -> (loss, metrics)`: loss, accuracy, gap, n (pairs).
    A batch may carry per-pair `margin` (B,) (Llama 2's margin loss)."""
    ids = torch.cat([batch["chosen_ids"], batch["rejected_ids"]])
    r = model(ids, torch.cat([batch["chosen_mask"], batch["rejected_mask"]]))  # one pass, 2B rows
    b = batch["chosen_ids"].shape[0]
    r_chosen, r_rejected = r[:b], r[b:]
    loss = bradley_terry_loss(r_chosen, r_rejected, batch.get("margin")).mean()
    gap = (r_chosen - r_rejected).detach()
    return loss, {"loss": float(loss.detach()), "accuracy": float((gap > 0).float().mean()),
                  "gap": float(gap.mean()), "n": len(gap)}


def train_reward(model: Any, pairs: Sequence[PreferencePair], train_config: TrainConfig | None = None,
                 *, valid: Sequence[PreferencePair] | None = None, template: str | None = None,
                 batch_size: int = 8, max_len: int | None = None,
                 **train_options: Any) -> tuple[RewardModel, History]:
    """Train a reward model on pairs; returns (reward model in eval mode, History).

    Args:
        model: a `RewardModel`, or a causal LM (GPT, Llama) to build one on (`from_lm`).
        pairs: training pairs; valid: held-out pairs (accuracy and gap at each evaluation).
        template: the chat template (default the model's own); kept as `chat_template`.
        batch_size: pairs per batch; max_len: longest side in tokens (default: the context),
            longer pairs are dropped and counted in `model.reward_report`.
    """
    train_config = (train_config or TrainConfig()).replace(**train_options)
    rm = model if isinstance(model, RewardModel) else RewardModel.from_lm(model, template=template)
    fmt = ChatFormat.for_model(rm, template)
    max_len = max_len or rm.max_seq_len
    pad = pad_id_of(rm)
    encoded, report = encode_pairs(pairs, fmt, max_len=max_len)
    batches = PreferenceBatches(encoded, batch_size, pad_id=pad, seed=train_config.seed)
    valid_batches = None
    if valid:
        valid_batches = PreferenceBatches(encode_pairs(valid, fmt, max_len=max_len)[0], 64,
                                          pad_id=pad, shuffle=False)
    rm.chat_template = fmt.template
    rm.reward_report = report
    history = Trainer(rm, reward_objective, batches, valid_batches, train_config).fit()
    load_best(rm, train_config)
    return rm.eval(), history


@torch.no_grad()
def reward_accuracy(rm: RewardModel, pairs: Sequence[PreferencePair], *, batch_size: int = 32
                    ) -> dict[str, float]:
    """{"accuracy", "gap", "n"} of `rm` on pairs (pairs longer than its context are dropped)."""
    fmt = ChatFormat.for_model(rm)
    encoded, _ = encode_pairs(pairs, fmt, max_len=rm.max_seq_len)
    batches = PreferenceBatches(encoded, batch_size, pad_id=pad_id_of(rm), shuffle=False)
    device = next(rm.parameters()).device
    rm.eval()
    gaps = []
    for i in range(len(batches)):
        c, r = rm.pair_rewards({k: v.to(device) for k, v in batches[i].items()})
        gaps.append(c - r)
    gap = torch.cat(gaps)
    return {"accuracy": float((gap > 0).float().mean()), "gap": float(gap.mean()), "n": len(gap)}
