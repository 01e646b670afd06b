"""Zero- and few-shot prompts: k demonstrations (x, y) before the test input, and their order.

    >>> pool = [("La comida era deliciosa .", "positivo"), ("El servicio era lento .", "negativo"),
    ...         ("La playa era limpia .", "positivo")]
    >>> shots = FewShot(pool, "Reseña: [X]\\nSentimiento: [Z]", selection="balanced")
    >>> p = shots.build("Las camas eran sucias .", k=2)
    >>> p.indices
    [2, 1]
    >>> print(p.prefix)
    Reseña: La playa era limpia .
    Sentimiento: positivo
    <BLANKLINE>
    Reseña: El servicio era lento .
    Sentimiento: negativo
    <BLANKLINE>
    <BLANKLINE>
    >>> p.query
    'Reseña: Las camas eran sucias .\\nSentimiento: '

A demonstration is `demo_template` (default: the prompt template itself) filled with x_i and the
answer text of y_i (`answer`: a `Verbalizer`, whose first answer of the label is used, a mapping
or a function; default `str(y)`); demonstrations are joined by `separator` and followed by it,
then the test prompt. Selection (Brown et al. 2020; Liu et al. 2022 for "nearest"):

- "random": k of the pool, seeded per test input (`seed` and the input's index or text);
- "balanced": as many of each label as possible (counts differ by at most one), shuffled;
- "nearest": the k most similar to the input by the cosine of sentence embeddings (`embed`,
  default lmlab's packaged sentence encoder), the most similar last, next to the input.

The test example is never a demonstration of itself: the pool index `exclude` and every pool
item whose x equals the input are left out. A prompt longer than the model's context either loses
demonstrations from the front (`overflow="drop"`: a warning, and `n_dropped` says how many) or
raises a one-line DataError (`overflow="error"`); nothing is silently truncated.
"""

from __future__ import annotations

import itertools
import logging
import math
import zlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lmlab.errors import ConfigError, DataError, check_choice, check_range
from lmlab.prompting.answers import Verbalizer
from lmlab.prompting.predict import classify, prompt_positions
from lmlab.prompting.scoring import context_length
from lmlab.prompting.templates import Inputs, PromptTemplate, as_template

logger = logging.getLogger("lmlab")

SELECTIONS = ("random", "balanced", "nearest")
OVERFLOWS = ("drop", "error")
Embed = Callable[[list[str]], Any]


def input_text(x: Inputs) -> str:
    """One text of an input (multi-input values joined by spaces), for embeddings and seeds."""
    if isinstance(x, str):
        return x
    if isinstance(x, Mapping):
        return " ".join(str(v) for v in x.values())
    return " ".join(str(v) for v in x)


@dataclass
class FewShotPrompt:
    """A built prompt: `prefix` (instruction and demonstrations, each followed by the separator)
    then `query` (the test input's template up to its answer)."""

    prefix: str
    query: str
    indices: list[int]
    n_dropped: int = 0

    @property
    def text(self) -> str:
        return self.prefix + self.query

    @property
    def k(self) -> int:
        return len(self.indices)


