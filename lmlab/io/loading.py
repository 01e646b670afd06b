"""`lmlab.load`: open any model folder, lmlab's own or a supported Hugging Face checkpoint.

    model = lmlab.load("runs/gpt/model")        # config.json with "type": an lmlab folder
    model = lmlab.load("checkpoints/gpt2")      # config.json with "model_type": Hugging Face

The two readers stay apart (`lmlab.io.folder.load_model`, `lmlab.io.hf.import_hf`); this module
only tells the folders apart by their `config.json`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from lmlab.io.folder import CONFIG_NAME, load_model


def is_hf_folder(path: str | os.PathLike[str]) -> bool:
    """A Hugging Face model folder: config.json with "model_type" and no lmlab "type"."""
    try:
        config = json.loads((Path(path) / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and "type" not in config and "model_type" in config


def load(path: str | os.PathLike[str], **kwargs: Any) -> Any:
    """Open any saved lmlab model folder, or import a Hugging Face folder of a supported family.

    Args:
        path: the folder.
        kwargs: for an lmlab folder, passed to the class's `from_folder_parts`; for a Hugging
            Face folder, fields of lmlab's config to change (e.g. attention="math").
    """
    if is_hf_folder(path):
        from lmlab.io.hf import import_hf

        return import_hf(path, **kwargs)
    return load_model(path, **kwargs)
