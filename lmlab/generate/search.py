"""Decoding strategies over any `LanguageModel`: greedy, sampling, beam search.

All of them drive the model only through `start(ids)` and `step(state, ids)` (models/base.py);
beam search also reorders the state (`lmlab.generate.state`).

- Greedy: the most likely token at every step (argmax of the processed logits).
- Sampling: a draw from softmax(processed logits), with a `torch.Generator`, never the global RNG,
  so a seed reproduces a run.
- Beam search (Graves, 2012; Sutskever et al., 2014; Wu et al., 2016 for the length penalty): keep
  the `width` best partial sequences by total log-probability; a hypothesis ends at a stop token;
  finished hypotheses are ranked by sum(log p) / length ** length_penalty (length in generated
  tokens, stop token included). Early stopping ends a row once `width` hypotheses finished; without
  it a row ends when no running beam can still beat the worst finished one under the penalty at
  the current length (the bound transformers uses).

Per step the loops compute, besides the choice, each chosen token's log-probability under the
model (before processors) and optionally the `top_logprobs` best alternatives, for teaching.
The prompt is read once; every step feeds a single token (KV cache, RNN state, n-gram context).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from lmlab.generate.processors import Processor, apply_processors
from lmlab.generate.state import reorder_state


@dataclass
class Step:
    """One decoding step for a batch: chosen tokens (B,), their model log-probs (B,) and the
    `top_logprobs` best alternatives (B, k) ids and log-probs (None when k = 0)."""

    tokens: torch.Tensor
    log_probs: torch.Tensor
    top_ids: torch.Tensor | None = None
    top_log_probs: torch.Tensor | None = None


@dataclass
class Hypothesis:
    """A finished beam: generated ids, their model log-probs, alternatives, and the ranking score."""

    ids: list[int]
    log_probs: list[float]
    score: float
    finish_reason: str
    top: list[list[tuple[int, float]]] = field(default_factory=list)


def start_model(model: Any, ids: torch.Tensor, capacity: int) -> tuple[Any, torch.Tensor]:
    """`model.start(ids)`, telling models whose `start` takes `capacity` how long the run will be
    (a KV cache then allocates exactly prompt + new tokens instead of the whole context)."""
    try:
        params = inspect.signature(model.start).parameters
    except (TypeError, ValueError):
        params = {}
    if "capacity" in params:
        return model.start(ids, capacity=capacity)
    return model.start(ids)


def _top(log_probs: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k best (ids, log-probs) of each row of log_probs (B, V): 2 x (B, k)."""
    values, ids = log_probs.topk(k, dim=-1)
    return ids, values


def token_steps(model: Any, ids: torch.Tensor, *, max_new_tokens: int,
                processors: Sequence[Processor] = (), sample: bool = False,
                generator: torch.Generator | None = None, top_logprobs: int = 0) -> Iterator[Step]:
    """Greedy or sampled decoding, one `Step` per new token, for prompts ids (B, T).

    The consumer decides when to stop (stop tokens, stop strings): it simply stops iterating.
    Rows that finished early keep being fed their own choices; their later steps are ignored.
    """
    b, t0 = ids.shape
    history = None
    with torch.inference_mode():
        state, logits = start_model(model, ids, t0 + max_new_tokens)
        if processors:
            history = ids.new_empty(b, t0 + max_new_tokens)
            history[:, :t0] = ids
    for t in range(max_new_tokens):
        with torch.inference_mode():
            logits = logits.float()
            scores = apply_processors(processors, logits, history[:, : t0 + t]) if processors else logits
            model_lp = logits.log_softmax(dim=-1)  # (B, V), one fused pass
            if sample:
                tokens = torch.multinomial(scores.softmax(dim=-1), 1, generator=generator).squeeze(1)
                log_probs = model_lp.gather(1, tokens[:, None]).squeeze(1)
            elif scores is logits:  # plain greedy: the best logit is the chosen token's
                log_probs, tokens = model_lp.max(dim=-1)
            else:
                tokens = scores.argmax(dim=-1)
                log_probs = model_lp.gather(1, tokens[:, None]).squeeze(1)
            top = _top(model_lp, top_logprobs) if top_logprobs else (None, None)
        yield Step(tokens, log_probs, *top)
        if t + 1 < max_new_tokens:
            with torch.inference_mode():
                if history is not None:
                    history[:, t0 + t] = tokens
                state, logits = model.step(state, tokens)


def beam_search(model: Any, ids: torch.Tensor, *, width: int, max_new_tokens: int,
                processors: Sequence[Processor] = (), length_penalty: float = 1.0,
                early_stopping: bool = True, stop_token_ids: Sequence[int] = (),
                n_best: int = 1, top_logprobs: int = 0) -> list[list[Hypothesis]]:
    """Beam search from prompts ids (B, T); returns, per prompt, the `n_best` best hypotheses."""
    with torch.inference_mode():
        return _beam_search(model, ids, width, max_new_tokens, processors, length_penalty,
                            early_stopping, frozenset(stop_token_ids), n_best, top_logprobs)


