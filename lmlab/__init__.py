"""lmlab: build, train, evaluate and serve language models end to end.

    >>> import lmlab
    >>> model = lmlab.train_lm("gpt-tiny", "mis_textos.txt", max_steps=300)   # doctest: +SKIP
    >>> lmlab.generate(model, "El perro").text                                # doctest: +SKIP
    >>> lmlab.perplexity(model, ["El perro come ."]).ppl                      # doctest: +SKIP
    >>> model.save("runs/gpt"); lmlab.load("runs/gpt")                        # doctest: +SKIP

Nothing heavy happens at import time: the names below load their modules (and torch) on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> "module:attribute", imported on first access (PEP 562).
_LAZY = {
    "load": "lmlab.io.loading:load",
    "generate": "lmlab:generate",  # the package `lmlab.generate`, callable as the function
    "stream": "lmlab.generate.api:stream",
    "GenerationConfig": "lmlab.generate.api:GenerationConfig",
    "perplexity": "lmlab.models.base:perplexity",
    "train_lm": "lmlab.train.lm:train_lm",
    "GPT": "lmlab.models.transformer.gpt:GPT",
    "GPTConfig": "lmlab.models.transformer.gpt:GPTConfig",
    "NGramLM": "lmlab.models.ngram.model:NGramLM",
    "Trainer": "lmlab.train.trainer:Trainer",
    "TrainConfig": "lmlab.train.trainer:TrainConfig",
}

__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:
    from lmlab.generate.api import GenerationConfig, generate, stream  # noqa: F401
    from lmlab.io.loading import load  # noqa: F401
    from lmlab.models.base import perplexity  # noqa: F401
    from lmlab.models.ngram.model import NGramLM  # noqa: F401
    from lmlab.models.transformer.gpt import GPT, GPTConfig  # noqa: F401
    from lmlab.train.lm import train_lm  # noqa: F401
    from lmlab.train.trainer import TrainConfig, Trainer  # noqa: F401


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'lmlab' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = (importlib.import_module(f"lmlab.{attr}") if module == "lmlab"
             else getattr(importlib.import_module(module), attr))
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
