"""The one language-model interface, and everything written once over it.

Every language model (count-based, recurrent, Transformer) answers one question: the distribution
of the next token given the context (DESIGN.md).

    state, logits = model.start(ids)        # ids (B, T) int64 -> logits (B, V) for position T
    state, logits = model.step(state, nxt)  # nxt (B,) int64    -> logits (B, V) for the next one

Every language model also declares, instead of callers guessing:

    model.tokenizer      # a `tokenizers.Tokenizer` (or None): text <-> ids
    model.bos_id         # the id put before every text (<s>), or None when the model uses none
    model.eos_id         # the id that ends a text (</s>), or None
    model.max_seq_len    # the longest context it reads, or None when unbounded
    model.start(ids, capacity=None)  # capacity: total length the state must hold (a KV cache)

Text enters through `encode_text` only (`[bos_id] + tokenizer ids (+ [eos_id])`), so
`generate`, `perplexity` and the command line read the same text as the same ids.

`logits` are unnormalised natural-log scores: log-softmax turns them into log-probabilities
(count models may return log-probabilities directly; log-softmax leaves those unchanged). The state
is whatever the model needs: the last n-1 ids (n-gram), hidden states (RNN), a KV cache (GPT).

Models may also offer `teacher_forced_logits(ids) -> (B, T, V)`, the logits after every prefix in
one pass; sequence scoring uses it when present and the start/step loop otherwise, and a test keeps
the two equal for every model. Scoring, perplexity and generation are written against this
protocol only, never per family (after nltk's `lm/api.py`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch

from lmlab.data.tokens import encode_ids
from lmlab.errors import ConfigError, DataError
from lmlab.text import special


@runtime_checkable
class LanguageModel(Protocol):
    """Next-token distributions through `start`/`step` (see the module docstring)."""

    vocab_size: int
    tokenizer: Any
    bos_id: int | None
    eos_id: int | None
    max_seq_len: int | None

    def start(self, ids: torch.Tensor, capacity: int | None = None) -> tuple[Any, torch.Tensor]:
        """Read a prompt `ids` (B, T); return (state, logits (B, V) for the next token)."""
        ...

    def step(self, state: Any, ids: torch.Tensor) -> tuple[Any, torch.Tensor]:
        """Append `ids` (B,) to the context; return (state, logits (B, V) for the next token)."""
        ...


@runtime_checkable
class Encoder(Protocol):
    """Encoders (BERT-style) map ids (B, T) and a keep-mask to hidden states (B, T, D)."""

    def encode(self, ids: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor: ...


def token_id(tokenizer: Any, token: str) -> int | None:
    """The id of `token` in `tokenizer` (None without a tokenizer or without that token)."""
    return None if tokenizer is None else tokenizer.token_to_id(token)


class TokenizedLM:
    """The protocol's declared parts for models built from a `config` with a `tokenizer`.

    `bos_id`/`eos_id`: the config's `bos_id`/`eos_id` when it declares them (an imported
    checkpoint, e.g. GPT-2's `eos_token_id`), else the tokenizer's `<s>`/`</s>` (lmlab trains every
    language model with them), else None. A config with `tokenizer_specials=False` (imported
    checkpoints) declares both itself: None there means none, whatever the tokenizer holds.
    `max_seq_len`: the config's, or None (recurrent and count models read contexts of any length).
    """

    config: Any
    tokenizer: Any
    chat_template: str | None = None  # a Jinja chat template (`lmlab.chat`), when the model has one

    def _special(self, name: str, token: str) -> int | None:
        declared = getattr(self.config, name, None)
        if declared is not None or not getattr(self.config, "tokenizer_specials", True):
            return declared
        return token_id(self.tokenizer, token)

    @property
    def bos_id(self) -> int | None:
        return self._special("bos_id", special.BOS)

    @property
    def eos_id(self) -> int | None:
        return self._special("eos_id", special.EOS)

    @property
    def max_seq_len(self) -> int | None:
        return getattr(self.config, "max_seq_len", None)


def check_tokenizer(tokenizer: Any, vocab_size: int, model: str) -> Any:
    """The tokenizer itself, after checking that each of its ids has a row in the model."""
    if tokenizer is not None and tokenizer.get_vocab_size() > vocab_size:
        raise ConfigError(f"the tokenizer has {tokenizer.get_vocab_size()} tokens but the {model} "
                          f"has vocab_size={vocab_size}", where=model,
                          fix="build the config with vocab_size=tokenizer.get_vocab_size()")
    return tokenizer


def model_device(model: Any) -> torch.device:
    """Where a model computes: a torch module's first parameter, else its `device`, else CPU."""
    if isinstance(model, torch.nn.Module):
        for p in model.parameters():
            return p.device
    return torch.device(getattr(model, "device", None) or "cpu")


