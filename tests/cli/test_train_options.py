"""The training options every training command shares (`lmlab.cli.common`): torch threads default
to 1, word vectors load without gensim."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lmlab.cli.common import load_word_vectors, train_config_from_args
from lmlab.cli.main import build_parser
from lmlab.errors import ConfigError
from lmlab.io.word2vec_format import write_word2vec

TRAINING_COMMANDS = [["train", "rnn"], ["classify", "train"], ["translate", "train"], ["similarity", "train"]]


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("command", TRAINING_COMMANDS, ids=" ".join)
def test_threads_default_to_one(command, tmp_path, restore_threads):
    args = build_parser().parse_args([*command, "-o", str(tmp_path / "run")])
    assert args.threads == 1
    torch.set_num_threads(2)
    config = train_config_from_args(args, "cpu")
    assert torch.get_num_threads() == 1
    assert config.device == "cpu" and config.out_dir == str(tmp_path / "run")


def test_threads_option_and_its_range(tmp_path, restore_threads):
    parser = build_parser()
    args = parser.parse_args(["train", "rnn", "--threads", "2", "-o", str(tmp_path)])
    train_config_from_args(args, "cpu")
    assert torch.get_num_threads() == 2
    args = parser.parse_args(["train", "rnn", "--threads", "0", "-o", str(tmp_path)])
    with pytest.raises(ConfigError, match="--threads=0"):
        train_config_from_args(args, "cpu")


@pytest.mark.parametrize("binary", [False, True])
def test_load_word_vectors_reads_word2vec_files_itself(tmp_path, binary):
    words, vectors = ["rey", "reina", "casa"], np.arange(6, dtype=np.float32).reshape(3, 2)
    path = write_word2vec(tmp_path / ("v.bin" if binary else "v.txt"), words, vectors, binary=binary)
    wv = load_word_vectors(str(path))
    assert "reina" in wv and "perro" not in wv
    np.testing.assert_array_equal(wv["casa"], vectors[2])
    wv.save(tmp_path / "folder")
    np.testing.assert_array_equal(load_word_vectors(str(tmp_path / "folder"))["rey"], vectors[0])
    assert load_word_vectors(None) is None
