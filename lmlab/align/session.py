"""A chat session: the conversation so far, kept within the model's context, replies streamed.

    session = ChatSession(model, system="Responde en español.")
    for piece in session.send("Hola"):          # the reply, token by token
        print(piece, end="", flush=True)
    session.dropped                              # turns dropped so far to fit the context

Each turn renders the whole history through the model's chat template (`ChatFormat`, as SFT
trained it) with the generation prompt. When the prompt plus `max_new_tokens` would exceed the
model's context, the oldest user/assistant exchanges are dropped (the system message stays) and
`on_drop` is told how many; a single message too long for the context is a one-line `DataError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lmlab.align.format import ChatFormat
from lmlab.errors import DataError


class ChatSession:
    """History, context budget and streaming replies for one model (module docstring).

    Args:
        model: a language model with a tokenizer and a chat template (or pass `template`).
        system: the system message (None: none).
        template: a chat template name or source (default: the model's own).
        generation: a `GenerationConfig` (default greedy, 128 new tokens).
        on_drop: called with the number of exchanges dropped to fit the context.
    """

    def __init__(self, model: Any, *, system: str | None = None, template: str | None = None,
                 generation: Any = None, on_drop: Callable[[int], None] | None = None) -> None:
        from lmlab.generate import GenerationConfig

        self.model, self.fmt = model, ChatFormat.for_model(model, template)
        self.system = system
        self.generation = generation or GenerationConfig(strategy="greedy", max_new_tokens=128)
        stop_ids, stop_strings = self.fmt.stops()
        self.generation = self.generation.replace(
            stop_token_ids=stop_ids, stop_strings=tuple(self.generation.stop_strings) + stop_strings)
        self.history: list[dict[str, str]] = []
        self.dropped = 0
        self.on_drop = on_drop

    def reset(self) -> None:
        """Forget the conversation (the system message stays)."""
        self.history = []

    def set_system(self, text: str | None) -> None:
        """Replace the system message (None or "" removes it)."""
        self.system = text or None

    def messages(self) -> list[dict[str, str]]:
        """The conversation as messages, system first."""
        head = [{"role": "system", "content": self.system}] if self.system else []
        return head + self.history

    def _prompt(self) -> list[int]:
        limit = getattr(self.model, "max_seq_len", None)
        budget = None if limit is None else limit - self.generation.max_new_tokens
        dropped = 0
        while True:
            ids = self.fmt.encode_prompt(self.messages())
            if budget is None or len(ids) <= budget:
                break
            if len(self.history) <= 1:
                self.history = []
                raise DataError(f"the message needs {len(ids)} tokens, more than the "
                                f"{budget} the context leaves", where="chat",
                                fix="write a shorter message, or lower --max-new-tokens")
            self.history = self.history[2:]  # the oldest user turn and its reply
            dropped += 1
        if dropped:
            self.dropped += dropped
            if self.on_drop is not None:
                self.on_drop(dropped)
        return ids

    def send(self, text: str) -> Iterator[str]:
        """Add a user message and stream the reply's text; the reply joins the history."""
        from lmlab.generate import stream

        self.history.append({"role": "user", "content": text})
        ids = self._prompt()
        reply = []
        for event in stream(self.model, [ids], self.generation, tokenizer=self.fmt.tokenizer):
            if event.text:
                reply.append(event.text)
                yield event.text
        self.history.append({"role": "assistant", "content": "".join(reply).strip()})