def encode_text(model: Any, texts: Sequence[str], *, tokenizer: Any = None, add_bos: bool = True,
                add_eos: bool = False, where: str = "text") -> list[list[int]]:
    """Texts -> id lists the way every lmlab entry point reads text: `[bos] ids [eos]`.

    `bos_id` goes first when the model declares one and `add_bos`; `eos_id` last when `add_eos`
    (perplexity scores the end of the text; generation continues it). The ids come from the
    model's tokenizer, or from `tokenizer` when one is given.
    """
    tokenizer = tokenizer if tokenizer is not None else getattr(model, "tokenizer", None)
    if tokenizer is None:
        raise ConfigError(f"a {type(model).__name__} without a tokenizer cannot read text",
                          where=where, fix="attach one (model.tokenizer = tok) or pass token ids")
    bos = getattr(model, "bos_id", None) if add_bos else None
    eos = getattr(model, "eos_id", None) if add_eos else None
    if add_eos and eos is None:
        raise ConfigError(f"the {type(model).__name__} declares no end-of-text id to score",
                          where=where, fix="pass token ids, or a model whose tokenizer has </s>")
    return encode_ids(list(texts), tokenizer, bos_id=bos, eos_id=eos)


def next_token_log_probs(logits: torch.Tensor) -> torch.Tensor:
    """Log-softmax in float32 over the vocabulary: (B, V) logits -> (B, V) natural-log probs."""
    return torch.log_softmax(logits.float(), dim=-1)


@torch.no_grad()
def token_log_probs(model: LanguageModel, ids: torch.Tensor) -> torch.Tensor:
    """Natural-log probability of each token given its prefix.

    Args:
        model: any `LanguageModel`.
        ids: (B, T) int64, T >= 2; ids[:, 0] is the conditioning start (e.g. <s>/BOS).
    Returns:
        (B, T-1) float32: log p(ids[:, t] | ids[:, :t]) for t = 1..T-1.
    """
    if ids.dim() != 2 or ids.shape[1] < 2:
        raise DataError(f"need ids of shape (B, T) with T >= 2, got {tuple(ids.shape)}",
                        fix="prepend a start token and give at least one token to score")
    targets = ids[:, 1:]
    if hasattr(model, "teacher_forced_logits"):
        logits = model.teacher_forced_logits(ids[:, :-1])  # (B, T-1, V)
        logp = torch.log_softmax(logits.float(), dim=-1)
        return logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    state, logits = model.start(ids[:, :1])
    out = []
    for t in range(1, ids.shape[1]):
        logp = next_token_log_probs(logits)
        out.append(logp.gather(-1, ids[:, t : t + 1]).squeeze(-1))
        if t < ids.shape[1] - 1:
            state, logits = model.step(state, ids[:, t])
    return torch.stack(out, dim=1)


@dataclass(frozen=True)
class PerplexityResult:
    """Corpus-level scores. `log_prob` is the natural-log total over `n_tokens` predicted tokens."""

    log_prob: float
    n_tokens: int

    @property
    def nats_per_token(self) -> float:
        return -self.log_prob / self.n_tokens

    @property
    def bits_per_token(self) -> float:
        return self.nats_per_token / math.log(2)

    @property
    def ppl(self) -> float:
        return math.exp(self.nats_per_token)

    def to_dict(self) -> dict[str, float]:
        return {"ppl": self.ppl, "bits_per_token": self.bits_per_token,
                "log_prob": self.log_prob, "n_tokens": self.n_tokens}


