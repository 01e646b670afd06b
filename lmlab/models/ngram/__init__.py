"""Count-based n-gram language models: counting, smoothing, the LM interface, ARPA interop."""

from lmlab.models.ngram.model import NGramLM

__all__ = ["NGramLM"]
