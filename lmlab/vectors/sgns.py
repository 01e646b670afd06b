"""The SGD steps of word2vec with negative sampling, written out by hand (no autograd).

Mikolov et al. 2013 (NeurIPS), "Distributed Representations of Words and Phrases and their
Compositionality"; Goldberg & Levy 2014, "word2vec Explained" (the gradient). For a hidden vector
h (an input word vector, or the mean of the context vectors in CBOW), its target word w and K
negatives n_k, with s_o = h · u_o and g_o = (label_o - σ(s_o)) · lr (label 1 for w, 0 for n_k):

    u_o += g_o · h            for the target and each negative (output vectors, `w_out`)
    h   += Σ_o g_o · u_o      pushed back to the input vectors (`w_in`)

which is gradient ascent on log σ(h·u_w) + Σ_k log σ(-h·u_{n_k}). Each step updates a batch in
place with `index_add_`; the tests check every step against autograd on the same loss.
"""

from __future__ import annotations


def _ns_grad(h, w_out, out_idx, lr: float, with_loss: bool):
    """Scores of h against its target (column 0) and negatives; returns (g, outs, loss_sum).

    Args:
        h: (B, D) hidden vectors; out_idx: (B, 1+K) output rows; lr: learning rate.
    Returns:
        g (B, 1+K) = (label - σ(score)) · lr, with negatives equal to the target masked out;
        outs (B, 1+K, D) the output vectors used; the summed negative log-likelihood (float).
    """
    import torch

    B, K1 = out_idx.shape
    outs = w_out.index_select(0, out_idx.reshape(-1)).view(B, K1, -1)   # (B, 1+K, D)
    scores = (outs * h.unsqueeze(1)).sum(2)                             # (B, 1+K)
    sig = torch.sigmoid(scores)
    # A negative that is the target itself is skipped, as in word2vec.c.
    mask = out_idx[:, 1:] != out_idx[:, :1]
    loss = 0.0
    if with_loss:
        p_true = torch.cat([sig[:, :1], 1 - sig[:, 1:]], 1).clamp_min(1e-7)
        loss = float(-(p_true[:, 0].log().sum() + (p_true[:, 1:].log() * mask).sum()))
    g = -sig
    g[:, 0] += 1.0
    g[:, 1:] *= mask
    g *= lr
    return g, outs, loss


def add_rows(w, rows, grads, max_row_updates: int | None = None) -> None:
    """w[rows] += grads, summing repeated rows; a row repeated n > `max_row_updates` times in
    the batch gets its sum scaled by max_row_updates / n.

    Sequential SGD (word2vec.c, gensim) lets each update see the previous one, so a frequent
    word's vector stops moving once its scores saturate. A batch computes all its gradients at
    the same point: a row repeated hundreds of times (a small vocabulary, or "de" as a negative)
    would take hundreds of stale steps at once and can diverge. The cap bounds that step.
    """
    import torch

    if max_row_updates is not None:
        repeats = torch.bincount(rows, minlength=w.shape[0]).index_select(0, rows)   # (B,)
        if int(repeats.max()) > max_row_updates:
            scale = max_row_updates / repeats.clamp_min(max_row_updates).float()
            grads = grads * scale.unsqueeze(1)
    w.index_add_(0, rows, grads)


def sgns_step(w_in, w_out, inputs, targets, negatives, lr: float, *,
              max_row_updates: int | None = None, with_loss: bool = True) -> float:
    """One skip-gram negative-sampling SGD step, in place on `w_in` and `w_out`.

    Args:
        w_in, w_out: (V, D) float32 input and output vectors (updated in place).
        inputs: (B,) int64 input words (contexts); targets: (B,) words to predict (centres).
        negatives: (B, K) int64 noise words; lr: learning rate.
    Returns:
        the summed loss -log σ(v·u_w) - Σ log σ(-v·u_n) over the batch (before the update),
        or 0.0 when not `with_loss` (it costs a few percent of the step).
    """
    import torch

    h = w_in.index_select(0, inputs)                                 # (B, D)
    out_idx = torch.cat([targets.unsqueeze(1), negatives], 1)        # (B, 1+K)
    g, outs, loss = _ns_grad(h, w_out, out_idx, lr, with_loss)
    grad_h = torch.bmm(g.unsqueeze(1), outs).squeeze(1)                 # (B, D)
    add_rows(w_out, out_idx.reshape(-1), (g.unsqueeze(2) * h.unsqueeze(1)).reshape(-1, h.shape[1]),
             max_row_updates)
    add_rows(w_in, inputs, grad_h, max_row_updates)
    return loss


