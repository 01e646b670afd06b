"""Conversations -> token ids and the assistant mask, through the model's chat template.

Training and inference read a conversation the same way: `lmlab.chat.render` gives the string
(identical to transformers' `apply_chat_template`), and `ChatFormat` cuts it where the turns
change speaker and encodes the pieces one after another:

    render(messages[:i], add_generation_prompt=True)   ... the prompt up to assistant turn i
    render(messages[:i + 1])                            ... and with its reply

The reply's piece (its text and the end-of-turn token the template writes after it) is the part
the model learns (`labels` True); everything else is context. A prompt at inference
(`encode_prompt`) is cut and encoded the same way, so its ids equal the training ids of the same
prefix, token for token. The model's start token (`bos_id`) goes first when the template does not
write it itself.

A template must render conversations incrementally (each prefix's rendering is a prefix of the
next); the built-in ones do, and a template that does not is a one-line `ConfigError`. A template
that drops the system message is warned about once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lmlab.chat import render, template_for
from lmlab.errors import ConfigError, DataError

log = logging.getLogger("lmlab")
_WARNED: set[str] = set()


@dataclass
class Encoded:
    """One encoded conversation: ids (T,) and labels (T,) True on the tokens to learn."""

    ids: list[int]
    labels: list[bool]

    def __len__(self) -> int:
        return len(self.ids)


class ChatFormat:
    """How one model reads conversations: its template, tokenizer and special tokens.

    Args:
        tokenizer: a `tokenizers.Tokenizer`.
        template: a built-in name (`lmlab.chat.TEMPLATES`) or a Jinja source.
        bos_id, eos_id: the model's start and end ids; their tokens fill the template's
            `bos_token` / `eos_token` (so "</s>" after a reply is the model's end id).
    """

    def __init__(self, tokenizer: Any, template: str, *, bos_id: int | None = None,
                 eos_id: int | None = None) -> None:
        if tokenizer is None:
            raise ConfigError("supervised fine-tuning needs a model with a tokenizer",
                              fix="attach one (model.tokenizer = tok)")
        self.tokenizer, self.template = tokenizer, template_for(template)
        self.name = template if self.template != template else "custom"
        self.bos_id, self.eos_id = bos_id, eos_id
        self.bos_token = tokenizer.id_to_token(bos_id) if bos_id is not None else ""
        self.eos_token = tokenizer.id_to_token(eos_id) if eos_id is not None else ""

    @classmethod
    def for_model(cls, model: Any, template: str | None = None) -> ChatFormat:
        """The format of `model`: `template`, else the model's own `chat_template`.

        Raises:
            ConfigError: neither is given.
        """
        template = template or getattr(model, "chat_template", None)
        if not template:
            raise ConfigError("the model has no chat template", where="chat template",
                              fix="pass one, e.g. --chat-template alpaca (or llama2, chatml, zephyr)")
        return cls(model.tokenizer, template, bos_id=getattr(model, "bos_id", None),
                   eos_id=getattr(model, "eos_id", None))

    # ---- rendering --------------------------------------------------------------------------
    def render(self, messages: Sequence[Mapping[str, Any]], *, add_generation_prompt: bool = False) -> str:
        """The conversation as the template's string (`lmlab.chat.render`)."""
        return render(messages, self.template, add_generation_prompt=add_generation_prompt,
                      bos_token=self.bos_token, eos_token=self.eos_token)

    def pieces(self, messages: Sequence[Mapping[str, Any]], *,
               add_generation_prompt: bool = False) -> list[tuple[str, bool]]:
        """The rendered conversation cut into (text, is an assistant reply) pieces, in order.

        Raises:
            DataError: a message the template rejects (an unknown role, ...).
            ConfigError: the template does not render conversations incrementally.
        """
        messages = list(messages)
        self._check_system(messages)
        out: list[tuple[str, bool]] = []
        done = ""
        for i, m in enumerate(messages):
            if m["role"] != "assistant":
                continue
            prompt = self.render(messages[:i], add_generation_prompt=True) if i else ""
            full = self.render(messages[: i + 1])
            self._check_prefix(done, prompt, i)
            self._check_prefix(prompt, full, i)
            out += [(prompt[len(done):], False), (full[len(prompt):], True)]
            done = full
        end = self.render(messages, add_generation_prompt=add_generation_prompt)
        self._check_prefix(done, end, len(messages))
        out.append((end[len(done):], False))
        return [(text, reply) for text, reply in out if text]

    def _check_prefix(self, head: str, whole: str, i: int) -> None:
        if not whole.startswith(head):
            raise ConfigError(f"the {self.name} template does not render conversations "
                              f"incrementally (message {i} rewrites what came before)",
                              where="chat template",
                              fix="use a template whose output grows turn by turn, e.g. chatml")

    def _check_system(self, messages: list[Mapping[str, Any]]) -> None:
        system = next((m for m in messages if m["role"] == "system"), None)
        if system is None or not str(system.get("content", "")).strip() or self.name in _WARNED:
            return
        if str(system["content"]).strip() not in self.render(messages):
            _WARNED.add(self.name)
            log.warning("the %s chat template drops the system message: the model will not see it",
                        self.name)

    # ---- encoding ---------------------------------------------------------------------------
    def _ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def _start(self, first: str) -> list[int]:
        if self.bos_id is None or (self.bos_token and first.startswith(self.bos_token)):
            return []
        return [self.bos_id]

    def encode(self, messages: Sequence[Mapping[str, Any]]) -> Encoded:
        """A training conversation: ids and the labels (True on every reply token).

        Raises:
            DataError: the conversation is invalid or has no assistant reply.
        """
        pieces = self.pieces(messages)
        if not any(reply for _, reply in pieces):
            raise DataError("the conversation has no assistant reply to learn", where="messages",
                            fix="end it with an assistant message")
        ids = self._start(pieces[0][0])
        labels = [False] * len(ids)
        for text, reply in pieces:
            piece = self._ids(text)
            ids += piece
            labels += [reply] * len(piece)
        return Encoded(ids, labels)

    def encode_prompt(self, messages: Sequence[Mapping[str, Any]]) -> list[int]:
        """A conversation to be answered: its ids through the generation prompt, cut and
        encoded as in training."""
        pieces = self.pieces(messages, add_generation_prompt=True)
        ids = self._start(pieces[0][0] if pieces else "")
        for text, _ in pieces:
            ids += self._ids(text)
        return ids

    def stops(self) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """(stop ids, stop strings) that end a reply at inference: the model's end id, and the
        text the template writes after a reply (ChatML's `<|im_end|>`) when it is not that token."""
        marker = "\x00reply\x00"
        text = self.render([{"role": "user", "content": "x"}, {"role": "assistant", "content": marker}])
        after = text[text.index(marker) + len(marker):].strip() if marker in text else ""
        ids = () if self.eos_id is None else (self.eos_id,)
        strings = (after,) if after and after != self.eos_token else ()
        return ids, strings
