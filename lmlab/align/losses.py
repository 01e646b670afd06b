"""Preference losses: pure functions of log-probabilities and rewards, per example.

    losses, chosen_r, rejected_r = dpo_loss(pc, pr, rc, rr, beta=0.1)    # all (B,)
    losses = bradley_terry_loss(r_chosen, r_rejected)                     # (B,)

DPO (Rafailov et al. 2023) trains the policy as its own reward model: the implicit reward of a
response y to a prompt x is beta * (log pi(y|x) - log pi_ref(y|x)), and with
h = (pc - rc) - (pr - rr) (the chosen minus the rejected log-ratio) the loss is

    sigmoid   -log sigmoid(beta h)                                     (Bradley-Terry on rewards)
    conservative DPO, label smoothing e (the label is flipped with probability e):
              -(1 - e) log sigmoid(beta h) - e log sigmoid(-beta h)
    ipo       (h - 1 / (2 beta))^2     (Azar et al. 2023, eq. 17; beta is their tau)

With the policy equal to the reference (h = 0) every sigmoid loss is ln 2 and every IPO loss
1 / (4 beta^2). TRL normalises IPO's log-ratios by the number of response tokens; pass
`chosen_tokens` / `rejected_tokens` for the same. The reward model's Bradley-Terry loss
(Christiano et al. 2017; Ouyang et al. 2022) is -log sigmoid(r_chosen - r_rejected - margin),
with Llama 2's optional per-pair margin (Touvron et al. 2023).

The PPO pieces (Schulman et al. 2017; for language models Ziegler et al. 2019, Ouyang et al. 2022)
are pure too: `kl_penalized_rewards` (the reward at the last response token minus a per-token KL
penalty against the reference), `gae` (generalised advantage estimation, Schulman et al. 2016),
`whiten`, the clipped `ppo_policy_loss` and `ppo_value_loss`, `AdaptiveKL` (Ziegler et al.'s
proportional controller of the KL coefficient), and GRPO's `group_advantages` (Shao et al. 2024).
The rollout loop that uses them (`lmlab align ppo`) is not written yet.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lmlab.errors import ConfigError, check_choice, check_range

DPO_LOSSES = ("sigmoid", "ipo")


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, beta: float = 0.1, label_smoothing: float = 0.0,
             loss_type: str = "sigmoid", *, chosen_tokens: torch.Tensor | None = None,
             rejected_tokens: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """DPO / conservative DPO / IPO losses of a batch of pairs (module docstring).

    Args:
        policy_chosen, policy_rejected: (B,) summed log-probs of the responses under the policy.
        ref_chosen, ref_rejected: (B,) the same under the frozen reference.
        beta: > 0, the strength of the KL regularisation (IPO's tau).
        label_smoothing: e in [0, 0.5), the assumed rate of flipped labels (sigmoid only).
        loss_type: "sigmoid" or "ipo".
        chosen_tokens, rejected_tokens: (B,) response lengths; IPO divides the log-ratios by them.
    Returns:
        (losses (B,), chosen_rewards (B,), rejected_rewards (B,)); the rewards are
        beta * log-ratio, detached.
    """
    check_choice("loss_type", loss_type, DPO_LOSSES)
    check_range("beta", beta, 0, low_open=True)
    check_range("label_smoothing", label_smoothing, 0, 0.5, high_open=True)
    chosen_ratio = policy_chosen - ref_chosen
    rejected_ratio = policy_rejected - ref_rejected
    if loss_type == "sigmoid":
        h = beta * (chosen_ratio - rejected_ratio)
        losses = -(1 - label_smoothing) * F.logsigmoid(h) - label_smoothing * F.logsigmoid(-h)
    else:
        if label_smoothing:
            raise ConfigError("label smoothing is for the sigmoid loss, not IPO",
                              fix="use --label-smoothing 0 with --loss ipo")
        if chosen_tokens is not None:
            chosen_ratio = chosen_ratio / chosen_tokens.clamp(min=1)
        if rejected_tokens is not None:
            rejected_ratio = rejected_ratio / rejected_tokens.clamp(min=1)
        losses = (chosen_ratio - rejected_ratio - 1 / (2 * beta)) ** 2
    return (losses, beta * (policy_chosen - ref_chosen).detach(),
            beta * (policy_rejected - ref_rejected).detach())


def bradley_terry_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor,
                       margin: torch.Tensor | float | None = None) -> torch.Tensor:
    """Per-pair reward-model loss -log sigmoid(r_chosen - r_rejected - margin).

    Args:
        r_chosen, r_rejected: (B,) scalar rewards.
        margin: None, a float or (B,) margins the chosen reward must exceed the rejected one by.
    Returns:
        losses (B,).
    """
    gap = r_chosen - r_rejected
    if margin is not None:
        gap = gap - margin
    return -F.logsigmoid(gap)


# ---- PPO and GRPO ---------------------------------------------------------------------------
def masked_mean(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of `x` over the True positions of `mask` (all of them when None)."""
    if mask is None:
        return x.mean()
    mask = mask.to(x.dtype)
    return (x * mask).sum() / mask.sum().clamp(min=1)


def whiten(x: torch.Tensor, mask: torch.Tensor | None = None, *, shift_mean: bool = True,
           eps: float = 1e-8) -> torch.Tensor:
    """(x - mean) / std over the masked positions (the mean kept when `shift_mean` is False)."""
    mean = masked_mean(x, mask)
    var = masked_mean((x - mean) ** 2, mask)
    out = (x - mean) * torch.rsqrt(var + eps)
    return out if shift_mean else out + mean


def kl_penalized_rewards(score: torch.Tensor, logps: torch.Tensor, ref_logps: torch.Tensor,
                         mask: torch.Tensor, kl_coef: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token rewards of sampled responses: -kl_coef * (log pi - log pi_ref) at every token,
    plus the sequence's `score` at its last token.

    Args:
        score: (B,) reward of each whole response (a reward model, or any function of the text).
        logps, ref_logps: (B, T) log-probs of the sampled tokens under the policy / reference.
        mask: (B, T) bool, True on response tokens (right-padded).
        kl_coef: the KL coefficient (fixed, or `AdaptiveKL.value`).
    Returns:
        (rewards (B, T), per-token KL estimate (B, T)), both zero outside `mask`.
    """
    m = mask.to(logps.dtype)
    kl = (logps - ref_logps) * m
    rewards = -kl_coef * kl
    last = (mask.long().sum(-1) - 1).clamp(min=0)
    rewards[torch.arange(len(score)), last] += score.to(rewards.dtype)
    return rewards * m, kl


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None = None, *,
        gamma: float = 1.0, lam: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over right-padded token sequences.

    delta_t = r_t + gamma V_{t+1} - V_t (V = 0 after the last token), A_t = delta_t +
    gamma lam A_{t+1}; returns (advantages (B, T), returns = advantages + values (B, T)).
    """
    check_range("gamma", gamma, 0, 1)
    check_range("lam", lam, 0, 1)
    m = torch.ones_like(rewards) if mask is None else mask.to(rewards.dtype)
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    next_value = torch.zeros_like(rewards[:, 0])
    for t in range(rewards.shape[1] - 1, -1, -1):
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = (delta + gamma * lam * running) * m[:, t]
        adv[:, t] = running
        next_value = values[:, t] * m[:, t]
    return adv, (adv + values) * m


def ppo_policy_loss(logps: torch.Tensor, old_logps: torch.Tensor, advantages: torch.Tensor,
                    mask: torch.Tensor | None = None, *, clip: float = 0.2
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate, -min(ratio A, clip(ratio, 1 -/+ clip) A), mean over `mask`.

    Returns (loss, fraction of tokens clipped)."""
    ratio = torch.exp(logps - old_logps)
    unclipped = -advantages * ratio
    clipped = -advantages * ratio.clamp(1 - clip, 1 + clip)
    loss = masked_mean(torch.maximum(unclipped, clipped), mask)
    return loss, masked_mean((clipped > unclipped).to(logps.dtype), mask).detach()


def ppo_value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
                   mask: torch.Tensor | None = None, *, clip: float = 0.2) -> torch.Tensor:
    """0.5 * max((V - R)^2, (clip(V, V_old -/+ clip) - R)^2), mean over `mask`."""
    clipped = old_values + (values - old_values).clamp(-clip, clip)
    return 0.5 * masked_mean(torch.maximum((values - returns) ** 2, (clipped - returns) ** 2), mask)


class AdaptiveKL:
    """Ziegler et al.'s KL controller: after each batch with observed KL `kl` over `n_steps`
    samples, value *= 1 + clip((kl - target) / target, -0.2, 0.2) * n_steps / horizon."""

    def __init__(self, init: float = 0.1, target: float | None = 6.0, horizon: int = 10_000) -> None:
        check_range("init", init, 0)
        self.value, self.target, self.horizon = init, target, horizon

    def update(self, kl: float, n_steps: int) -> float:
        """Adjust and return the coefficient (unchanged when `target` is None: a fixed one)."""
        if self.target is not None:
            error = max(-0.2, min(0.2, (kl - self.target) / self.target))
            self.value *= 1 + error * n_steps / self.horizon
        return self.value


def group_advantages(rewards: torch.Tensor, *, scale: bool = True, eps: float = 1e-4) -> torch.Tensor:
    """GRPO's advantages: rewards (G, k) of k samples per prompt, minus each group's mean (and
    divided by its standard deviation when `scale`); a group of equal rewards gets zeros."""
    if rewards.dim() != 2:
        raise ConfigError(f"rewards of shape {tuple(rewards.shape)} are not (groups, samples)",
                          fix="reshape them to (n_prompts, k)")
    centred = rewards - rewards.mean(-1, keepdim=True)
    return centred / (rewards.std(-1, keepdim=True) + eps) if scale else centred
