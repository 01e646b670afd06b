"""lmlab.data.tokens: memory-mapped token arrays, random windows, padded bucketed batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lmlab.data.tokens import (
    PaddedBatches,
    RandomWindows,
    encode_ids,
    encode_to_array,
    load_token_array,
    pad_sequences,
    token_dtype,
)
from lmlab.errors import DataError

TEXTS = ["el niño come pan", "¿dónde está la señora?", "", "la niña lee un libro"]


@pytest.fixture(scope="module")
def word_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator(TEXTS, trainers.WordLevelTrainer(special_tokens=["[PAD]", "[UNK]", "</s>"]))
    return tok


def test_encode_to_array_is_the_concatenation_with_eos(tmp_path, word_tokenizer):
    eos = word_tokenizer.token_to_id("</s>")
    arr = encode_to_array(TEXTS, word_tokenizer, tmp_path / "c.tokens", eos_id=eos, chunk_lines=2)
    expected = [i for t in TEXTS for i in [*word_tokenizer.encode(t).ids, eos]]
    assert isinstance(arr, np.memmap) and arr.dtype == np.uint16
    assert arr.tolist() == expected
    assert load_token_array(tmp_path / "c.tokens").tolist() == expected
    assert not list(tmp_path.glob(".*tmp*"))


def test_dtype_switches_to_uint32_above_65536_ids():
    assert token_dtype(65536) == np.uint16 and token_dtype(65537) == np.uint32


def test_truncated_array_is_reported(tmp_path, word_tokenizer):
    encode_to_array(TEXTS, word_tokenizer, tmp_path / "c.tokens")
    with open(tmp_path / "c.tokens", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(DataError, match="does not match"):
        load_token_array(tmp_path / "c.tokens")
    with pytest.raises(DataError, match="not found"):
        load_token_array(tmp_path / "missing.tokens")


def test_encode_ids_adds_specials_and_truncates(word_tokenizer):
    ids = encode_ids(["el niño come pan"], word_tokenizer, bos_id=7, eos_id=8, max_len=4)
    assert ids[0][0] == 7 and ids[0][-1] == 8 and len(ids[0]) == 4


def test_random_windows_are_contiguous_deterministic_and_in_range():
    tokens = np.arange(100, dtype=np.uint16)
    windows = RandomWindows(tokens, seq_len=9, batch_size=3, seed=5)
    assert len(windows) == 99 // 27
    b0 = windows[0]["ids"]
    assert b0.shape == (3, 10) and b0.dtype == torch.int64
    assert torch.equal(b0[:, 1:] - b0[:, :-1], torch.ones(3, 9, dtype=torch.long))  # contiguous
    assert torch.equal(windows[0]["ids"], RandomWindows(tokens, 9, 3, seed=5)[0]["ids"])
    assert not torch.equal(windows[0]["ids"], windows[1]["ids"])
    starts = torch.cat([windows[i]["ids"][:, 0] for i in range(len(windows))])
    assert int(starts.max()) <= 100 - 10
    with pytest.raises(DataError, match="seq_len"):
        RandomWindows(tokens[:5], seq_len=9, batch_size=1)


def test_pad_sequences_masks_real_tokens():
    ids, mask = pad_sequences([[5, 6, 7], [8], []], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0], [0, 0, 0]]
    assert mask.tolist() == [[True, True, True], [True, False, False], [False, False, False]]


def test_padded_batches_bucket_by_length_and_pad_each_column():
    seqs = [[1] * n for n in (5, 1, 4, 2, 3)]
    batches = PaddedBatches({"src_ids": seqs, "tgt_ids": [[2, 3]] * 5, "labels": [0, 1, 0, 1, 1]},
                            batch_size=2)
    assert len(batches) == 3
    b = batches[0]
    assert set(b) == {"src_ids", "src_mask", "tgt_ids", "tgt_mask", "labels"}
    assert b["src_mask"].sum(1).tolist() == [1, 2]          # the two shortest together
    assert b["labels"].tolist() == [1, 1] and b["labels"].dtype == torch.int64
    assert batches[2]["src_ids"].shape == (1, 5)
    scores = PaddedBatches({"ids": seqs, "score": [0.5] * 5}, batch_size=5)[0]["score"]
    assert scores.dtype == torch.float32
    with pytest.raises(DataError, match="equal length"):
        PaddedBatches({"ids": seqs, "labels": [1]}, batch_size=2)
    with pytest.raises(DataError, match="lists of token ids"):
        PaddedBatches({"ids": [1, 2]}, batch_size=2)
