"""Chain of thought: the step-by-step trigger, answer extraction, and self-consistency.

    >>> last_number("Tenía 1.234,5 pesos y gastó 34. Le quedan 1.200,5 pesos.")
    1200.5
    >>> last_number("The total is 1,234.5 dollars")
    1234.5
    >>> extract_answer("5 + 3 = 8, menos 2 son 6. La respuesta es 6.")
    '6'

Zero-shot chain of thought (Kojima et al. 2022) appends a trigger ("Pensemos paso a paso." /
"Let's think step by step.") after the question; few-shot chain of thought (Wei et al. 2022)
shows worked demonstrations. The answer is read from the generated reasoning by rules: the
phrase "La respuesta es X" / "The answer is X" when present, else the last number. Self-
consistency (Wang et al. 2023) samples k chains through `lmlab.generate.generate`, extracts each
chain's answer and returns the majority (ties: the answer seen first), with the votes.

Numbers are read in both conventions: "1.234,5" (Spanish: dot for thousands, comma for decimals)
and "1,234.5" (English). With both marks the last one is the decimal mark; a single mark followed
by exactly three digits ("1.234", "12,000") is read as thousands (grade-school answers are
integers), any other as decimal ("3,5", "0.125"); `decimal=","` or `"."` decides instead.
Groups of three digits after spaces are thousands too ("80 000", as MGSM's Spanish writes them,
or with no-break spaces). Negative numbers take "-" or the Unicode minus "−"; "2-3" reads as 2
and 3.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmlab.errors import ConfigError, DataError, check_choice, check_range
from lmlab.generate import generate

TRIGGERS = {"es": "Pensemos paso a paso.", "en": "Let's think step by step."}
ANSWER_PHRASES = {"es": "La respuesta es", "en": "The answer is"}

_NUMBER = re.compile(r"(?<![\w.,])([-−]?)(\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?(?![\d.,]?\d)|\d+(?:[.,]\d+)*)")
_ANSWER = re.compile(r"(?:la\s+respuesta(?:\s+final)?\s+es|the(?:\s+final)?\s+answer\s+is|####)\s*:?\s*"
                     r"(.+?)(?=\.\s|\.$|\n|$)", re.IGNORECASE)


def cot_prompt(question: str, *, lang: str = "es", template: str | None = None,
               demonstrations: Sequence[tuple[str, str]] = (), separator: str = "\n\n") -> str:
    """A chain-of-thought prompt: worked demonstrations (question, reasoning ending in the answer
    phrase) then the question and the trigger.

    The default template is "Pregunta: [X]\\nRespuesta: Pensemos paso a paso." ("Question: ...
    Answer: Let's think step by step." for lang="en"); a custom one has `[X]` and no `[Z]`.
    """
    check_choice("lang", lang, tuple(TRIGGERS))
    q, a = ("Pregunta", "Respuesta") if lang == "es" else ("Question", "Answer")
    text = template or f"{q}: [X]\n{a}: {TRIGGERS[lang]}"
    if "[X]" not in text:
        raise ConfigError(f"the chain-of-thought template {text!r} has no input slot [X]",
                          where="cot", fix="put [X] where the question goes")
    demos = "".join(f"{q}: {dq}\n{a}: {da}{separator}" for dq, da in demonstrations)
    return demos + text.replace("[X]", question)


def _parse(sign: str, digits: str, decimal: str | None) -> int | float:
    digits = re.sub(r"[ \u00a0\u202f]", "", digits)
    marks = [c for c in digits if c in ".,"]
    if not marks:
        value: int | float = int(digits)
    else:
        if len(set(marks)) == 2:
            dec = marks[-1]
        elif len(marks) > 1:
            dec = None  # one mark used several times: thousands
        elif decimal is not None:
            dec = decimal if marks[0] == decimal else None
        else:
            whole, frac = re.split(r"[.,]", digits)
            dec = None if len(frac) == 3 and whole != "0" else marks[0]
        thousands = "".join(c for c in ".," if c != dec)
        cleaned = digits.translate({ord(c): None for c in thousands})
        value = int(cleaned) if dec is None else float(cleaned.replace(dec, "."))
    return -value if sign else value


def numbers(text: str, *, decimal: str | None = None) -> list[int | float]:
    """Every number in a text, in order (see the module docstring for the conventions)."""
    if decimal is not None:
        check_choice("decimal", decimal, (",", "."))
    return [_parse(sign, digits, decimal) for sign, digits in _NUMBER.findall(text)]


def last_number(text: str, *, decimal: str | None = None) -> int | float | None:
    """The last number in a text (int when it has no decimal part), or None."""
    found = numbers(text, decimal=decimal)
    return found[-1] if found else None


def format_number(value: int | float) -> str:
    """A number as exact-match text: integers without decimals ("1234", "-3"), others as Python
    writes them ("1234.5")."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def extract_answer(text: str, *, numeric: bool = True, decimal: str | None = None) -> str | None:
    """The answer of a chain of thought.

    The last "La respuesta es X" / "The answer is X" / "#### X" phrase wins: with `numeric`, its
    first number (formatted by `format_number`), else the phrase's text. Without such a phrase:
    the last number of the text (`numeric`), else None.
    """
    phrases = _ANSWER.findall(text)
    if phrases:
        phrase = phrases[-1].strip()
        if not numeric:
            return phrase
        found = numbers(phrase, decimal=decimal)
        if found:
            return format_number(found[0])
    if not numeric:
        return None
    value = last_number(text, decimal=decimal)
    return None if value is None else format_number(value)


@dataclass
class SelfConsistency:
    """The majority answer of k sampled chains, the votes, and every chain with its answer."""

    answer: str | None
    votes: dict[str, int]
    chains: list[str] = field(default_factory=list)
    answers: list[str | None] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "votes": self.votes, "chains": self.chains, "answers": self.answers}


