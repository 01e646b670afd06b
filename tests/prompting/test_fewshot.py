"""k-shot prompts: exactly k demonstrations, never the test example, balanced and nearest selection,
prompts too long for the context, and order sensitivity."""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
import pytest

from lmlab.errors import ConfigError, DataError
from lmlab.prompting import FewShot, Verbalizer, order_sensitivity
from lmlab.prompting.fewshot import permutations

POOL = [(f"reseña {i}", "pos" if i < 6 else "neg") for i in range(10)]
ANSWERS = {"pos": "buena", "neg": "mala"}


def _shots(**kw) -> FewShot:
    return FewShot(POOL, "[X] fue [Z]", answer=ANSWERS, separator="\n", **kw)


@pytest.mark.parametrize("selection", ["random", "balanced"])
@pytest.mark.parametrize("k", [0, 1, 4, 9])
def test_k_shot_prompts_hold_exactly_k_demonstrations_never_the_test_example(selection, k):
    shots = _shots(selection=selection)
    for i, (x, _) in enumerate(POOL):  # the pool is the test set: leave example i out
        p = shots.build(x, k, exclude=i)
        assert p.k == k and len(set(p.indices)) == k and i not in p.indices
        lines = p.prefix.split("\n")[:-1]
        assert len(lines) == k and x not in p.prefix
        assert p.text == p.prefix + f"{x} fue "
        for j, line in zip(p.indices, lines, strict=True):
            assert line == f"{POOL[j][0]} fue {ANSWERS[POOL[j][1]]}"


def test_an_input_equal_to_a_pool_item_is_left_out_and_choices_are_seeded():
    shots = _shots()
    p = shots.build("reseña 3", 9)  # no index given: left out by equality of x
    assert 3 not in p.indices and len(p.indices) == 9
    assert shots.build("otra", 4).indices == shots.build("otra", 4).indices
    assert len({tuple(_shots(seed=s).select(4, "otra", key=7)) for s in range(5)}) > 1  # seeds differ


def test_balanced_selection_is_balanced():
    shots = _shots(selection="balanced")
    for k in range(1, 9):
        for key in range(5):
            counts = Counter(POOL[i][1] for i in shots.select(k, "consulta", key=key))
            assert sum(counts.values()) == k
            assert abs(counts["pos"] - counts["neg"]) <= 1
    # more shots than one label can give: the rest comes from the other label
    counts = Counter(POOL[i][1] for i in shots.select(10, "consulta"))
    assert counts == {"pos": 6, "neg": 4}


def test_nearest_selection_uses_the_embedding_cosine_most_similar_last():
    pool = [("perro", "a"), ("gato", "b"), ("perros", "a"), ("mesa", "b")]

    def embed(texts):  # a tiny bag of characters
        return np.array([[t.count(c) for c in "abcdefghijklmnopqrstuvwxyz"] for t in texts], float)

    shots = FewShot(pool, "[X] -> [Z]", selection="nearest", embed=embed)
    # "perro" itself is left out; "perros" is nearest, "gato" and "mesa" tie (first index wins)
    assert shots.select(2, "perro") == [1, 2]
    chosen = shots.select(2, "perrito")
    sims = {i: np.dot(embed(["perrito"])[0], embed([pool[i][0]])[0]) /
            (np.linalg.norm(embed(["perrito"])[0]) * np.linalg.norm(embed([pool[i][0]])[0])) for i in range(4)}
    best_two = sorted(range(4), key=lambda i: -sims[i])[:2]
    assert set(chosen) == set(best_two) and chosen[-1] == best_two[0]


def test_more_shots_than_demonstrations_is_a_one_line_error(single_line):
    with pytest.raises(ConfigError, match="10 shots need 10 demonstrations but the pool has 9") as info:
        _shots().build("reseña 0", 10, exclude=0)
    assert single_line(info.value)


def test_a_prompt_too_long_drops_demonstrations_from_the_front_or_errors(trigram, limited, caplog, single_line):
    shots = FewShot([("la película", "pos"), ("la comida", "neg"), ("la música", "pos"), ("la comida", "pos")],
                    "[X] fue [Z]", answer={"pos": "buena", "neg": "mala"}, separator=" ")
    full = shots.build("la película", 3, indices=[1, 2, 3])
    n_tokens = len(full.text.split()) + 1  # one answer token after the prompt
    model = limited(trigram, n_tokens - 6)  # room for one demonstration (3 words) less than two
    with caplog.at_level(logging.WARNING, logger="lmlab"):
        p = shots.build("la película", 3, indices=[1, 2, 3], model=model, answers=["buena", "mala"])
    assert p.n_dropped == 2 and p.indices == [3]  # dropped from the front
    assert "dropped 2 of 3 demonstrations" in caplog.text
    with pytest.raises(DataError, match="3-shot prompt needs") as info:
        shots.build("la película", 3, indices=[1, 2, 3], model=model, answers=["buena"], overflow="error")
    assert single_line(info.value)
    with pytest.raises(DataError, match="even without demonstrations"):
        shots.build("la película", 1, model=limited(trigram, 2), answers=["buena"])


def test_order_sensitivity_reports_mean_and_spread_over_permutations(trigram):
    v = Verbalizer({"pos": ["buena"], "neg": ["mala", "terrible"]})
    demos = [("la película", "pos"), ("la comida", "neg"), ("la música", "pos")]
    test = [("la película buena", "pos"), ("la comida mala", "neg"), ("la música buena", "pos"),
            ("la comida terrible", "neg")]
    result = order_sensitivity(trigram, "[X] fue [Z]", v, demos, test)
    assert len(result.orders) == 6 and len(set(result.orders)) == 6  # 3! orders
    assert result.mean == pytest.approx(np.mean(result.accuracies))
    assert result.std == pytest.approx(np.std(result.accuracies))
    assert all(0 <= a <= 1 for a in result.accuracies)
    assert len(permutations(5, 10, seed=0)) == 10 and permutations(5, 10)[0] == (0, 1, 2, 3, 4)
    with pytest.raises(DataError, match="also one of the demonstrations"):
        order_sensitivity(trigram, "[X] fue [Z]", v, demos, [("la comida", "neg")])