class FewShot:
    """Builds k-shot prompts from a pool of (x, y) demonstrations (see the module docstring).

    Args:
        pool: the demonstrations, (x, y) pairs.
        template: the prompt of the test input, with `[X]` (and `[Z]`, or `delimiter` + answer).
        answer: the text of a label in a demonstration (Verbalizer, mapping, function; default str).
        demo_template: the format of a demonstration (default: `template`).
        separator: between demonstrations, and between the last one and the test input.
        delimiter: lm-eval's target delimiter, before the answer when a template has no `[Z]`.
        instruction: text before everything (a task description), or "".
        selection: "random", "balanced" or "nearest".
        seed: of the random choices.
        embed: texts -> (N, D) array, for "nearest" (default: lmlab's sentence encoder).
    """

    def __init__(self, pool: Sequence[tuple[Inputs, Hashable]], template: str | PromptTemplate, *,
                 answer: Verbalizer | Mapping[Hashable, str] | Callable[[Hashable], str] | None = None,
                 demo_template: str | PromptTemplate | None = None, separator: str = "\n\n",
                 delimiter: str = " ", instruction: str = "", selection: str = "random", seed: int = 0,
                 embed: Embed | None = None) -> None:
        self.pool = [(x, y) for x, y in pool]
        self.template = as_template(template).with_answer(delimiter)
        demo = as_template(demo_template) if demo_template is not None else self.template
        self.demo_template = demo.with_answer(delimiter).require_answer(causal=False)
        self.answer = answer
        self.separator, self.instruction = separator, instruction
        self.selection = check_choice("selection", selection, SELECTIONS)
        self.seed = seed
        self.embed = embed
        self._vectors: np.ndarray | None = None

    # ------------------------------------------------------------------ demonstrations
    def answer_text(self, y: Hashable) -> str:
        """The answer a demonstration shows for the label y."""
        if isinstance(self.answer, Verbalizer):
            return self.answer.answers_of(y)[0]
        if isinstance(self.answer, Mapping):
            if y not in self.answer:
                raise DataError(f"no answer text for the label {y!r}", where="few-shot",
                                fix="map every label of the demonstrations to an answer")
            return str(self.answer[y])
        if callable(self.answer):
            return str(self.answer(y))
        return str(y)

    def demonstration(self, i: int) -> str:
        """The text of pool item i as a demonstration."""
        x, y = self.pool[i]
        return self.demo_template.fill(x, self.answer_text(y))

    def prefix_of(self, indices: Sequence[int]) -> str:
        """Instruction and the demonstrations `indices` in order, each followed by the separator."""
        parts = ([self.instruction] if self.instruction else []) + [self.demonstration(i) for i in indices]
        return "".join(p + self.separator for p in parts)

    # ------------------------------------------------------------------ selection
    def candidates(self, x: Inputs | None, exclude: int | None) -> list[int]:
        """Pool indices allowed for input x: not `exclude`, not an item whose x equals this x."""
        return [i for i, (xi, _) in enumerate(self.pool)
                if i != exclude and (x is None or xi != x)]

    def select(self, k: int, x: Inputs | None = None, *, exclude: int | None = None,
               key: int | None = None) -> list[int]:
        """The pool indices of k demonstrations for input x, in prompt order.

        Args:
            k: number of demonstrations (0 = zero-shot).
            x: the test input (needed by "nearest", and left out of the pool by equality).
            exclude: the test input's own index in the pool, when the pool is the test set.
            key: what seeds the random choices with `seed` (default: `exclude`, else x's text).
        Raises:
            ConfigError: k larger than the pool (after leaving the test example out).
        """
        check_range("k (shots)", k, 0)
        if k == 0:
            return []
        cands = self.candidates(x, exclude)
        if k > len(cands):
            raise ConfigError(f"{k} shots need {k} demonstrations but the pool has {len(cands)} "
                              "(the test example left out)", where="few-shot",
                              fix=f"use at most {len(cands)} shots or a larger demonstration pool")
        if key is None:
            key = exclude if exclude is not None else zlib.crc32(input_text(x or "").encode("utf-8"))
        rng = np.random.default_rng([self.seed, int(key)])
        if self.selection == "random":
            return [cands[int(i)] for i in rng.permutation(len(cands))[:k]]
        if self.selection == "balanced":
            return self._balanced(cands, k, rng)
        if x is None:
            raise ConfigError('selection="nearest" needs the test input', where="few-shot",
                              fix="pass x to select()/build()")
        return self._nearest(cands, k, x)

    def _balanced(self, cands: list[int], k: int, rng: np.random.Generator) -> list[int]:
        by_label: dict[Hashable, list[int]] = {}
        for i in cands:
            by_label.setdefault(self.pool[i][1], []).append(i)
        queues = [[group[int(j)] for j in rng.permutation(len(group))] for group in by_label.values()]
        order = [int(j) for j in rng.permutation(len(queues))]  # which labels get the extra ones
        chosen: list[int] = []
        while len(chosen) < k:
            for q in order:
                if queues[q] and len(chosen) < k:
                    chosen.append(queues[q].pop())
        return [chosen[int(j)] for j in rng.permutation(len(chosen))]

    def _nearest(self, cands: list[int], k: int, x: Inputs) -> list[int]:
        embed = self.embed or _default_embed()
        if self._vectors is None:
            self._vectors = _unit(embed([input_text(xi) for xi, _ in self.pool]))
        q = _unit(embed([input_text(x)]))[0]
        sims = self._vectors[cands] @ q
        best = sorted(range(len(cands)), key=lambda j: (-sims[j], j))[:k]
        return [cands[j] for j in reversed(best)]  # most similar last

    # ------------------------------------------------------------------ prompts
    def build(self, x: Inputs, k: int, *, exclude: int | None = None, key: int | None = None,
              indices: Sequence[int] | None = None, model: Any = None, answers: Sequence[str] = (),
              max_new_tokens: int = 0, overflow: str = "drop", warn: bool = True) -> FewShotPrompt:
        """The k-shot prompt of input x.

        Args:
            x, k, exclude, key: as `select`.
            indices: use these demonstrations (in this order) instead of selecting.
            model: check that the prompt fits its context (`max_seq_len`), with the longest of
                `answers` (multiple choice) or `max_new_tokens` (generation) after it.
            overflow: "drop" demonstrations from the front until it fits (a warning when `warn`),
                or "error".
        Raises:
            DataError: the prompt does not fit ("error", or even with no demonstration).
        """
        check_choice("overflow", overflow, OVERFLOWS)
        chosen = list(indices) if indices is not None else self.select(k, x, exclude=exclude, key=key)
        query = self.template.fill(x)
        limit = context_length(model) if model is not None else None
        dropped = 0
        if limit is not None:
            def need(ix: list[int]) -> int:
                return prompt_positions(model, self.template, x, prefix=self.prefix_of(ix),
                                        answers=answers, max_new_tokens=max_new_tokens)
            n = need(chosen)
            if n > limit and overflow == "error":
                raise DataError(f"the {len(chosen)}-shot prompt needs {n} positions, more than the "
                                f"model's context of {limit}", where="few-shot",
                                fix="use fewer shots, shorter demonstrations or overflow='drop'")
            while n > limit and chosen:
                chosen, dropped = chosen[1:], dropped + 1
                n = need(chosen)
            if n > limit:
                raise DataError(f"the prompt needs {n} positions even without demonstrations, more "
                                f"than the model's context of {limit}", where="few-shot",
                                fix="shorten the input (e.g. max_input_chars) or use a longer-context model")
            if dropped and warn:
                logger.warning("few-shot: dropped %d of %d demonstrations to fit the context of %d",
                               dropped, dropped + len(chosen), limit)
        return FewShotPrompt(self.prefix_of(chosen), query, chosen, dropped)


