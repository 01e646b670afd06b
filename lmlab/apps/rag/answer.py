"""Grounded answers: numbered passages in a prompt, the model answers citing them as [1], [2] ...

`build_prompt` writes the passages (title and text, numbered from 1) and the question under an
instruction to answer only from them, citing passage numbers in brackets, and to say `NO_ANSWER`
otherwise. `ask` retrieves, refuses with `NO_ANSWER` without calling the model when the best
passage scores below `min_score` (the BM25 score in "bm25" mode, the best cosine similarity in
"dense" and "hybrid"), renders the prompt with the model's chat template when it has one
(`model.chat_template`, through `lmlab.chat.render`), generates with `lmlab.generate`, and returns
the answer with the passages its markers cite.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmlab.apps.rag.index import Hit, RagIndex

NO_ANSWER = "No encuentro la respuesta en los documentos."
INSTRUCTION = ("Responde a la pregunta usando solo los pasajes numerados. Cita cada pasaje que uses "
               "con su número entre corchetes, como [1]. Si los pasajes no contienen la respuesta, "
               f"responde: {NO_ANSWER}")
_MARKER = re.compile(r"\[(\d+)\]")


@dataclass
class Answer:
    question: str
    text: str
    passages: list[Hit]
    cited: list[int] = field(default_factory=list)  # 1-based passage numbers the text cites
    grounded: bool = True  # False when the retrieval threshold refused to answer

    def sources(self) -> list[Hit]:
        return [self.passages[i - 1] for i in self.cited]

    def to_json(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.text, "grounded": self.grounded,
                "cited": self.cited, "sources": [h.to_json() for h in self.sources()],
                "passages": [h.to_json() for h in self.passages]}


def format_passages(hits: Sequence[Hit]) -> str:
    """`[1] (title) text` lines, one per passage."""
    lines = []
    for i, h in enumerate(hits, 1):
        title = f"({h.chunk.title}) " if h.chunk.title else ""
        lines.append(f"[{i}] {title}{' '.join(h.chunk.text.split())}")
    return "\n".join(lines)


def build_prompt(question: str, hits: Sequence[Hit]) -> str:
    """The user message: instruction, numbered passages, question."""
    return f"{INSTRUCTION}\n\nPasajes:\n{format_passages(hits)}\n\nPregunta: {question}\nRespuesta:"


def cited_passages(text: str, n_passages: int) -> list[int]:
    """The passage numbers cited as [n] in `text`, in order of first citation, valid ones only.

    >>> cited_passages("París [2], según [1] y [2]; no [9].", 3)
    [2, 1]
    """
    nums = [int(m) for m in _MARKER.findall(text)]
    return list(dict.fromkeys(n for n in nums if 1 <= n <= n_passages))


def render_prompt(model: Any, user_message: str) -> str:
    """The prompt text for `model`: its chat template when it has one, else the message as is."""
    template = getattr(model, "chat_template", None)
    if not template:
        return user_message
    from lmlab.chat.render import render

    return render([{"role": "user", "content": user_message}], template, add_generation_prompt=True)


def best_score(hits: Sequence[Hit], mode: str) -> float:
    """The score the threshold applies to: BM25 in "bm25" mode, else the best cosine."""
    if not hits:
        return float("-inf")
    if mode == "bm25":
        return max(h.bm25 or 0.0 for h in hits)
    return max(h.cosine if h.cosine is not None else float("-inf") for h in hits)


def ask(index: RagIndex, question: str, model: Any, *, k: int = 5, mode: str = "hybrid",
        min_score: float | None = None, on_text: Callable[[str], None] | None = None,
        **generation: Any) -> Answer:
    """Retrieve `k` passages and answer from them (see the module docstring).

    Args:
        model: any lmlab language model with a tokenizer.
        min_score: refuse (NO_ANSWER, no generation) below it; None never refuses.
        on_text: called with each piece of text as it is generated (streaming).
        **generation: `lmlab.generate.GenerationConfig` fields (max_new_tokens, strategy ...).
    """
    from lmlab.generate import GenerationConfig, stream

    hits = index.search(question, k, mode)
    if not hits or (min_score is not None and best_score(hits, mode) < min_score):
        if on_text:
            on_text(NO_ANSWER)
        return Answer(question, NO_ANSWER, hits, [], grounded=False)
    prompt = render_prompt(model, build_prompt(question, hits))
    config = GenerationConfig(**{"max_new_tokens": 128, **generation})
    pieces = []
    for ev in stream(model, prompt, config):
        if ev.text:
            pieces.append(ev.text)
            if on_text:
                on_text(ev.text)
    text = "".join(pieces).strip()
    return Answer(question, text, hits, cited_passages(text, len(hits)))
