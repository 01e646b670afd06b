"""Batch encoding: many texts -> padded id matrices with attention masks, and back.

    batch = encode_batch(tok, ["¿Qué tal?", "Hola"], max_length=16)
    batch.ids    # (B, T) int64, padded with the [PAD] id
    batch.mask   # (B, T) bool, True = a real token (the course's convention: True = keep)

Encoding runs in the Rust `tokenizers` library on all cores (`Tokenizer.encode_batch`); truncation
uses the tokenizer's own rule, which keeps the special tokens of its template ([CLS] ... [SEP]
stay when a long text is cut). Padding is done here with numpy, and the tokenizer's own settings
(a tokenizer.json may carry padding and truncation) are restored afterwards. The result matches transformers' `tokenizer(texts, padding=True, truncation=True,
max_length=...)` (`input_ids`, `attention_mask`, `token_type_ids`): see the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from lmlab.errors import ConfigError, check_choice, check_range
from lmlab.text import special

if TYPE_CHECKING:
    from tokenizers import Tokenizer


@dataclass(frozen=True)
class Batch:
    """Padded encodings of a batch of texts.

    Attributes:
        ids: (B, T) int64 token ids, padding filled with `pad_id`.
        mask: (B, T) bool, True for real tokens, False for padding.
        type_ids: (B, T) int64 segment ids (0 first text, 1 second text of a pair).
        lengths: (B,) int64 number of real tokens per row.
        pad_id: the padding id.
    """

    ids: np.ndarray
    mask: np.ndarray
    type_ids: np.ndarray
    lengths: np.ndarray
    pad_id: int

    def to_torch(self, device: Any = None) -> dict[str, Any]:
        """`{"ids", "mask", "type_ids", "lengths"}` as torch tensors on `device`."""
        import torch

        return {name: torch.from_numpy(getattr(self, name)).to(device)
                for name in ("ids", "mask", "type_ids", "lengths")}


def encode_batch(
    tokenizer: Tokenizer,
    texts: Sequence[str] | Sequence[tuple[str, str]],
    *,
    max_length: int | None = None,
    padding: Literal["longest", "max_length"] = "longest",
    padding_side: Literal["right", "left"] = "right",
    truncation: bool = True,
    add_special_tokens: bool = True,
    pad_to_multiple_of: int | None = None,
    pad_token: str = special.PAD,
) -> Batch:
    """Encode texts (or pairs of texts) into one padded batch.

    Args:
        tokenizer: a `tokenizers.Tokenizer`.
        texts: strings, or (first, second) pairs for BERT-style pair inputs.
        max_length: longest row in tokens (special tokens included); None keeps the
            tokenizer's own truncation setting (e.g. 128 for all-MiniLM-L6-v2), if any.
        padding: "longest" pads to the longest row, "max_length" to `max_length`.
        padding_side: "right" (training) or "left" (batched generation with decoder-only LMs).
        truncation: cut rows longer than `max_length` (else they raise ConfigError).
        add_special_tokens: apply the tokenizer's template ([CLS] ... [SEP], <s> ... </s>).
        pad_to_multiple_of: round the width up (e.g. 8 for tensor cores).
        pad_token: the padding token; must be in the vocabulary when any row is padded.

    Returns:
        A `Batch` of numpy arrays.
    """
    check_choice("padding", padding, ("longest", "max_length"))
    check_choice("padding_side", padding_side, ("right", "left"))
    if max_length is not None:
        check_range("max_length", max_length, 1)
    if padding == "max_length" and max_length is None:
        raise ConfigError("padding='max_length' needs max_length", fix="pass max_length=N")
    texts = list(texts)
    saved_truncation, saved_padding = tokenizer.truncation, tokenizer.padding
    try:
        tokenizer.no_padding()
        if not truncation:
            tokenizer.no_truncation()
        elif max_length is not None:
            tokenizer.enable_truncation(max_length)
        encodings = tokenizer.encode_batch(texts, add_special_tokens=add_special_tokens)
    finally:
        if saved_truncation is None:
            tokenizer.no_truncation()
        else:
            tokenizer.enable_truncation(**saved_truncation)
        if saved_padding is not None:
            tokenizer.enable_padding(**saved_padding)

    lengths = np.array([len(e.ids) for e in encodings], dtype=np.int64)
    longest = int(lengths.max()) if len(lengths) else 0
    if max_length is not None and longest > max_length:
        row = int(lengths.argmax())
        raise ConfigError(f"row {row} has {longest} tokens, more than max_length={max_length}",
                          fix="pass truncation=True or a larger max_length")
    width = max_length if padding == "max_length" else longest
    if pad_to_multiple_of:
        width = -(-width // pad_to_multiple_of) * pad_to_multiple_of
    pad_id = tokenizer.token_to_id(pad_token)
    if pad_id is None:
        if (lengths < width).any():
            raise ConfigError(f"the tokenizer has no padding token {pad_token!r}",
                              fix="train it with [PAD] among special_tokens or pass pad_token=...")
        pad_id = 0

    ids = np.full((len(encodings), width), pad_id, dtype=np.int64)
    type_ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=bool)
    for row, enc in enumerate(encodings):
        n = len(enc.ids)
        cols = slice(width - n, width) if padding_side == "left" else slice(0, n)
        ids[row, cols] = enc.ids
        type_ids[row, cols] = enc.type_ids
        mask[row, cols] = True
    return Batch(ids=ids, mask=mask, type_ids=type_ids, lengths=lengths, pad_id=pad_id)


def decode_batch(tokenizer: Tokenizer, ids: Any, mask: Any = None, *,
                 skip_special_tokens: bool = True) -> list[str]:
    """Decode rows of ids (a (B, T) array, tensor or list of lists), dropping padding by `mask`."""
    rows = ids.tolist() if hasattr(ids, "tolist") else [list(r) for r in ids]
    if mask is not None:
        keep = mask.tolist() if hasattr(mask, "tolist") else mask
        rows = [[i for i, k in zip(r, m, strict=True) if k] for r, m in zip(rows, keep, strict=True)]
    return tokenizer.decode_batch(rows, skip_special_tokens=skip_special_tokens)
