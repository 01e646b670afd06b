"""The written-out Elman, LSTM and GRU equations equal torch's fused layers on the same weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lmlab.models.rnn.cells import unrolled
from lmlab.models.rnn.elman import ElmanRNN


def test_elman_written_out_equals_nn_rnn():
    torch.manual_seed(0)
    fused = nn.RNN(5, 7, nonlinearity="tanh", batch_first=True)
    x, h0 = torch.randn(3, 6, 5), torch.randn(1, 3, 7)
    ref_out, ref_h = fused(x, h0)
    out, h = ElmanRNN.from_torch(fused)(x, h0[0])
    torch.testing.assert_close(out, ref_out, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(h, ref_h[0], atol=1e-6, rtol=1e-5)


def test_elman_one_step_by_hand():
    layer = ElmanRNN(1, 1)
    with torch.no_grad():
        layer.W_xh.fill_(0.5)
        layer.W_hh.fill_(2.0)
        layer.b.fill_(-0.25)
    out, _ = layer(torch.tensor([[[1.0], [0.0]]]), torch.tensor([[0.1]]))
    h1 = torch.tanh(torch.tensor(2.0 * 0.1 + 0.5 * 1.0 - 0.25))
    h2 = torch.tanh(2.0 * h1 - 0.25)
    torch.testing.assert_close(out.flatten(), torch.stack([h1, h2]))


@pytest.mark.parametrize("kind", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize("with_state", [False, True])
def test_unrolled_cells_equal_fused_layers(kind, with_state):
    torch.manual_seed(1)
    fused = kind(4, 6, num_layers=2, batch_first=True)
    x = torch.randn(2, 5, 4)
    state = None
    if with_state:
        h0 = torch.randn(2, 2, 6)
        state = (h0, torch.randn(2, 2, 6)) if kind is nn.LSTM else h0
    ref_out, ref_state = fused(x, state)
    out, got_state = unrolled(fused, x, state)
    torch.testing.assert_close(out, ref_out, atol=1e-5, rtol=1e-5)
    if kind is nn.LSTM:
        for a, b in zip(got_state, ref_state, strict=True):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    else:
        torch.testing.assert_close(got_state, ref_state, atol=1e-5, rtol=1e-5)
