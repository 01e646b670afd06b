"""MLM 80/10/10 masking, next-sentence pairs, T5 span corruption (the course example)."""

from __future__ import annotations

import itertools
import random

import pytest
import torch

from lmlab.errors import ConfigError
from lmlab.train.pretraining import (
    corrupt_spans,
    mask_tokens,
    mlm_nsp,
    nsp_pairs,
    random_spans,
    span_corruption,
)


def test_course_span_corruption_example():
    words = ["Thank", "you", "for", "inviting", "me", "to", "your", "party", "last", "week", "."]
    inputs, targets = corrupt_spans(words, [(2, 4), (8, 9)], ["<X>", "<Y>", "<Z>"])
    assert " ".join(inputs) == "Thank you <X> me to your party <Y> week ."
    assert " ".join(targets) == "<X> for inviting <Y> last <Z>"
    with pytest.raises(ConfigError, match="sentinels"):
        corrupt_spans(words, [(2, 4), (8, 9)], ["<X>", "<Y>"])
    with pytest.raises(ConfigError, match="overlaps"):
        corrupt_spans(words, [(2, 4), (3, 5)], ["<X>", "<Y>", "<Z>"])


def test_random_spans_follow_t5_budget_and_round_trip():
    rng = random.Random(0)
    tokens = list(range(100))
    for _ in range(20):
        spans = random_spans(100, rng, noise_density=0.15, mean_span_length=3)
        assert sum(e - s for s, e in spans) == 15 and len(spans) == 5
        assert spans[0][0] > 0 and all(a[1] < b[0] for a, b in itertools.pairwise(spans))  # kept gaps
    inputs, targets = span_corruption(tokens, [f"<{i}>" for i in range(10)], rng)
    # Undo: put each span back in place of its sentinel.
    fills, cur = {}, None
    for t in targets:
        if isinstance(t, str):
            cur = t
            fills[cur] = []
        else:
            fills[cur].append(t)
    restored = [x for t in inputs for x in (fills[t] if isinstance(t, str) else [t])]
    assert restored == tokens


def test_mask_tokens_80_10_10():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 1000, (200, 100), generator=g)
    special = torch.zeros_like(ids, dtype=torch.bool)
    special[:, 0] = True
    inputs, labels = mask_tokens(ids, mask_id=3, vocab_size=1000, special=special, generator=g)
    chosen = labels != -100
    assert not chosen[:, 0].any()
    n = chosen.sum().item()
    # 19,800 candidates at p = 0.15: the share is within 4 binomial sd (~0.01) of 0.15.
    assert abs(n / 19800 - 0.15) < 0.01
    masked = (inputs == 3) & chosen
    same = (inputs == ids) & chosen
    assert abs(masked.sum().item() / n - 0.8) < 0.03
    assert abs(same.sum().item() / n - 0.1) < 0.03  # ~0.1 kept (+0.1% random hits itself)
    assert torch.equal(inputs[~chosen], ids[~chosen]) and torch.equal(labels[chosen], ids[chosen])


def test_nsp_pairs_and_objective():
    rng = random.Random(1)
    sents = [f"s{i}" for i in range(400)]
    pairs = nsp_pairs(sents, rng)
    assert all((int(b[1:]) == int(a[1:]) + 1) == (y == 0) for a, b, y in pairs)
    assert 0.4 < sum(y for *_, y in pairs) / len(pairs) < 0.6
    from lmlab.models.transformer.bert import BERTConfig, BertForPreTraining

    torch.manual_seed(0)
    model = BertForPreTraining(BERTConfig.preset("bert-tiny", vocab_size=30, dropout=0.0))
    ids = torch.randint(4, 30, (4, 8))
    inputs, labels = mask_tokens(ids, mask_id=3, vocab_size=30, prob=0.5,
                                 generator=torch.Generator().manual_seed(0))
    batch = {"ids": inputs, "labels": labels, "nsp_labels": torch.tensor([0, 1, 0, 1])}
    loss, metrics = mlm_nsp(model, batch)
    assert loss.item() == pytest.approx(metrics["loss"]) and metrics["n"] == (labels != -100).sum()
    assert metrics["mlm_loss"] < loss.item()  # NSP adds a positive term
