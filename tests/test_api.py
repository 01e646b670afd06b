"""The top-level API: lazy exports, nothing heavy at import time."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import lmlab


def test_import_lmlab_does_not_import_torch():
    code = "import sys, lmlab; lmlab.__version__; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lazy_exports_are_the_library_objects():
    from lmlab.generate.api import GenerationConfig, generate, stream
    from lmlab.io.loading import load
    from lmlab.models.base import perplexity
    from lmlab.models.ngram.model import NGramLM
    from lmlab.models.transformer.gpt import GPT, GPTConfig
    from lmlab.train.lm import train_lm
    from lmlab.train.trainer import TrainConfig, Trainer

    assert lmlab.load is load and lmlab.perplexity is perplexity and lmlab.stream is stream
    assert lmlab.train_lm is train_lm and lmlab.GenerationConfig is GenerationConfig
    assert (lmlab.GPT, lmlab.GPTConfig, lmlab.NGramLM) == (GPT, GPTConfig, NGramLM)
    assert (lmlab.Trainer, lmlab.TrainConfig) == (Trainer, TrainConfig)
    # `lmlab.generate` is the package (importing its submodules sets it so) and calls `generate`
    importlib.import_module("lmlab.generate.processors")

    model = NGramLM(order=2).fit(["el perro come", "el gato come"])
    assert lmlab.generate(model, "el", max_new_tokens=3).ids == generate(model, "el", max_new_tokens=3).ids
    assert lmlab.generate.GenerationConfig is GenerationConfig
    assert set(lmlab.__all__) >= {"load", "generate", "stream", "perplexity", "train_lm", "GPT",
                                  "GPTConfig", "NGramLM", "Trainer", "TrainConfig",
                                  "GenerationConfig"}


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        lmlab.nonexistent  # noqa: B018
