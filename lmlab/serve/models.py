"""The models a server offers: language models by id (a folder's name), one sentence encoder.

The server serves only what it was started with: requests name a model id, never a path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmlab.errors import ConfigError

# Tokens that end an assistant turn in the built-in chat formats: a chat stops on any of them
# that the model's vocabulary holds, besides the model's own end-of-text id.
TURN_END_TOKENS = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<|endoftext|>")


@dataclass
class ServedModel:
    """A language model behind an id, with what chat needs (its template, its turn-end ids)."""

    id: str
    model: Any
    chat_template: str | None = None
    created: int = 0
    kind: str = field(default="")

    def __post_init__(self) -> None:
        if getattr(self.model, "tokenizer", None) is None:
            raise ConfigError(f"the model {self.id!r} has no tokenizer, so it cannot read text",
                              where=self.id, fix="serve a folder saved with its tokenizer.json")
        if not hasattr(self.model, "start"):
            raise ConfigError(f"{self.id!r} holds a {type(self.model).__name__}, not a language "
                              "model with start/step", where=self.id,
                              fix="serve language models (n-gram, RNN, GPT, Llama ...)")
        self.kind = self.kind or type(self.model).__name__

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    @property
    def context(self) -> int | None:
        return getattr(self.model, "max_seq_len", None)

    def special_token(self, token_id: int | None) -> str:
        if token_id is None:
            return ""
        return self.tokenizer.id_to_token(token_id) or ""

    def chat_stop_ids(self) -> tuple[int, ...]:
        ids = {self.model.eos_id} if getattr(self.model, "eos_id", None) is not None else set()
        for tok in TURN_END_TOKENS:
            i = self.tokenizer.token_to_id(tok)
            if i is not None:
                ids.add(i)
        return tuple(sorted(ids))

    def token_text(self, token_id: int) -> str:
        """How a token reads in logprobs: its decoded text, else its vocabulary entry."""
        text = self.tokenizer.decode([token_id], skip_special_tokens=False)
        return text if text else (self.tokenizer.id_to_token(token_id) or "")


def model_id(path: str | os.PathLike[str]) -> str:
    """The id of a served model: its folder's name (an ARPA file's stem)."""
    p = Path(path).resolve()
    return p.stem if p.is_file() else p.name


def open_model(path: str | os.PathLike[str], *, device: Any = None,
               chat_template: str | None = None) -> ServedModel:
    """A `ServedModel` from a model folder (`lmlab.load`) or an ARPA file, moved to `device`."""
    import time

    from lmlab.chat import template_for

    p = Path(path)
    if p.is_file():
        from lmlab.models.ngram.arpa import read_arpa

        model = read_arpa(p)
    else:
        from lmlab.io.loading import load

        model = load(p)
    if device is not None and hasattr(model, "to"):
        model = model.to(device)
    if hasattr(model, "eval"):
        model.eval()
    template = template_for(chat_template) if chat_template else getattr(model, "chat_template", None)
    return ServedModel(model_id(p), model, template, created=int(time.time()))


def embeddings_id(name: str) -> str:
    """The id of the served sentence encoder: a packaged name as given, a folder by its name."""
    from lmlab.io.packaged import PACKAGED_MODELS

    return name if name in PACKAGED_MODELS else model_id(name)