def _unit(vectors: Any) -> np.ndarray:
    arr = np.asarray(vectors.detach().cpu() if hasattr(vectors, "detach") else vectors, dtype=np.float64)
    if arr.ndim != 2:
        raise DataError(f"embed() must return (N, D) vectors, got shape {arr.shape}", where="few-shot",
                        fix="return one row per text")
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return arr / np.where(norms > 0, norms, 1.0)


def _default_embed() -> Embed:
    from lmlab.io.packaged import load_sentence_encoder

    encoder = load_sentence_encoder()
    return lambda texts: encoder.embed(list(texts))


# ---------------------------------------------------------------- order sensitivity
@dataclass
class OrderSensitivity:
    """Accuracy of the same demonstrations in different orders: mean and (population) std."""

    mean: float
    std: float
    accuracies: list[float]
    orders: list[tuple[int, ...]]

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std, "min": min(self.accuracies),
                "max": max(self.accuracies), "accuracies": self.accuracies,
                "orders": [list(o) for o in self.orders]}


def permutations(k: int, n: int | None, seed: int = 0) -> list[tuple[int, ...]]:
    """All k! orders of k items when n is None or k! <= n, else n distinct ones drawn with seed
    (the identity first)."""
    total = math.factorial(k)
    if n is None or total <= n:
        return list(itertools.permutations(range(k)))
    rng = np.random.default_rng(seed)
    out, seen = [tuple(range(k))], {tuple(range(k))}
    while len(out) < n:
        p = tuple(int(i) for i in rng.permutation(k))
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def order_sensitivity(model: Any, template: str | PromptTemplate, verbalizer: Verbalizer,
                      demonstrations: Sequence[tuple[Inputs, Hashable]],
                      test: Sequence[tuple[Inputs, Hashable]], *, n_orders: int | None = 24, seed: int = 0,
                      score: str = "logprob", calibrate: bool = False, demo_template: str | None = None,
                      separator: str = "\n\n", delimiter: str = " ",
                      batch_size: int = 32) -> OrderSensitivity:
    """Accuracy on `test` of the same k demonstrations in every order (or `n_orders` of them).

    Lu et al. (2022), "Fantastically ordered prompts": the order alone moves accuracy by many
    points; report the mean and the spread.
    """
    if not test:
        raise DataError("no test examples", where="order sensitivity", fix="give (x, y) pairs to score")
    shots = FewShot(demonstrations, template, answer=verbalizer, demo_template=demo_template,
                    separator=separator, delimiter=delimiter)
    xs, gold = [x for x, _ in test], [y for _, y in test]
    shown = [x for x, _ in shots.pool]
    leak = next((i for i, x in enumerate(xs) if x in shown), None)
    if leak is not None:
        raise DataError(f"test example {leak} is also one of the demonstrations", where="order sensitivity",
                        fix="take the demonstrations from another split than the test examples")
    orders = permutations(len(shots.pool), n_orders, seed)
    accs = []
    for order in orders:
        prefix = shots.prefix_of(order)
        preds = classify(model, shots.template, verbalizer, xs, score=score, calibrate=calibrate,
                         prefixes=[prefix] * len(xs), batch_size=batch_size)
        accs.append(float(np.mean([p.label == y for p, y in zip(preds, gold, strict=True)])))
    return OrderSensitivity(float(np.mean(accs)), float(np.std(accs)), accs, orders)
