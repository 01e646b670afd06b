"""The model folder format: `config.json` + `model.safetensors` (+ `tokenizer.json`).

    my-model/
      config.json          {"type": "ngram", "format_version": 1, "lmlab_version": "...", ...}
      model.safetensors    weights or count arrays (never pickle)
      tokenizer.json       a `tokenizers.Tokenizer`, when the model has one
      tokenizer_config.json  {"chat_template": ...}, when the model has a chat template

Saving is atomic: everything is written to a sibling temporary folder which then replaces the
target with `os.replace`, so a crash mid-save leaves the previous model intact. Loading checks the
config, the format version and every tensor's name and shape, and names the first mismatch.

A savable class implements the `Savable` protocol; `SavableMixin` adds `save` and `load` to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np

from lmlab.errors import ModelFormatError

FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
TOKENIZER_NAME = "tokenizer.json"
TOKENIZER_CONFIG_NAME = "tokenizer_config.json"

Arrays = Mapping[str, Any]  # name -> np.ndarray or torch.Tensor


@runtime_checkable
class Savable(Protocol):
    """What a model class supplies to be saved and loaded as a folder."""

    config_type: ClassVar[str]

    def folder_parts(self) -> tuple[dict[str, Any], Arrays, Any]:
        """Return (config dict without "type", named arrays, tokenizer or None)."""
        ...

    @classmethod
    def from_folder_parts(cls, config: dict[str, Any], arrays: dict[str, Any],
                          tokenizer: Any, *, where: str) -> Self:
        """Rebuild the object; `arrays` are numpy arrays unless the class asks for torch."""
        ...


class SavableMixin:
    """Adds `save(path)` and `load(path)` to a class implementing `Savable`."""

    config_type: ClassVar[str]
    arrays_as: ClassVar[str] = "numpy"  # or "torch"

    def save(self, path: str | os.PathLike[str]) -> Path:
        config, arrays, tokenizer = self.folder_parts()  # type: ignore[attr-defined]
        template = getattr(self, "chat_template", None)
        extra = ({TOKENIZER_CONFIG_NAME: json.dumps({"chat_template": template}, ensure_ascii=False)}
                 if template else None)
        return save_folder(path, self.config_type, config, arrays, tokenizer, extra)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        obj = load_model(path)
        if not isinstance(obj, cls):
            raise ModelFormatError(
                f"the folder holds a {type(obj).__name__}, not a {cls.__name__}",
                where=str(path),
                fix="open it with lmlab.load(path) or the matching class",
            )
        return obj


def save_folder(
    path: str | os.PathLike[str],
    model_type: str,
    config: dict[str, Any],
    arrays: Arrays,
    tokenizer: Any = None,
    extra_files: Mapping[str, str | bytes] | None = None,
) -> Path:
    """Atomically write a model folder; returns its path.

    Args:
        path: target folder; replaced whole if it exists.
        model_type: registry name written as config["type"].
        config: JSON-serialisable settings (no "type"/"format_version" keys).
        arrays: name -> numpy array or torch tensor; saved with safetensors.
        tokenizer: a `tokenizers.Tokenizer` (saved as tokenizer.json) or None.
        extra_files: further small files (name -> text or bytes), e.g. a vocabulary listing.
    """
    from importlib.metadata import version

    with atomic_folder(path, "model") as tmp:
        header = {"type": model_type, "format_version": FORMAT_VERSION, "lmlab_version": version("lmlab")}
        (tmp / CONFIG_NAME).write_text(json.dumps({**header, **config}, indent=2, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
        _save_arrays(arrays, tmp / WEIGHTS_NAME)
        if tokenizer is not None:
            tokenizer.save(str(tmp / TOKENIZER_NAME))
        for name, content in (extra_files or {}).items():
            mode = "wb" if isinstance(content, bytes) else "w"
            with open(tmp / name, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as fh:
                fh.write(content)
    return Path(path)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike[str], what: str = "model") -> Iterator[Path]:
    """Write a folder atomically: yields a sibling temporary folder to fill; on success its files
    are synced and it replaces `path` whole (`replace_dir`), on any error it is removed and the
    previous folder stays as it was. `what` names the folder in the error for a file in the way."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise ModelFormatError(f"a file is in the way of the {what} folder", where=str(target),
                               fix="choose another path or remove the file")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        fsync_dir_files(tmp)
        replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _save_arrays(arrays: Arrays, file: Path) -> None:
    """Save numpy arrays or torch tensors (shared storages are written once each)."""
    tensors = dict(arrays)
    if tensors and all(isinstance(v, np.ndarray) for v in tensors.values()):
        from safetensors.numpy import save_file

        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(file))
        return
    import torch
    from safetensors.torch import save_file

    out = {}
    for k, v in tensors.items():
        t = torch.from_numpy(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v
        # clone breaks storage sharing (tied weights, views) that safetensors refuses.
        out[k] = t.detach().to("cpu").contiguous().clone()
    save_file(out, str(file))


def fsync_dir_files(folder: Path) -> None:
    for f in folder.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())


