"""The Elman recurrent network written out (Elman 1990, "Finding Structure in Time").

    h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)          x_t (B, D_in), h_t (B, H)

A loop over time a student can read line by line. It computes exactly what torch's fused
`nn.RNN(nonlinearity="tanh")` computes (b = b_ih + b_hh there); a test copies the weights between
the two and checks equality, and the language model (`lm.py`) runs the fused layer for speed.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class ElmanRNN(nn.Module):
    """One Elman layer over a sequence: x (B, T, D_in), h0 (B, H) -> outputs (B, T, H), h_T (B, H)."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.W_xh = nn.Parameter(torch.empty(hidden_size, input_size))
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.b = nn.Parameter(torch.empty(hidden_size))
        bound = 1 / math.sqrt(hidden_size)  # torch's RNN initialisation
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        B, T, _ = x.shape
        h = x.new_zeros(B, self.hidden_size) if h0 is None else h0
        xw = x @ self.W_xh.T + self.b                       # (B, T, H): the input term for every t at once
        outputs = []
        for t in range(T):
            h = torch.tanh(h @ self.W_hh.T + xw[:, t])      # h_t = tanh(W_hh h_{t-1} + W_xh x_t + b)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h

    @classmethod
    def from_torch(cls, rnn: nn.RNN) -> ElmanRNN:
        """The same layer as a one-layer, unidirectional, batch-first `nn.RNN(nonlinearity="tanh")`."""
        layer = cls(rnn.input_size, rnn.hidden_size)
        with torch.no_grad():
            layer.W_xh.copy_(rnn.weight_ih_l0)
            layer.W_hh.copy_(rnn.weight_hh_l0)
            layer.b.copy_(rnn.bias_ih_l0 + rnn.bias_hh_l0)
        return layer
