"""Prompt templates with an input slot and an answer slot (Liu et al. 2021's notation).

    >>> t = PromptTemplate("[X] En general, la película me pareció [Z]")
    >>> t.fill("Los actores eran excelentes.", "buena")
    'Los actores eran excelentes. En general, la película me pareció buena'
    >>> t.fill("Los actores eran excelentes.")          # the context a causal LM continues
    'Los actores eran excelentes. En general, la película me pareció '

Slots (one syntax, square brackets, upper case):

- `[X]`: the input x (one input per example);
- `[X1]`, `[X2]`, ...: the inputs of a multi-input task (premise and hypothesis, question and
  passage), filled from a sequence (in order) or a mapping with the keys "X1", "X2", ...;
- `[Z]`: the answer z. For a causal LM the answer is a continuation, so `[Z]` must end the
  template; for a masked LM (BERT-style cloze prompts, PET) it may stand anywhere.

Any other bracketed text (`[MASK]`, `[SEP]`) is plain text. A template mixes `[X]` with
`[X1]`... never, and names each slot once; the filled values are inserted as they are (a value
holding "[Z]" is not read as a slot).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lmlab.errors import ConfigError

#: what a template's input slots are filled with: one text, texts in slot order, or slot -> text.
Inputs = str | Sequence[str] | Mapping[str, str]

ANSWER = "Z"
_SLOT = re.compile(r"\[(X\d*|Z)\]")


@dataclass(frozen=True)
class PromptTemplate:
    """A prompt with input slots `[X]` (or `[X1]`, `[X2]`, ...) and an optional answer slot `[Z]`.

    Args:
        text: the template, e.g. "[X] En general, la película me pareció [Z]".
        name: how errors name the template (default: the text itself).
    Raises:
        ConfigError: no input slot, a slot named twice, or `[X]` mixed with numbered slots.
    """

    text: str
    name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise ConfigError(f"a template is a string, got {type(self.text).__name__}",
                              where=self.label, fix='write it like "[X] Me pareció [Z]"')
        slots = _SLOT.findall(self.text)
        twice = sorted({s for s in slots if slots.count(s) > 1})
        if twice:
            raise ConfigError(f"the template {self.label} names the slot [{twice[0]}] twice",
                              where="template", fix="name each slot once ([X1], [X2] for two inputs)")
        inputs = [s for s in slots if s != ANSWER]
        if not inputs:
            raise ConfigError(f"the template {self.label} has no input slot [X]", where="template",
                              fix='put [X] where the input goes, e.g. "[X] Me pareció [Z]"')
        if "X" in inputs and len(inputs) > 1:
            raise ConfigError(f"the template {self.label} mixes [X] with numbered slots",
                              where="template", fix="use [X] for one input or [X1], [X2], ... for several")

    # ------------------------------------------------------------------ structure
    @property
    def label(self) -> str:
        return repr(self.name if self.name is not None else self.text)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The input slots in order of appearance: ("X",) or ("X1", "X2", ...)."""
        return tuple(s for s in _SLOT.findall(self.text) if s != ANSWER)

    @property
    def has_answer(self) -> bool:
        """Whether the template has the answer slot `[Z]`."""
        return "[Z]" in self.text

    @property
    def answer_at_end(self) -> bool:
        """Whether `[Z]` is the last thing in the template (what a causal LM needs)."""
        return self.text.endswith("[Z]")

    def require_answer(self, *, causal: bool = True) -> PromptTemplate:
        """This template, after checking it can be used for answer search.

        Args:
            causal: the answer is scored as a continuation, so `[Z]` must end the template
                (False: a masked LM, where `[Z]` may stand anywhere).
        Raises:
            ConfigError: no `[Z]`, or (causal) text after `[Z]`.
        """
        if not self.has_answer:
            raise ConfigError(f"the template {self.label} has no answer slot [Z]", where="template",
                              fix='put [Z] where the answer goes, e.g. "[X] Me pareció [Z]"')
        if causal and not self.answer_at_end:
            tail = self.text.split("[Z]", 1)[1]
            raise ConfigError(f"the template {self.label} has {tail!r} after [Z]; a causal LM scores "
                              "the answer as a continuation, so [Z] must end the template",
                              where="template", fix="move [Z] to the end (or use a masked LM)")
        return self

    def with_answer(self, delimiter: str = " ") -> PromptTemplate:
        """The template itself when it has `[Z]`, else the template + `delimiter` + `[Z]`.

        This is how a harness-style prompt ("Pregunta: [X]\\nRespuesta:") and lm-evaluation-
        harness's `target_delimiter` become a two-slot template.
        """
        if self.has_answer:
            return self
        return PromptTemplate(self.text + delimiter + "[Z]", name=self.name)

    # ------------------------------------------------------------------ filling
    def values(self, x: Inputs) -> dict[str, str]:
        """The input slots' texts: {"X": x} or {"X1": ..., "X2": ...}.

        Raises:
            ConfigError: the input's shape does not match the slots (one text for [X1], [X2]; a
                missing key; a sequence of the wrong length).
        """
        slots = self.inputs
        if isinstance(x, str):
            if slots != ("X",):
                raise ConfigError(f"the template {self.label} has the slots {_names(slots)} but got one "
                                  "text", where="template", fix="pass the texts as a list, in slot order")
            return {"X": x}
        if isinstance(x, Mapping):
            missing = [s for s in slots if s not in x]
            if missing:
                raise ConfigError(f"no value for the slot [{missing[0]}] of the template {self.label}",
                                  where="template", fix=f"pass a mapping with the keys {', '.join(slots)}")
            return {s: _text(x[s], s) for s in slots}
        if isinstance(x, Sequence):
            if len(x) != len(slots):
                raise ConfigError(f"the template {self.label} has {len(slots)} input slot(s) but got "
                                  f"{len(x)} text(s)", where="template",
                                  fix=f"pass one text per slot: {_names(slots)}")
            return {s: _text(v, s) for s, v in zip(slots, x, strict=True)}
        raise ConfigError(f"cannot fill the template {self.label} with a {type(x).__name__}",
                          where="template", fix="pass a text, a list of texts or a mapping slot -> text")

    def fill(self, x: Inputs, z: str | None = None) -> str:
        """The filled prompt.

        Args:
            x: the input(s), see `values`.
            z: the answer for `[Z]`; None cuts the template just before `[Z]` (the context a
                causal LM continues, trailing space included, so fill(x) + z == fill(x, z) when
                [Z] ends the template).
        Returns:
            the text.
        """
        left, right = self.split(x)
        if z is None:
            return left
        if not self.has_answer:
            raise ConfigError(f"the template {self.label} has no answer slot [Z] to fill",
                              where="template", fix="add [Z] or call fill(x) without an answer")
        return left + z + right

    def split(self, x: Inputs) -> tuple[str, str]:
        """(text before `[Z]`, text after `[Z]`), both filled; ("whole text", "") without `[Z]`."""
        values = self.values(x)
        head, sep, tail = self.text.partition("[Z]")
        sub = lambda s: _SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), s)  # noqa: E731
        return sub(head), (sub(tail) if sep else "")

    def content_free(self, value: str = "") -> str:
        """The context with every input slot filled by `value` (a content-free input such as "N/A",
        "" or "[MASK]"): what domain-conditional PMI and contextual calibration condition on."""
        return self.fill({s: value for s in self.inputs})


def _names(slots: Sequence[str]) -> str:
    return ", ".join(f"[{s}]" for s in slots)


def _text(value: object, slot: str) -> str:
    if value is None:
        raise ConfigError(f"the slot [{slot}] got no text (None)", where="template",
                          fix="pass a string for every input slot")
    return value if isinstance(value, str) else str(value)


def as_template(template: str | PromptTemplate, name: str | None = None) -> PromptTemplate:
    """A `PromptTemplate` from a string (or the template itself)."""
    return template if isinstance(template, PromptTemplate) else PromptTemplate(template, name=name)
