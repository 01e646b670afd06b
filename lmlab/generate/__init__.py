"""Generation over any language model: greedy, sampling (temperature, top-k, top-p), beam search,
penalties, stop conditions, streaming. See `lmlab.generate.api` and docs/generation.md."""

from lmlab.generate.api import Generation, GenerationConfig, TokenEvent, generate, stream

__all__ = ["Generation", "GenerationConfig", "TokenEvent", "generate", "stream"]