def majority_vote(answers: Sequence[str | None]) -> tuple[str | None, dict[str, int]]:
    """(the most frequent answer, votes per answer in order of first occurrence); None answers
    do not vote; ties go to the answer seen first."""
    votes = Counter(a for a in answers if a is not None)
    ordered = {a: votes[a] for a in dict.fromkeys(a for a in answers if a is not None)}
    best = max(ordered, key=lambda a: ordered[a], default=None)  # max keeps the first of ties
    return best, ordered


def self_consistency(model: Any, prompt: str, k: int = 5, *, temperature: float = 0.7,
                     seed: int | None = 0, max_new_tokens: int = 128, top_p: float = 1.0,
                     stop_strings: Sequence[str] = (),
                     extract: Callable[[str], str | None] = extract_answer) -> SelfConsistency:
    """k chains sampled for one prompt, their answers, and the majority vote.

    Args:
        model: any `LanguageModel` with a tokenizer.
        prompt: the chain-of-thought prompt (`cot_prompt`).
        k: chains to sample.
        temperature, top_p: sampling (`lmlab.generate`, strategy="sample").
        seed: the sampling seed: the same seed gives the same chains (None: fresh each call).
        max_new_tokens: length of a chain at most.
        stop_strings: end a chain before any of these (e.g. "\\nPregunta:").
        extract: text -> answer or None (default `extract_answer`).
    """
    check_range("k", k, 1)
    if not isinstance(prompt, str) or not prompt:
        raise DataError("the chain-of-thought prompt is empty", where="cot",
                        fix="build one with cot_prompt(question)")
    gens = generate(model, [prompt] * k, strategy="sample", temperature=temperature, top_p=top_p,
                    seed=seed, max_new_tokens=max_new_tokens, stop_strings=tuple(stop_strings))
    chains = [g.text or "" for g in gens]
    answers = [extract(c) for c in chains]
    best, votes = majority_vote(answers)
    return SelfConsistency(best, votes, chains, answers)
