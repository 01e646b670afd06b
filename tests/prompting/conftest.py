"""Tiny models for the prompting tests, with probabilities known by hand.

- `bigram`: an MLE bigram model of six sentences. After "fue" the next word is counted as
  buena 2, mala 1, terrible 1, muy 1, bacán 1 (of 6), and "muy" is always followed by "buena", so
  log p(buena | ... fue) = log 1/3, log p(muy buena | ... fue) = log 1/6 + log 1, and every other
  answer log 1/6.
- `trigram`: a Kneser-Ney trigram of the same sentences (every probability finite).
- `ScriptLM`: a stub language model that reads any prompt and then writes a fixed script: at
  step t it puts the given probabilities on words (the rest get none).
- `Limited`: any model seen through a shorter context (`max_seq_len`).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from lmlab.models.ngram.model import NGramLM

SENTENCES = [
    "la película fue buena",
    "la película fue buena",
    "la película fue mala",
    "la comida fue terrible",
    "la comida fue muy buena",
    "la música fue bacán",
]


@pytest.fixture(scope="session")
def bigram() -> NGramLM:
    return NGramLM(order=2, smoothing="mle").fit(SENTENCES)


@pytest.fixture(scope="session")
def trigram() -> NGramLM:
    return NGramLM(order=3, smoothing="kneser_ney").fit(SENTENCES)


class ScriptLM:
    """Writes `script` after any prompt: step t has next-word probabilities script[t]."""

    def __init__(self, script: list[dict[str, float]], words: list[str]) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import WordLevel
        from tokenizers.pre_tokenizers import WhitespaceSplit

        vocab = ["[PAD]", "[UNK]", "<s>", "</s>", *words]
        tok = Tokenizer(WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
        tok.pre_tokenizer = WhitespaceSplit()
        self.tokenizer, self.vocab = tok, vocab
        self.vocab_size, self.bos_id, self.eos_id, self.max_seq_len = len(vocab), 2, 3, None
        self.script = script

    def _logits(self, t: torch.Tensor) -> torch.Tensor:
        out = torch.full((len(t), self.vocab_size), -1e9)
        for row, step in enumerate(t.tolist()):
            probs = self.script[min(step, len(self.script) - 1)]
            for word, p in probs.items():
                out[row, self.vocab.index(word)] = math.log(p)
        return out

    def start(self, ids: torch.Tensor, capacity: int | None = None) -> tuple[Any, torch.Tensor]:
        t = torch.zeros(ids.shape[0], dtype=torch.long)
        return t, self._logits(t)

    def step(self, state: torch.Tensor, ids: torch.Tensor) -> tuple[Any, torch.Tensor]:
        return state + 1, self._logits(state + 1)


class Limited:
    """A model read through a context of `max_seq_len` positions (everything else delegated)."""

    def __init__(self, model: Any, max_seq_len: int) -> None:
        self._model, self.max_seq_len = model, max_seq_len

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def one_line(exc: BaseException) -> bool:
    text = str(exc)
    return bool(text) and "\n" not in text


@pytest.fixture
def make_script_lm():
    """`make_script_lm(script, words)` -> a `ScriptLM`."""
    return ScriptLM


@pytest.fixture
def limited():
    """`limited(model, n)` -> the model with a context of n positions."""
    return Limited


@pytest.fixture
def single_line():
    """`single_line(exc)`: the error's message is one non-empty line."""
    return one_line
