"""lmlab: build, train, evaluate and serve language models end to end.

Nothing heavy happens at import time: submodules (and torch) load on first use.

    >>> import lmlab
    >>> model = lmlab.load("models/trigram")     # any saved model folder
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "load"]

if TYPE_CHECKING:
    from os import PathLike


def load(path: str | PathLike[str], **kwargs: Any) -> Any:
    """Open any saved lmlab model folder; its `config.json` "type" picks the class."""
    from lmlab.io.folder import load_model

    return load_model(path, **kwargs)
