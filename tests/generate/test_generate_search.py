"""Greedy and beam search: cache == recompute, beam 1 == greedy, exactness, batching, seq2seq."""

from __future__ import annotations

import itertools
import math
from collections import namedtuple

import pytest
import torch

from lmlab.generate import GenerationConfig, generate
from lmlab.generate.state import reorder_generic


@torch.no_grad()
def greedy_by_recompute(model, prompt, n):
    """The oracle: recompute the full forward pass for every new token."""
    ids = torch.tensor([prompt])
    out, lps = [], []
    for _ in range(n):
        logits = model(ids)[0, -1]
        tok = int(logits.argmax())
        lps.append(float(logits.log_softmax(-1)[tok]))
        out.append(tok)
        ids = torch.cat([ids, torch.tensor([[tok]])], 1)
    return out, lps


def test_greedy_with_cache_equals_full_recompute(tiny_lm):
    prompt = [3, 1, 4, 1, 5]
    gen = generate(tiny_lm, prompt, max_new_tokens=20)
    ref, ref_lps = greedy_by_recompute(tiny_lm, prompt, 20)
    assert gen.ids == ref
    assert gen.log_probs == pytest.approx(ref_lps, abs=1e-5)
    assert gen.finish_reason == "length"
    assert gen.score == pytest.approx(sum(ref_lps), abs=1e-4)


def test_greedy_bigram_follows_the_table(bigram):
    # <s> -> 1 (0.5) -> 2 (0.7) -> 1 (0.6) -> 2 ...
    gen = generate(bigram, [0], max_new_tokens=4)
    assert gen.ids == [1, 2, 1, 2]
    assert gen.log_probs == pytest.approx([math.log(p) for p in (0.5, 0.7, 0.6, 0.7)], abs=1e-6)


def test_stop_token_ends_and_is_kept(bigram):
    # greedy from <s> is 1, 2, 1, 2 ...; with 2 as a stop token it ends after two tokens
    gen = generate(bigram, [0], max_new_tokens=10, stop_token_ids=[2])
    assert gen.ids == [1, 2] and gen.finish_reason == "stop_token"


@pytest.mark.parametrize("model_name", ["bigram", "tiny_lm"])
def test_beam_width_one_equals_greedy(model_name, request):
    model = request.getfixturevalue(model_name)
    prompt = [0] if model_name == "bigram" else [2, 7, 1]
    for stops in ((), (4,)):
        greedy = generate(model, prompt, max_new_tokens=12, stop_token_ids=stops)
        beam = generate(model, prompt, strategy="beam", num_beams=1, max_new_tokens=12,
                        stop_token_ids=stops)
        assert beam.ids == greedy.ids
        assert beam.log_probs == pytest.approx(greedy.log_probs, abs=1e-5)


def test_wide_beam_is_exhaustive_search(bigram):
    # With width >= V^(L-1) no prefix is ever pruned: beam search returns the most likely of all
    # V^L sequences of length L (no stop tokens, so all have the same length).
    length, v = 3, bigram.vocab_size
    lp = bigram.table.log_softmax(-1)
    best = max(itertools.product(range(v), repeat=length),
               key=lambda seq: sum(float(lp[a, b]) for a, b in zip((0, *seq), seq, strict=False)))
    gen = generate(bigram, [0], strategy="beam", num_beams=v ** (length - 1),
                   max_new_tokens=length, n_best=3)
    assert tuple(gen.ids) == best
    assert len(gen.nbest) == 3
    scores = [g.score for g in gen.nbest]
    assert scores == sorted(scores, reverse=True)
    # length_penalty=1: the score is the mean log-probability per generated token
    assert gen.score == pytest.approx(sum(gen.log_probs) / length, abs=1e-6)


def test_beam_finds_better_sequence_than_greedy(make_bigram):
    # from 0: greedy takes 1 (0.6) then is stuck with 0.3; 2 (0.4) leads to 0.9: 0.36 > 0.18.
    lm = make_bigram([
        [1e-9, 0.6, 0.4, 1e-9],
        [1e-9, 0.3, 0.4, 0.3],
        [1e-9, 0.05, 0.05, 0.9],
        [0.25, 0.25, 0.25, 0.25],
    ])
    greedy = generate(lm, [0], max_new_tokens=2)
    beam = generate(lm, [0], strategy="beam", num_beams=2, max_new_tokens=2, stop_token_ids=[3])
    assert greedy.ids == [1, 2]
    assert beam.ids == [2, 3] and beam.finish_reason == "stop_token"
    assert beam.score == pytest.approx(math.log(0.4 * 0.9) / 2, abs=1e-6)


