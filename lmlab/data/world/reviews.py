"""Reviews with sentiment labels, including cases a bag of words cannot separate.

A review is one or two evaluative clauses ("la comida era deliciosa"), each possibly negated
("no era deliciosa"). Kinds:

- simple:   "La comida era deliciosa ."                                        positivo
- negation: "La comida no era deliciosa ."                                     negativo
- contrast: "La comida era deliciosa , pero el servicio era lento ."           negativo
            "El servicio era lento , pero la comida era deliciosa ."           positivo

The clause after "pero" decides (the usual reading of Spanish adversative contrast). Contrast
reviews come in pairs with the same words in another order and opposite labels (same `pair_id`),
so a bag-of-words classifier is at chance on them while an order-aware model is not
(the "El perro se comió la tarea del niño" problem).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmlab.errors import ConfigError

# (determiner + noun tokens, gender, number, the evaluative adjectives that suit it)
ASPECTS: tuple[tuple[tuple[str, ...], str, str, tuple[str, ...]], ...] = (
    (("la", "comida"), "f", "sg", ("delicioso", "excelente", "malo", "horrible", "carísimo")),
    (("el", "servicio"), "m", "sg", ("excelente", "perfecto", "estupendo", "lento", "malo", "terrible")),
    (("el", "camarero"), "m", "sg", ("amable", "estupendo", "lento", "malo", "terrible")),
    (("la", "música"), "f", "sg", ("maravilloso", "excelente", "perfecto", "aburrido", "horrible")),
    (("el", "precio"), "m", "sg", ("perfecto", "excelente", "carísimo", "terrible")),
    (("la", "habitación"), "f", "sg", ("limpio", "perfecto", "estupendo", "sucio", "horrible")),
    (("las", "camas"), "f", "pl", ("limpio", "perfecto", "estupendo", "sucio", "horrible")),
    (("los", "postres"), "m", "pl", ("delicioso", "excelente", "malo", "horrible", "carísimo")),
    (("la", "película"), "f", "sg", ("maravilloso", "excelente", "estupendo", "aburrido", "terrible")),
    (("los", "actores"), "m", "pl", ("excelente", "maravilloso", "malo", "terrible", "aburrido")),
    (("el", "final"), "m", "sg", ("perfecto", "maravilloso", "aburrido", "horrible")),
    (("la", "playa"), "f", "sg", ("limpio", "maravilloso", "estupendo", "sucio", "horrible")),
)
# (m sg, f sg, m pl, f pl), polarity +1/-1
EVALUATIVES: tuple[tuple[tuple[str, str, str, str], int], ...] = (
    (("excelente", "excelente", "excelentes", "excelentes"), 1),
    (("delicioso", "deliciosa", "deliciosos", "deliciosas"), 1),
    (("maravilloso", "maravillosa", "maravillosos", "maravillosas"), 1),
    (("amable", "amable", "amables", "amables"), 1),
    (("limpio", "limpia", "limpios", "limpias"), 1),
    (("perfecto", "perfecta", "perfectos", "perfectas"), 1),
    (("estupendo", "estupenda", "estupendos", "estupendas"), 1),
    (("horrible", "horrible", "horribles", "horribles"), -1),
    (("malo", "mala", "malos", "malas"), -1),
    (("sucio", "sucia", "sucios", "sucias"), -1),
    (("aburrido", "aburrida", "aburridos", "aburridas"), -1),
    (("lento", "lenta", "lentos", "lentas"), -1),
    (("terrible", "terrible", "terribles", "terribles"), -1),
    (("carísimo", "carísima", "carísimos", "carísimas"), -1),
)
POLARITY = {form: pol for forms, pol in EVALUATIVES for form in forms}
LABELS = {1: "positivo", 0: "negativo"}


@dataclass
class Review:
    """`label` 1 = positivo, 0 = negativo; contrast reviews share `pair_id` with their reordering."""

    text: str
    label: int
    sentiment: str
    kind: str
    pair_id: int | None


def _clause(rng: np.random.Generator, polarity: int | None, negated: bool, past: bool,
            avoid: int | None = None) -> tuple[list[str], int, int]:
    """Tokens of one evaluative clause, its polarity after negation, and its aspect index."""
    k = int(rng.integers(len(ASPECTS)))
    while k == avoid:
        k = int(rng.integers(len(ASPECTS)))
    words, g, n, suits = ASPECTS[k]
    choices = [e for e in EVALUATIVES if e[0][0] in suits
               and (polarity is None or e[1] * (-1 if negated else 1) == polarity)]
    forms, pol = choices[int(rng.integers(len(choices)))]
    adj = forms[{"msg": 0, "fsg": 1, "mpl": 2, "fpl": 3}[g + n]]
    verb = ("era" if n == "sg" else "eran") if past else ("es" if n == "sg" else "son")
    return [*words, *(["no"] if negated else []), verb, adj], -pol if negated else pol, k


def _finish(tokens: list[str]) -> str:
    tokens = [*tokens, "."]
    tokens[0] = tokens[0].capitalize()
    return " ".join(tokens)


def reviews(rng: np.random.Generator, n: int, *, p_negation: float = 0.25,
            p_contrast: float = 0.45) -> list[Review]:
    if p_negation + p_contrast > 1:
        raise ConfigError("p_negation + p_contrast must be <= 1", fix="lower one of them")
    out: list[Review] = []
    pair_id = 0
    while len(out) < n:
        u = rng.random()
        past = bool(rng.random() < 0.5)
        if u < p_contrast and len(out) + 2 <= n:
            first_pol = 1 if rng.random() < 0.5 else -1
            a, pa, k = _clause(rng, first_pol, bool(rng.random() < 0.3), past)
            b, pb, _ = _clause(rng, -first_pol, bool(rng.random() < 0.3), past, avoid=k)
            for x, y, label_pol in ((a, b, pb), (b, a, pa)):
                label = int(label_pol > 0)
                out.append(Review(_finish([*x, ",", "pero", *y]), label, LABELS[label], "contrast", pair_id))
            pair_id += 1
        else:
            negated = u < p_contrast + p_negation
            tokens, pol, _ = _clause(rng, None, negated, past)
            label = int(pol > 0)
            out.append(Review(_finish(tokens), label, LABELS[label], "negation" if negated else "simple", None))
    return out
