"""LSTM and GRU cells written out, on the parameters of torch's fused `nn.LSTM`/`nn.GRU`.

LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000):

    i = σ(W_ii x + b_ii + W_hi h + b_hi)      input gate
    f = σ(W_if x + b_if + W_hf h + b_hf)      forget gate
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)   candidate cell
    o = σ(W_io x + b_io + W_ho h + b_ho)      output gate
    c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')

GRU (Cho et al. 2014):

    r = σ(W_ir x + b_ir + W_hr h + b_hr)      reset gate
    z = σ(W_iz x + b_iz + W_hz h + b_hz)      update gate
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    h' = (1 - z) ⊙ n + z ⊙ h

torch stacks the gate matrices in the orders (i, f, g, o) and (r, z, n); `unrolled` runs these
equations over time and layers with a module's own weights, so a test can check them against the
fused kernels. Training uses the fused layers (cuDNN on GPUs); these are for reading.
"""

from __future__ import annotations

import torch
from torch import nn


def lstm_cell(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
              b_ih: torch.Tensor, b_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step: x (B, D), h and c (B, H) -> (h', c')."""
    gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh            # (B, 4H) in the order i, f, g, o
    i, f, g, o = gates.chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c + i * g
    return o * torch.tanh(c), c


def gru_cell(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
             b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """One GRU step: x (B, D), h (B, H) -> h'."""
    xr, xz, xn = (x @ w_ih.T + b_ih).chunk(3, dim=-1)        # order r, z, n
    hr, hz, hn = (h @ w_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return (1 - z) * n + z * h


def elman_cell(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
               b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """One Elman step: h' = tanh(W_hh h + W_xh x + b), with torch's two biases b = b_ih + b_hh."""
    return torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


def unrolled(rnn: nn.RNNBase, x: torch.Tensor, state=None):
    """Run a unidirectional batch-first `nn.RNN`/`nn.LSTM`/`nn.GRU` step by step with the cells above.

    Args:
        rnn: the fused module whose weights to use (dropout between layers is not applied).
        x: (B, T, D) inputs.
        state: h0 (L, B, H), or (h0, c0) for an LSTM; zeros when None.
    Returns:
        outputs (B, T, H) of the top layer and the final state, as the fused module returns them.
    """
    if rnn.bidirectional or not rnn.batch_first:
        raise ValueError("unrolled() covers unidirectional batch_first modules")
    is_lstm = isinstance(rnn, nn.LSTM)
    B, L, H = x.shape[0], rnn.num_layers, rnn.hidden_size
    zeros = x.new_zeros(L, B, H)
    if is_lstm:
        h0, c0 = state if state is not None else (zeros, zeros)
    else:
        h0, c0 = (state if state is not None else zeros), None
    layer_input, h_last, c_last = x, [], []
    for layer in range(L):
        w = [getattr(rnn, f"{name}_l{layer}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        h = h0[layer]
        c = c0[layer] if is_lstm else None
        outs = []
        for t in range(layer_input.shape[1]):
            if is_lstm:
                h, c = lstm_cell(layer_input[:, t], h, c, *w)
            elif isinstance(rnn, nn.GRU):
                h = gru_cell(layer_input[:, t], h, *w)
            else:
                h = elman_cell(layer_input[:, t], h, *w)
            outs.append(h)
        layer_input = torch.stack(outs, dim=1)
        h_last.append(h)
        c_last.append(c)
    h_n = torch.stack(h_last)
    return layer_input, ((h_n, torch.stack(c_last)) if is_lstm else h_n)