def lm_sequences(model: Any, data: str | Iterable[str] | Iterable[Sequence[int]]) -> list[list[int]]:
    """What `perplexity` scores: texts as `[bos] ids [eos]` (`encode_text`), id lists as given."""
    items = [data] if isinstance(data, str) else list(data)
    if items and all(isinstance(x, str) for x in items):
        return encode_text(model, items, add_eos=True, where="perplexity")
    if any(isinstance(x, str) for x in items):
        raise DataError("perplexity got a mix of texts and id lists", where="perplexity",
                        fix="pass only texts or only token id sequences")
    return [[int(i) for i in x] for x in items]


def context_windows(seq: Sequence[int], context: int | None) -> list[Sequence[int]]:
    """A sequence cut so that a model of `context` positions scores every token once.

    Windows of context + 1 ids overlap by one: each window's first id is the previous window's
    last, conditioned on, not scored again (so a text longer than the context is scored with at
    most `context` tokens of history).

    >>> context_windows([1, 2, 3, 4, 5, 6], 2)
    [[1, 2, 3], [3, 4, 5], [5, 6]]
    """
    seq = list(seq)
    if context is None or len(seq) <= context + 1:
        return [seq]
    return [seq[i : i + context + 1] for i in range(0, len(seq) - 1, context)]


@torch.no_grad()
def perplexity(model: LanguageModel, data: str | Iterable[str] | Iterable[Sequence[int]], *,
               batch_size: int = 32) -> PerplexityResult:
    """Perplexity of any language model over texts or id sequences.

    Args:
        model: any `LanguageModel`.
        data: texts (each read as `[bos] ids [eos]` with the model's tokenizer: every token and the
            end of the text are scored, the start is conditioned on), or id sequences, whose first
            id is conditioned on and the rest scored.
        batch_size: sequences per forward pass.
    Returns:
        a `PerplexityResult` (natural-log total and number of scored tokens).

    A model may offer a faster exact route, `model.corpus_log_prob(sequences)` returning a
    `PerplexityResult` or None when it cannot take these sequences (count models score a whole
    `<s> ... </s>` stream at once); otherwise sequences longer than the model's context are cut
    into `context_windows`, batched by equal length, so no padding ever enters a model, and scored
    through `token_log_probs` in eval mode on the model's device.
    """
    if not getattr(model, "normalised", True):
        raise ConfigError(f"a {type(model).__name__} with unnormalised scores has no perplexity",
                          where="perplexity", fix='use a smoothing that gives probabilities, e.g. '
                          '"kneser_ney" or "add_k"')
    sequences = [s for s in lm_sequences(model, data) if len(s) >= 2]
    if not sequences:
        raise DataError("no sequence has a token to score (each needs >= 2 ids, start included)",
                        where="perplexity", fix="pass a non-empty evaluation corpus")
    fast = getattr(model, "corpus_log_prob", None)
    result = fast(sequences) if fast is not None else None
    if result is not None:
        return result
    by_len: dict[int, list[Sequence[int]]] = {}
    for seq in sequences:
        for window in context_windows(seq, getattr(model, "max_seq_len", None)):
            by_len.setdefault(len(window), []).append(window)
    device = model_device(model)
    was_training = bool(getattr(model, "training", False))
    if was_training:
        model.eval()  # type: ignore[attr-defined]
    try:
        total, count = 0.0, 0
        for length in sorted(by_len):
            group = by_len[length]
            for i in range(0, len(group), batch_size):
                ids = torch.tensor(group[i : i + batch_size], dtype=torch.long, device=device)
                lp = token_log_probs(model, ids)
                total += float(lp.double().sum())
                count += lp.numel()
    finally:
        if was_training:
            model.train()  # type: ignore[attr-defined]
    return PerplexityResult(log_prob=total, n_tokens=count)