def test_length_penalty_prefers_longer_with_larger_alpha(make_bigram):
    # 0 -> 3 (stop, 0.4) directly, or 0 -> 1 (0.6) -> 3 (stop, 0.55): totals 0.4 vs 0.33
    lm = make_bigram([
        [1e-9, 0.6, 1e-9, 0.4],
        [1e-9, 0.2, 0.25, 0.55],
        [0.25, 0.25, 0.25, 0.25],
        [0.25, 0.25, 0.25, 0.25],
    ])
    cfg = GenerationConfig(strategy="beam", num_beams=2, max_new_tokens=4, stop_token_ids=(3,),
                           n_best=2)
    short = generate(lm, [0], cfg.replace(length_penalty=0.0))
    long = generate(lm, [0], cfg.replace(length_penalty=2.0))
    assert short.ids == [3]
    assert long.ids == [1, 3]
    assert long.score == pytest.approx(math.log(0.6 * 0.55) / 2 ** 2, abs=1e-6)


@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_batched_equals_one_by_one(tiny_lm, strategy):
    prompts = [[1, 2, 3], [4, 5], [6, 7, 8], [9], [3, 3, 3, 3, 3]]
    kw = {"strategy": strategy, "max_new_tokens": 8, "stop_token_ids": (0,)}
    if strategy == "beam":
        kw |= {"num_beams": 3, "n_best": 2}
    batched = generate(tiny_lm, prompts, **kw)
    for prompt, gen in zip(prompts, batched, strict=True):
        alone = generate(tiny_lm, prompt, **kw)
        assert gen.prompt_ids == prompt
        assert gen.ids == alone.ids
        assert gen.log_probs == pytest.approx(alone.log_probs, abs=1e-5)
        assert [g.ids for g in gen.nbest] == [g.ids for g in alone.nbest]


def test_tensor_prompts_single_and_batch(tiny_lm):
    single = generate(tiny_lm, torch.tensor([1, 2, 3]), max_new_tokens=3)
    batch = generate(tiny_lm, torch.tensor([[1, 2, 3], [1, 2, 3]]), max_new_tokens=3)
    assert isinstance(batch, list) and batch[0].ids == batch[1].ids == single.ids
    import numpy as np

    assert generate(tiny_lm, np.array([1, 2, 3]), max_new_tokens=3).ids == single.ids
    assert generate(tiny_lm, list(np.array([1, 2, 3])), max_new_tokens=3).ids == single.ids


def test_seq2seq_through_condition(copy_seq2seq):
    src = torch.tensor([[5, 6, 7, 8], [9, 10, 11, 2]])
    lm = copy_seq2seq.condition(src)
    bos = [[copy_seq2seq.BOS]] * 2
    for strategy in ("greedy", "beam"):
        gens = generate(lm, bos, strategy=strategy, max_new_tokens=10,
                        stop_token_ids=[copy_seq2seq.EOS])
        assert [g.ids for g in gens] == [[5, 6, 7, 8, 1], [9, 10, 11, 2, 1]]
        assert all(g.finish_reason == "stop_token" for g in gens)


def test_top_logprobs_are_the_best_alternatives(bigram):
    gen = generate(bigram, [0], max_new_tokens=2, top_logprobs=3)
    first = gen.top[0]
    assert [i for i, _ in first] == [1, 2, 3]
    assert [lp for _, lp in first] == pytest.approx([math.log(p) for p in (0.5, 0.3, 0.15)], abs=1e-6)
    beam = generate(bigram, [0], strategy="beam", num_beams=1, max_new_tokens=2, top_logprobs=3)
    assert beam.top == [[(i, pytest.approx(lp, abs=1e-6)) for i, lp in alts] for alts in gen.top]


def test_generic_state_reordering():
    rows = torch.tensor([2, 0, 0])
    Pair = namedtuple("Pair", "a b")
    x = torch.arange(6).view(3, 2)
    state = {"kv": (x, [x * 10]), "pair": Pair(x, None), "n": 4}
    out = reorder_generic(state, rows, 3)
    assert out["kv"][0].tolist() == [[4, 5], [0, 1], [0, 1]]
    assert out["kv"][1][0].tolist() == [[40, 50], [0, 10], [0, 10]]
    assert isinstance(out["pair"], Pair) and out["pair"].b is None and out["n"] == 4
    with pytest.raises(TypeError, match="reorder_state"):
        reorder_generic(torch.zeros(2, 3, 4), rows, 3)  # batch on dim 1: needs the model's method