def sgns_window_step(w_in, w_out, contexts, valid, targets, negatives, lr: float, *,
                     max_row_updates: int | None = None, with_loss: bool = True) -> float:
    """Skip-gram step for whole windows: the contexts of a centre share its K negatives.

    The same objective as `sgns_step` for each (context, centre) pair, but the negatives are
    drawn once per centre instead of once per pair, so each centre's 1+K output vectors are
    gathered once and scored against all its contexts with one small matrix product
    (C, S, D) @ (C, D, 1+K): about three times less memory traffic than pair by pair.

    Args:
        contexts: (C, S) context words of C centres (S = 2·window slots; any id where not valid).
        valid: (C, S) bool, which slots hold a context; targets: (C,) centres; negatives: (C, K).
    Returns:
        the summed loss over the valid pairs (before the update), or 0.0 when not `with_loss`.
    """
    import torch

    C, S = contexts.shape
    D = w_in.shape[1]
    h = w_in.index_select(0, contexts.reshape(-1)).view(C, S, D)        # (C, S, D)
    out_idx = torch.cat([targets.unsqueeze(1), negatives], 1)            # (C, 1+K)
    outs = w_out.index_select(0, out_idx.reshape(-1)).view(C, -1, D)     # (C, 1+K, D)
    sig = torch.sigmoid(torch.bmm(h, outs.transpose(1, 2)))              # (C, S, 1+K)
    keep_out = torch.cat([torch.ones_like(targets, dtype=torch.bool).unsqueeze(1),
                          negatives != targets.unsqueeze(1)], 1)         # (C, 1+K)
    mask = valid.unsqueeze(2) & keep_out.unsqueeze(1)                    # (C, S, 1+K)
    loss = 0.0
    if with_loss:
        p_true = torch.cat([sig[..., :1], 1 - sig[..., 1:]], 2).clamp_min(1e-7)
        loss = float(-(p_true.log() * mask).sum())
    g = -sig
    g[..., 0] += 1.0
    g *= mask
    g *= lr
    grad_out = torch.bmm(g.transpose(1, 2), h)                          # (C, 1+K, D)
    grad_h = torch.bmm(g, outs)                                          # (C, S, D)
    add_rows(w_out, out_idx.reshape(-1), grad_out.reshape(-1, D), max_row_updates)
    flat = valid.reshape(-1)
    add_rows(w_in, contexts.reshape(-1)[flat], grad_h.reshape(-1, D)[flat], max_row_updates)
    return loss


def cbow_step(w_in, w_out, contexts, groups, targets, negatives, lr: float, *,
              offsets=None, max_row_updates: int | None = None, with_loss: bool = True) -> float:
    """One CBOW negative-sampling SGD step, in place.

    Args:
        contexts: (P,) context words, grouped by centre; groups: (P,) which of the B centres each
            context belongs to (every centre has at least one, groups sorted); targets: (B,)
            centre words; negatives: (B, K); offsets: (B,) start of each centre's contexts
            (computed from `groups` when None).
    Returns:
        the summed loss over the B centres (before the update).
    """
    import torch
    import torch.nn.functional as F

    B, D = targets.shape[0], w_in.shape[1]
    if offsets is None:
        counts = torch.bincount(groups, minlength=B)
        offsets = torch.cumsum(counts, 0) - counts
    h = F.embedding_bag(contexts, w_in, offsets, mode="mean")         # (B, D) mean of contexts
    out_idx = torch.cat([targets.unsqueeze(1), negatives], 1)
    g, outs, loss = _ns_grad(h, w_out, out_idx, lr, with_loss)
    grad_h = torch.bmm(g.unsqueeze(1), outs).squeeze(1)                 # (B, D)
    add_rows(w_out, out_idx.reshape(-1), (g.unsqueeze(2) * h.unsqueeze(1)).reshape(-1, D),
             max_row_updates)
    add_rows(w_in, contexts, grad_h.index_select(0, groups), max_row_updates)
    return loss