def replace_dir(tmp: Path, target: Path) -> None:
    """Move `tmp` to `target`; an existing target is moved aside first and removed after."""
    if not target.exists():
        os.replace(tmp, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check `config.json` of a model folder (type and format version present)."""
    folder = Path(path)
    if not folder.exists():
        raise ModelFormatError("model folder not found", where=str(folder),
                               fix="check the path, or train/save a model there first")
    if not folder.is_dir():
        raise ModelFormatError("expected a model folder, got a file", where=str(folder),
                               fix="pass the folder that holds config.json")
    cfg_file = folder / CONFIG_NAME
    if not cfg_file.exists():
        raise ModelFormatError("config.json is missing", where=str(folder),
                               fix="is this an lmlab model folder? save one with model.save(path)")
    try:
        config = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"config.json is not valid JSON ({exc})", where=str(cfg_file),
                               fix="restore the file or save the model again") from exc
    if not isinstance(config, dict) or "type" not in config:
        raise ModelFormatError('config.json has no "type" field', where=str(cfg_file),
                               fix="save the model again with lmlab")
    version = config.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFormatError(
            f"unsupported format_version {version!r} (this lmlab reads up to {FORMAT_VERSION})",
            where=str(cfg_file), fix="upgrade lmlab or save the model again")
    return config


def read_arrays(path: str | os.PathLike[str], *, as_torch: bool = False) -> dict[str, Any]:
    """Read `model.safetensors` of a folder as numpy arrays (or torch tensors)."""
    file = Path(path) / WEIGHTS_NAME
    if not file.exists():
        raise ModelFormatError("model.safetensors is missing", where=str(Path(path)),
                               fix="the save was incomplete: save the model again")
    try:
        if as_torch:
            from safetensors.torch import load_file
        else:
            from safetensors.numpy import load_file
        return load_file(str(file))
    except Exception as exc:  # safetensors raises SafetensorError / OSError / ValueError
        raise ModelFormatError(f"model.safetensors is corrupted or truncated ({exc})",
                               where=str(file), fix="restore the file or save the model again") from exc


def read_tokenizer(path: str | os.PathLike[str]) -> Any:
    """Read `tokenizer.json` of a folder, or None when the folder has none."""
    file = Path(path) / TOKENIZER_NAME
    if not file.exists():
        return None
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(file))
    except Exception as exc:
        raise ModelFormatError(f"tokenizer.json cannot be read ({exc})", where=str(file),
                               fix="restore the file or save the model again") from exc


def check_arrays(expected: Mapping[str, tuple[int, ...]], found: Mapping[str, Any], *, where: str,
                 optional: frozenset[str] = frozenset()) -> None:
    """Raise ModelFormatError naming missing, unexpected or wrongly shaped arrays."""
    missing = sorted(set(expected) - set(found) - optional)
    unexpected = sorted(set(found) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
        if unexpected:
            parts.append(f"unexpected {', '.join(unexpected[:5])}{' ...' if len(unexpected) > 5 else ''}")
        raise ModelFormatError(f"weights do not match the config: {'; '.join(parts)}", where=where,
                               fix="the config and weights come from different models: save again")
    for name, shape in expected.items():
        if name in found and tuple(found[name].shape) != tuple(shape):
            raise ModelFormatError(
                f"tensor {name!r} has shape {tuple(found[name].shape)} but the config implies {tuple(shape)}",
                where=where, fix="the config and weights come from different models: save again")


def load_model(path: str | os.PathLike[str], **kwargs: Any) -> Any:
    """Open a saved lmlab model folder: read config, pick the class by "type", rebuild.

    (`lmlab.load`, in `lmlab.io.loading`, also opens Hugging Face folders.)
    """
    from lmlab.registry import class_for_type

    folder = Path(path)
    config = read_config(folder)
    where = str(folder)
    cls = class_for_type(config["type"], where=where)
    arrays = read_arrays(folder, as_torch=getattr(cls, "arrays_as", "numpy") == "torch")
    tokenizer = read_tokenizer(folder)
    body = {k: v for k, v in config.items() if k not in ("type", "format_version", "lmlab_version")}
    model = cls.from_folder_parts(body, arrays, tokenizer, where=where, **kwargs)
    template = read_chat_template(folder)
    if template is not None:
        model.chat_template = template
    return model


def read_chat_template(path: str | os.PathLike[str]) -> str | None:
    """The "chat_template" of a folder's tokenizer_config.json, or None."""
    file = Path(path) / TOKENIZER_CONFIG_NAME
    if not file.is_file():
        return None
    try:
        template = json.loads(file.read_text(encoding="utf-8")).get("chat_template")
    except (ValueError, AttributeError) as exc:
        raise ModelFormatError(f"tokenizer_config.json is not a JSON object ({exc})",
                               where=str(file), fix="restore the file or save the model again") from exc
    return template if isinstance(template, str) else None
