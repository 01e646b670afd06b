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


def row_scale(rows, n_rows: int, max_row_updates: int | None):
    """Per-entry factor min(1, max_row_updates / n), n = how often that entry's row occurs in
    `rows`: (len(rows),) float, or None when no row occurs more than `max_row_updates` times.

    Sequential SGD (word2vec.c, gensim) lets each update see the previous one, so a frequent
    word's vector stops moving once its scores saturate. A batch computes all its gradients at
    the same point: a row repeated hundreds of times (a small vocabulary, or "de" as a negative)
    would take hundreds of stale steps at once and can diverge. Scaling its summed step to
    `max_row_updates` steps bounds that. The factors multiply the small (B, 1+K) coefficient
    tensors, never the (B, D) gradients, so the check costs almost nothing.
    """
    import torch

    if max_row_updates is None:
        return None
    repeats = torch.bincount(rows, minlength=n_rows).index_select(0, rows)
    if int(repeats.max()) <= max_row_updates:
        return None
    return max_row_updates / repeats.clamp_min(max_row_updates).float()


def _scaled(g, scale, shape):
    """g times `scale` reshaped to broadcast (or g itself when scale is None)."""
    return g if scale is None else g * scale.view(shape)


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
    B, K1 = out_idx.shape
    s_in = row_scale(inputs, w_in.shape[0], max_row_updates)
    s_out = row_scale(out_idx.reshape(-1), w_out.shape[0], max_row_updates)
    grad_h = torch.bmm(_scaled(g, s_in, (B, 1)).unsqueeze(1), outs).squeeze(1)        # (B, D)
    grad_out = _scaled(g, s_out, (B, K1)).unsqueeze(2) * h.unsqueeze(1)               # (B, 1+K, D)
    w_out.index_add_(0, out_idx.reshape(-1), grad_out.reshape(-1, h.shape[1]))
    w_in.index_add_(0, inputs, grad_h)
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
    K1 = out_idx.shape[1]
    flat = valid.reshape(-1)
    ctx_rows = contexts.reshape(-1)[flat]                                # (P,) valid contexts
    s_out = row_scale(out_idx.reshape(-1), w_out.shape[0], max_row_updates)
    s_in = row_scale(ctx_rows, w_in.shape[0], max_row_updates)
    if s_in is not None:  # back to the (C, S) slots; empty slots keep factor 1 (their g is 0)
        s_in = torch.ones(C * S, device=g.device).masked_scatter_(flat, s_in)
    grad_out = torch.bmm(_scaled(g, s_out, (C, 1, K1)).transpose(1, 2), h)   # (C, 1+K, D)
    grad_h = torch.bmm(_scaled(g, s_in, (C, S, 1)), outs)                    # (C, S, D)
    w_out.index_add_(0, out_idx.reshape(-1), grad_out.reshape(-1, D))
    w_in.index_add_(0, ctx_rows, grad_h.reshape(-1, D)[flat])
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
    K1 = out_idx.shape[1]
    s_out = row_scale(out_idx.reshape(-1), w_out.shape[0], max_row_updates)
    grad_h = torch.bmm(g.unsqueeze(1), outs).squeeze(1)                 # (B, D)
    grad_out = _scaled(g, s_out, (B, K1)).unsqueeze(2) * h.unsqueeze(1)  # (B, 1+K, D)
    w_out.index_add_(0, out_idx.reshape(-1), grad_out.reshape(-1, D))
    grad_ctx = grad_h.index_select(0, groups)                           # (P, D)
    s_in = row_scale(contexts, w_in.shape[0], max_row_updates)
    if s_in is not None:
        grad_ctx.mul_(s_in.unsqueeze(1))
    w_in.index_add_(0, contexts, grad_ctx)
    return loss
