"""Pieces shared by the RNN models: the fused recurrent layer, final states of a packed run,
hidden-state reordering, and pre-trained (word2vec) input embeddings."""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from lmlab.errors import ConfigError, check_choice, check_range

log = logging.getLogger("lmlab")

Cell = Literal["elman", "lstm", "gru"]
CELLS = ("elman", "lstm", "gru")


def check_rnn_sizes(cell: str, d_embed: int, d_hidden: int, n_layers: int, dropout: float) -> None:
    """Validate the settings every RNN config shares (ConfigError naming the bad one)."""
    check_choice("cell", cell, CELLS)
    check_range("d_embed", d_embed, 1)
    check_range("d_hidden", d_hidden, 1)
    check_range("n_layers", n_layers, 1)
    check_range("dropout", dropout, 0, 1, high_open=True)


def make_rnn(cell: str, d_in: int, d_hidden: int, n_layers: int = 1, dropout: float = 0.0,
             bidirectional: bool = False) -> nn.RNNBase:
    """torch's fused batch-first layer: nn.RNN (tanh, the Elman network), nn.LSTM or nn.GRU."""
    kwargs = {"num_layers": n_layers, "batch_first": True, "bidirectional": bidirectional,
              "dropout": dropout if n_layers > 1 else 0.0}
    if cell == "elman":
        return nn.RNN(d_in, d_hidden, nonlinearity="tanh", **kwargs)
    return {"lstm": nn.LSTM, "gru": nn.GRU}[cell](d_in, d_hidden, **kwargs)


def final_states(rnn: nn.RNNBase, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Top layer's final hidden state(s) of a packed run: (B, H), or (B, 2H) [forward; backward]."""
    lengths = (mask.sum(1) if mask is not None else torch.full((x.shape[0],), x.shape[1])).clamp(min=1)
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    _, state = rnn(packed)
    h_n = state[0] if isinstance(state, tuple) else state    # (L * dirs, B, H)
    if rnn.bidirectional:
        return torch.cat([h_n[-2], h_n[-1]], dim=-1)
    return h_n[-1]


def reorder_hidden(state: Any, rows: torch.Tensor) -> Any:
    """Keep batch rows `rows` of an RNN state: h (L, B, H) or (h, c), batch on dimension 1."""
    if isinstance(state, tuple):
        return tuple(reorder_hidden(s, rows) for s in state)
    return state.index_select(1, rows.to(state.device))


def top_hidden(state: Any) -> torch.Tensor:
    """The top layer's hidden state (B, H) of h (L, B, H) or (h, c)."""
    h = state[0] if isinstance(state, tuple) else state
    return h[-1]


@torch.no_grad()
def apply_to_texts(model: nn.Module, texts: list[str], fn: Any, *, max_len: int,
                   batch_size: int = 64) -> torch.Tensor:
    """Encode `texts` with `model.tokenizer`, run `fn(ids, mask) -> (B, D)` on length-bucketed
    batches in eval mode, and return the (N, D) float32 results in input order."""
    from lmlab.data.tokens import PaddedBatches, encode_ids

    if model.tokenizer is None:
        raise ConfigError(f"this {type(model).__name__} has no tokenizer",
                          fix="train it with the lmlab command line (or set model.tokenizer)")
    model.eval()
    pad = 0
    ids = [seq or [pad] for seq in encode_ids(texts, model.tokenizer, max_len=max_len)]
    batches = PaddedBatches({"ids": ids, "row": list(range(len(ids)))}, batch_size, pad_id=pad)
    device = next(model.parameters()).device
    parts, rows = [], []
    for i in range(len(batches)):
        b = batches[i]
        parts.append(fn(b["ids"].to(device), b["mask"].to(device)).float().cpu())
        rows.append(b["row"])
    out = torch.empty(len(ids), parts[0].shape[1])
    out[torch.cat(rows)] = torch.cat(parts)
    return out


def load_pretrained_embeddings(embedding: nn.Embedding, tokenizer: Any, vectors: Any, *,
                               freeze: bool = False) -> int:
    """Copy pre-trained word vectors into the rows of `embedding` whose token they know.

    Args:
        embedding: (V, D) input embedding to fill in place.
        tokenizer: a `tokenizers.Tokenizer` (id -> token through `get_vocab`).
        vectors: word -> vector lookup with `in` and `[word]` (lmlab or gensim KeyedVectors, a dict).
        freeze: stop training the embedding.
    Returns:
        how many rows were filled (the others keep their random initialisation).
    """
    found = 0
    dim = embedding.weight.shape[1]
    with torch.no_grad():
        for token, idx in tokenizer.get_vocab().items():
            if idx < embedding.num_embeddings and token in vectors:
                vec = torch.tensor(np.asarray(vectors[token]), dtype=embedding.weight.dtype)
                if vec.numel() != dim:
                    raise ConfigError(f"pre-trained vectors have {vec.numel()} dimensions, the model {dim}",
                                      fix=f"build the model with d_embed={vec.numel()}")
                embedding.weight[idx] = vec
                found += 1
    embedding.weight.requires_grad_(not freeze)
    log.info("pre-trained embeddings: %d of %d tokens found", found, embedding.num_embeddings)
    return found
