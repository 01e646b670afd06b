"""The model folder format: round trip, atomic save, corrupted files, wrong types."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import lmlab
from lmlab.config import Config
from lmlab.errors import ConfigError, ModelFormatError
from lmlab.io import folder
from lmlab.io.folder import SavableMixin, check_arrays, save_folder
from lmlab.io.torch_folder import TorchSavableMixin
from lmlab.registry import MODEL_TYPES, register_type


class TinyLinear(SavableMixin):
    """The smallest savable model (y = W x + b)."""

    config_type = "_tiny_linear"

    def __init__(self, n_in: int, n_out: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.n_in, self.n_out = n_in, n_out
        self.weight = rng.standard_normal((n_out, n_in)).astype(np.float32)
        self.bias = rng.standard_normal(n_out).astype(np.float32)

    def folder_parts(self):
        return {"n_in": self.n_in, "n_out": self.n_out}, {"weight": self.weight, "bias": self.bias}, None

    @classmethod
    def from_folder_parts(cls, config: dict[str, Any], arrays, tokenizer, *, where: str):
        obj = cls(config["n_in"], config["n_out"])
        check_arrays({"weight": (obj.n_out, obj.n_in), "bias": (obj.n_out,)}, arrays, where=where)
        obj.weight, obj.bias = arrays["weight"], arrays["bias"]
        return obj


from dataclasses import dataclass  # noqa: E402


@dataclass
class TiedConfig(Config):
    vocab_size: int = 7
    d_model: int = 3


class TiedLM(TorchSavableMixin, torch.nn.Module):
    """Embedding tied to the output layer: the saved file must hold the storage once."""

    config_type = "_tied_lm"
    config_class = TiedConfig

    def __init__(self, config: TiedConfig, tokenizer=None) -> None:
        super().__init__()
        self.config, self.tokenizer = config, tokenizer
        self.embed = torch.nn.Embedding(config.vocab_size, config.d_model)
        self.head = torch.nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.head.weight = self.embed.weight


@pytest.fixture(autouse=True)
def _registered():
    register_type("_tiny_linear", f"{__name__}:TinyLinear")
    register_type("_tied_lm", f"{__name__}:TiedLM")
    yield
    MODEL_TYPES.pop("_tiny_linear", None)
    MODEL_TYPES.pop("_tied_lm", None)


def test_round_trip_restores_config_and_arrays(tmp_path: Path):
    model = TinyLinear(4, 3, seed=1)
    model.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["type"] == "_tiny_linear" and config["format_version"] == folder.FORMAT_VERSION
    loaded = lmlab.load(tmp_path / "m")
    assert isinstance(loaded, TinyLinear)
    np.testing.assert_array_equal(loaded.weight, model.weight)
    np.testing.assert_array_equal(loaded.bias, model.bias)
    assert TinyLinear.load(tmp_path / "m").n_in == 4


def test_torch_module_round_trip_keeps_tied_weights(tmp_path: Path):
    torch.manual_seed(0)
    model = TiedLM(TiedConfig())
    model.save(tmp_path / "lm")
    from safetensors.torch import load_file

    assert set(load_file(str(tmp_path / "lm" / "model.safetensors"))) == {"embed.weight"}
    loaded = lmlab.load(tmp_path / "lm")
    torch.testing.assert_close(loaded.head.weight, model.head.weight)
    assert loaded.head.weight.data_ptr() == loaded.embed.weight.data_ptr()


def test_interrupted_save_leaves_the_old_model_intact(tmp_path: Path, monkeypatch):
    old = TinyLinear(4, 3, seed=1)
    old.save(tmp_path / "m")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("simulated crash while writing weights")

    monkeypatch.setattr(folder, "_save_arrays", crash)
    with pytest.raises(KeyboardInterrupt):
        TinyLinear(4, 3, seed=2).save(tmp_path / "m")
    monkeypatch.undo()
    np.testing.assert_array_equal(lmlab.load(tmp_path / "m").weight, old.weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"], "temporary folders were left behind"


def test_crash_between_moves_restores_the_old_folder(tmp_path: Path, monkeypatch):
    old = TinyLinear(2, 2, seed=1)
    old.save(tmp_path / "m")
    real_replace = os.replace
    calls = []

    def flaky_replace(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the move of the new folder into place fails
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(folder.os, "replace", flaky_replace)
    with pytest.raises(OSError):
        TinyLinear(2, 2, seed=2).save(tmp_path / "m")
    monkeypatch.undo()
    np.testing.assert_array_equal(lmlab.load(tmp_path / "m").weight, old.weight)


def test_corrupted_safetensors_is_a_one_line_error(tmp_path: Path):
    TinyLinear(4, 3).save(tmp_path / "m")
    weights = tmp_path / "m" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:40])
    with pytest.raises(ModelFormatError, match="corrupted or truncated") as info:
        lmlab.load(tmp_path / "m")
    assert "\n" not in str(info.value) and "model.safetensors" in str(info.value)


def test_wrong_shape_names_the_tensor(tmp_path: Path):
    TinyLinear(4, 3).save(tmp_path / "m")
    cfg_file = tmp_path / "m" / "config.json"
    cfg = json.loads(cfg_file.read_text())
    cfg["n_in"] = 5
    cfg_file.write_text(json.dumps(cfg))
    with pytest.raises(ModelFormatError, match=r"'weight' has shape \(3, 4\) but the config implies \(3, 5\)"):
        lmlab.load(tmp_path / "m")


def test_missing_and_unexpected_tensors_are_listed(tmp_path: Path):
    save_folder(tmp_path / "m", "_tiny_linear", {"n_in": 2, "n_out": 2},
                {"weight": np.zeros((2, 2), np.float32), "extra": np.zeros(1, np.float32)})
    with pytest.raises(ModelFormatError, match="missing bias; unexpected extra"):
        lmlab.load(tmp_path / "m")


def test_unknown_type_and_wrong_class(tmp_path: Path):
    TinyLinear(2, 2).save(tmp_path / "m")
    cfg_file = tmp_path / "m" / "config.json"
    cfg = json.loads(cfg_file.read_text())
    with pytest.raises(ModelFormatError, match="TinyLinear, not a TiedLM"):
        TiedLM.load(tmp_path / "m")
    cfg["type"] = "no-such-model"
    cfg_file.write_text(json.dumps(cfg))
    with pytest.raises(ModelFormatError, match="unknown model type 'no-such-model'"):
        lmlab.load(tmp_path / "m")


@pytest.mark.parametrize("content, message", [
    (None, "config.json is missing"),
    ("{not json", "not valid JSON"),
    ('{"format_version": 1}', 'no "type" field'),
    ('{"type": "_tiny_linear", "format_version": 99}', "unsupported format_version 99"),
])
def test_bad_config_files(tmp_path: Path, content, message):
    TinyLinear(2, 2).save(tmp_path / "m")
    cfg_file = tmp_path / "m" / "config.json"
    if content is None:
        cfg_file.unlink()
    else:
        cfg_file.write_text(content)
    with pytest.raises(ModelFormatError, match=message):
        lmlab.load(tmp_path / "m")


def test_missing_folder(tmp_path: Path):
    with pytest.raises(ModelFormatError, match="model folder not found"):
        lmlab.load(tmp_path / "nothing")


def test_config_from_dict_names_unknown_fields():
    with pytest.raises(ConfigError, match=r"unknown TiedConfig field.*'d_modle'.*valid fields are: vocab_size, d_model"):
        TiedConfig.from_dict({"d_modle": 3})
