"""Self-supervised pre-training data and objectives for Transformer encoders and encoder-decoders.

- Masked language modelling (Devlin et al., 2019): choose 15% of the (non-special) tokens; of those,
  80% become [MASK], 10% a random token, 10% stay unchanged; predict the originals.
- Next-sentence prediction: for sentence A, B is the real next sentence half of the time
  (label 0, IsNext) and a random other sentence otherwise (label 1, NotNext).
- Span corruption (Raffel et al., 2020, T5): replace spans of the input by sentinels and ask the
  decoder for the spans, each after its sentinel:
      Thank you for inviting me to your party last week.
      input:  Thank you <X> me to your party <Y> week.
      target: <X> for inviting <Y> last <Z>
  Random spans follow T5: round(n * noise_density) noisy tokens in round(noisy / mean_span_length)
  spans, noise and non-noise lengths drawn as random partitions.

Objectives follow `lmlab.train.objectives`: `(model, batch) -> (loss, metrics)`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from lmlab.errors import ConfigError, check_range
from lmlab.train.objectives import IGNORE, token_cross_entropy


def mask_tokens(ids: torch.Tensor, *, mask_id: int, vocab_size: int,
                special: torch.Tensor | None = None, prob: float = 0.15,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's 80/10/10 masking.

    Args:
        ids: (B, T) int64 token ids.
        mask_id: id of [MASK].
        special: (B, T) bool, True where a token must never be chosen ([CLS], [SEP], padding).
        prob: share of tokens chosen for prediction.
    Returns:
        (inputs (B, T) with replacements, labels (B, T): the original id where chosen, else -100).
    """
    check_range("prob", prob, 0, 1)
    g = generator
    chosen = torch.rand(ids.shape, generator=g) < prob
    if special is not None:
        chosen &= ~special.cpu()
    chosen = chosen.to(ids.device)
    labels = ids.masked_fill(~chosen, IGNORE)
    roll = torch.rand(ids.shape, generator=g).to(ids.device)
    inputs = ids.clone()
    inputs[chosen & (roll < 0.8)] = mask_id
    random_pos = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[random_pos] = torch.randint(vocab_size, ids.shape, generator=g).to(ids.device)[random_pos]
    return inputs, labels


def nsp_pairs(sentences: Sequence[Any], rng: random.Random) -> list[tuple[Any, Any, int]]:
    """(A, B, label) for each consecutive pair: label 0 = B follows A, 1 = B is a random sentence."""
    if len(sentences) < 3:
        raise ConfigError("next-sentence pairs need at least 3 sentences",
                          fix="give a longer document list")
    out = []
    for i in range(len(sentences) - 1):
        if rng.random() < 0.5:
            out.append((sentences[i], sentences[i + 1], 0))
        else:
            j = rng.randrange(len(sentences) - 2)
            j = j if j < i else j + 2  # any sentence except A and its true successor
            out.append((sentences[i], sentences[j], 1))
    return out


def mlm_nsp(model: torch.nn.Module, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
    """MLM cross-entropy (+ NSP cross-entropy when batch has "nsp_labels") for `BertForPreTraining`.

    batch: {"ids", "mask", "segments"?, "labels" (B, T) with -100 where not predicted, "nsp_labels"?}.
    """
    mlm_logits, nsp_logits = model(batch["ids"], batch.get("mask"), batch.get("segments"))
    loss, n = token_cross_entropy(mlm_logits, batch["labels"])
    metrics = {"mlm_loss": float(loss.detach()), "n": n}
    if "nsp_labels" in batch:
        nsp = F.cross_entropy(nsp_logits.float(), batch["nsp_labels"])
        loss = loss + nsp
        metrics["nsp_accuracy"] = float((nsp_logits.argmax(-1) == batch["nsp_labels"]).float().mean())
    metrics["loss"] = float(loss.detach())
    return loss, metrics


def token_tagging(model: torch.nn.Module, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
    """Per-token cross-entropy for taggers: batch {"ids", "mask", "labels" (B, T), -100 = skip}."""
    logits = model(batch["ids"], batch.get("mask"))
    loss, n = token_cross_entropy(logits, batch["labels"])
    keep = batch["labels"] != IGNORE
    acc = float((logits.argmax(-1)[keep] == batch["labels"][keep]).float().mean()) if n else 0.0
    return loss, {"loss": float(loss.detach()), "accuracy": acc, "n": n}


def corrupt_spans(tokens: Sequence[Any], spans: Sequence[tuple[int, int]],
                  sentinels: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """Replace each span [start, end) by the next sentinel; the target lists the spans.

    Returns (inputs, targets); targets end with one more sentinel, as in T5.
    """
    if len(sentinels) < len(spans) + 1:
        raise ConfigError(f"{len(spans)} spans need {len(spans) + 1} sentinels, got {len(sentinels)}",
                          fix="add sentinel tokens (<extra_id_0>, <extra_id_1>, ...)")
    inputs: list[Any] = []
    targets: list[Any] = []
    pos = 0
    for k, (start, end) in enumerate(sorted(spans)):
        if start < pos or end <= start or end > len(tokens):
            raise ConfigError(f"span {(start, end)} overlaps, is empty or leaves the sequence",
                              fix="give sorted, disjoint, non-empty spans inside the tokens")
        inputs += [*tokens[pos:start], sentinels[k]]
        targets += [sentinels[k], *tokens[start:end]]
        pos = end
    inputs += list(tokens[pos:])
    targets.append(sentinels[len(spans)])
    return inputs, targets


def _partition(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` split into `parts` positive integers, uniformly over the compositions."""
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def random_spans(n_tokens: int, rng: random.Random, *, noise_density: float = 0.15,
                 mean_span_length: float = 3.0) -> list[tuple[int, int]]:
    """T5's random noise spans over n_tokens: a list of [start, end) intervals."""
    check_range("noise_density", noise_density, 0, 1, low_open=True, high_open=True)
    n_noise = min(max(round(n_tokens * noise_density), 1), n_tokens - 1)
    n_spans = max(1, min(round(n_noise / mean_span_length), n_noise, n_tokens - n_noise))
    noise = _partition(n_noise, n_spans, rng)
    keep = _partition(n_tokens - n_noise, n_spans, rng)
    spans, pos = [], 0
    for k, nz in zip(keep, noise, strict=True):  # T5 starts with a kept segment
        pos += k
        spans.append((pos, pos + nz))
        pos += nz
    return spans


def span_corruption(tokens: Sequence[Any], sentinels: Sequence[Any], rng: random.Random, *,
                    noise_density: float = 0.15, mean_span_length: float = 3.0
                    ) -> tuple[list[Any], list[Any]]:
    """(inputs, targets) with random spans replaced by sentinels (see `corrupt_spans`)."""
    if len(tokens) < 2:
        raise ConfigError("span corruption needs at least 2 tokens", fix="skip shorter sequences")
    spans = random_spans(len(tokens), rng, noise_density=noise_density,
                         mean_span_length=mean_span_length)
    return corrupt_spans(tokens, spans, sentinels)

