"""Generation over any language model: greedy, sampling (temperature, top-k, top-p), beam search,
penalties, stop conditions, streaming. See `lmlab.generate.api` and docs/generation.md.

`lmlab.generate` is this package and, called, the `generate` function: `lmlab.generate(model,
"texto")` and `from lmlab.generate import generate` do the same thing.
"""

import sys
import types

from lmlab.generate.api import Generation, GenerationConfig, TokenEvent, generate, stream

__all__ = ["Generation", "GenerationConfig", "TokenEvent", "generate", "stream"]


class _CallablePackage(types.ModuleType):
    """The package object, callable as `generate` (so the top-level name is never shadowed)."""

    def __call__(self, *args, **kwargs):
        return generate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
