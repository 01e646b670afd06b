"""Model-type registry: the "type" in a saved `config.json` -> the class that loads it.

Entries are import paths, so `lmlab.load` imports only the family it needs. A family adds one line
here when it gains a savable class; the class must implement `lmlab.io.folder.Savable`.
"""

from __future__ import annotations

import importlib
from typing import Any

from lmlab.errors import ModelFormatError

MODEL_TYPES: dict[str, str] = {
    # type name            -> "module:Class"
    "gpt": "lmlab.models.transformer.gpt:GPT",
    "llama": "lmlab.models.transformer.llama:Llama",
    "ngram": "lmlab.models.ngram.model:NGramLM",
    "bert": "lmlab.models.transformer.bert:BERT",
    "bert-pretraining": "lmlab.models.transformer.bert:BertForPreTraining",
    "bert-classifier": "lmlab.models.transformer.bert:BertClassifier",
    "bert-tagger": "lmlab.models.transformer.bert:BertTagger",
    "sentence-encoder": "lmlab.models.transformer.sentence:SentenceEncoder",
    "t5": "lmlab.models.transformer.t5:T5",
    "rnn_lm": "lmlab.models.rnn.lm:RNNLanguageModel",
    "rnn_classifier": "lmlab.models.rnn.classifier:RNNClassifier",
    "rnn_siamese": "lmlab.models.rnn.siamese:SiameseEncoder",
    "rnn_seq2seq": "lmlab.models.rnn.seq2seq:Seq2Seq",
    "word_vectors": "lmlab.vectors.keyed:WordVectors",
    "reward": "lmlab.align.reward:RewardModel",
}


def register_type(name: str, target: str) -> None:
    """Register `target` ("module:Class") under the config type `name` (for plug-ins and tests)."""
    MODEL_TYPES[name] = target


def class_for_type(name: str, *, where: str | None = None) -> Any:
    """Import and return the class registered for config type `name`."""
    if name not in MODEL_TYPES:
        known = ", ".join(sorted(k for k in MODEL_TYPES if not k.startswith("_")))
        raise ModelFormatError(
            f"unknown model type {name!r} in config.json",
            where=where,
            fix=f"known types are: {known}; was the folder written by a newer lmlab?",
        )
    module_name, _, attr = MODEL_TYPES[name].partition(":")
    return getattr(importlib.import_module(module_name), attr)