def _beam_search(model, ids, width, max_new, processors, length_penalty, early_stopping,
                 stops, n_best, top_k) -> list[list[Hypothesis]]:
    b, t0 = ids.shape
    w = width
    device = ids.device
    state, logits = start_model(model, ids, t0 + max_new)
    rows = torch.arange(b, device=device).repeat_interleave(w)  # (B*W,) prompt of each beam
    state = reorder_state(model, state, rows, b)
    logits = logits.index_select(0, rows)
    history = ids.new_empty(b * w, t0 + max_new)
    history[:, :t0] = ids.index_select(0, rows)
    beam_scores = torch.zeros(b, w, device=device)
    beam_scores[:, 1:] = float("-inf")  # all beams start equal: expand only the first one
    beam_scores = beam_scores.view(-1)
    lp_hist = torch.zeros(b * w, max_new, device=device)
    top_ids = torch.zeros(b * w, max_new, max(top_k, 1), dtype=torch.long, device=device)
    top_lps = torch.zeros(b * w, max_new, max(top_k, 1), device=device)
    finished: list[list[Hypothesis]] = [[] for _ in range(b)]
    done = [False] * b

    def hypothesis(src: int, length: int, total: float, reason: str) -> Hypothesis:
        toks = history[src, t0 : t0 + length].tolist()
        alts = ([list(zip(top_ids[src, i].tolist(), top_lps[src, i].tolist(), strict=True))
                 for i in range(length)] if top_k else [])
        return Hypothesis(toks, lp_hist[src, :length].tolist(), total / length ** length_penalty,
                          reason, alts)

    for t in range(max_new):
        logits = logits.float()
        model_lp = logits.log_softmax(dim=-1)  # (BW, V)
        lp = (model_lp if not processors else
              apply_processors(processors, logits, history[:, : t0 + t]).log_softmax(dim=-1))
        vocab = lp.shape[-1]
        cand = (lp + beam_scores[:, None]).view(b, w * vocab)
        cand_scores, cand_idx = cand.topk(min(2 * w, w * vocab), dim=1)  # (B, 2W)
        src_beam = (cand_idx // vocab).tolist()
        cand_tok = (cand_idx % vocab).tolist()
        cand_sc = cand_scores.tolist()
        top = _top(model_lp, top_k) if top_k else None
        next_src: list[int] = []
        next_tok: list[int] = []
        next_sc: list[float] = []
        for r in range(b):
            kept = 0
            for j, (beam, tok, sc) in enumerate(zip(src_beam[r], cand_tok[r], cand_sc[r], strict=True)):
                src = r * w + beam
                if tok in stops:
                    if j < w and not done[r] and sc > float("-inf"):
                        hyp_src = src
                        _record(history, lp_hist, top_ids, top_lps, model_lp, top, hyp_src, t0, t, tok)
                        finished[r].append(hypothesis(hyp_src, t + 1, sc, "stop_token"))
                    continue
                next_src.append(src)
                next_tok.append(tok)
                next_sc.append(sc if not done[r] else float("-inf"))
                kept += 1
                if kept == w:
                    break
            while kept < w:  # fewer than W non-stop candidates (tiny vocabularies)
                next_src.append(r * w)
                next_tok.append(cand_tok[r][0])
                next_sc.append(float("-inf"))
                kept += 1
            if not done[r] and len(finished[r]) >= w:
                if early_stopping:
                    done[r] = True
                else:
                    worst = min(h.score for h in finished[r])
                    best_running = max(next_sc[r * w : r * w + w])
                    done[r] = worst >= best_running / (t + 1) ** length_penalty
        if all(done):
            break
        src_t = torch.tensor(next_src, device=device)
        tok_t = torch.tensor(next_tok, device=device)
        history = history.index_select(0, src_t)
        history[:, t0 + t] = tok_t
        lp_hist = lp_hist.index_select(0, src_t)
        lp_hist[:, t] = model_lp[src_t, tok_t]
        if top is not None:
            top_ids = top_ids.index_select(0, src_t)
            top_lps = top_lps.index_select(0, src_t)
            top_ids[:, t] = top[0].index_select(0, src_t)
            top_lps[:, t] = top[1].index_select(0, src_t)
        beam_scores = torch.tensor(next_sc, device=device)
        if t + 1 < max_new:
            state = reorder_state(model, state, src_t, b * w)
            state, logits = model.step(state, tok_t)
    else:
        for r in range(b):
            if done[r]:
                continue
            for i in range(w):
                sc = float(beam_scores[r * w + i])
                if sc > float("-inf"):
                    finished[r].append(hypothesis(r * w + i, max_new, sc, "length"))
    return [sorted(hyps, key=lambda h: -h.score)[:n_best] for hyps in finished]


def _record(history, lp_hist, top_ids, top_lps, model_lp, top, src, t0, t, tok) -> None:
    """Write a finishing token into beam `src`'s row in place (that row is not reused after)."""
    history[src, t0 + t] = tok
    lp_hist[src, t] = model_lp[src, tok]
    if top is not None:
        top_ids[src, t] = top[0][src]
        top_lps[src, t] = top[1][src]
