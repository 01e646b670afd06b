"""`generate` and `stream`: text from any language model, with every decoding strategy.

    >>> from lmlab.generate import generate, GenerationConfig
    >>> out = generate(model, "¿Dónde está", GenerationConfig(strategy="sample", top_p=0.9, seed=1))
    >>> out.text, out.ids, out.log_probs                       # doctest: +SKIP

`stream` is the primitive: it yields a `TokenEvent` per new token (the text it adds, its model
log-probability, the best alternatives) as soon as it is chosen; `generate` folds that stream into
one `Generation` per prompt (beam search, which only knows its answer at the end, is the
exception: `generate` runs it and `stream` replays the best hypothesis).

Prompts are ids (a list of ints, a 1-D tensor), strings, or a batch of either (a list, or a 2-D
tensor). A string is read the way every lmlab entry point reads text
(`lmlab.models.base.encode_text`): the model's `bos_id` (its `<s>`), when it has one, then the
tokenizer's ids; ids are used as given. Generation stops at the model's `eos_id` unless
`stop_token_ids` says otherwise. A batch is split into groups of equal prompt length, each decoded
as one batch, so no padding ever reaches a model and batched generation gives the same tokens as
one prompt at a time, for every model.

Encoder-decoders (models with `condition` and no `start`) read each prompt as a source
(`model.source_ids(texts)` for text) and generate its target from the decoder's `bos_id`; that is
`generate(model.condition(src_ids), [[lm.bos_id]], config)` one source at a time.
"""

from __future__ import annotations

import dataclasses
import numbers
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from lmlab.config import Config
from lmlab.errors import ConfigError, DataError, check_choice, check_range
from lmlab.generate.detokenize import IncrementalDecoder
from lmlab.generate.processors import build_processors
from lmlab.generate.search import Hypothesis, beam_search, token_steps
from lmlab.generate.stopping import FinishReason, StopStringMatcher
from lmlab.models.base import encode_text, model_device

Strategy = Literal["greedy", "sample", "beam"]
STRATEGIES = ("greedy", "sample", "beam")
Prompt = str | Sequence[int] | torch.Tensor
Prompts = Prompt | Sequence[str] | Sequence[Sequence[int]]


@dataclass
class GenerationConfig(Config):
    """How to decode. Units: log-probabilities are natural logs; lengths count tokens.

    Attributes:
        strategy: "greedy", "sample" (temperature / top-k / top-p) or "beam".
        max_new_tokens: tokens to generate at most per prompt.
        temperature: sampling temperature >= 0; 0 means greedy.
        top_k: sample among the k most likely tokens only (0 = all).
        top_p: nucleus sampling, in (0, 1]: the smallest set of tokens reaching this mass.
        repetition_penalty: CTRL penalty on tokens already present (1 = none, > 1 discourages).
        no_repeat_ngram_size: forbid repeating any n-gram of this size (0 = off).
        num_beams, length_penalty, early_stopping, n_best: beam search width, the exponent of the
            length normalisation, whether a prompt stops once `num_beams` hypotheses finished, and
            how many hypotheses to return (the n-best list, at most num_beams).
        stop_strings: generation of a prompt ends before the first of these in its text.
        stop_token_ids: ids that end a sequence, kept in the ids, not in the text (None: the
            model's `eos_id`, e.g. `</s>`; () for none).
        seed: seed of the sampling generator (None: a fresh random seed each call).
        top_logprobs: how many best alternatives to report per token (0 = none).
        truncate: prompt + new tokens longer than the model's context: "error", or "left" to keep
            the end of the prompt.
        max_context: context length to enforce (default: the model's `max_seq_len`, if any).
    """

    strategy: Strategy = "greedy"
    max_new_tokens: int = 32
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    num_beams: int = 4
    length_penalty: float = 1.0
    early_stopping: bool = True
    n_best: int = 1
    stop_strings: tuple[str, ...] = ()
    stop_token_ids: tuple[int, ...] | None = None
    seed: int | None = None
    top_logprobs: int = 0
    truncate: Literal["error", "left"] = "error"
    max_context: int | None = None

    def __post_init__(self) -> None:
        self.stop_strings = tuple(self.stop_strings)
        if self.stop_token_ids is not None:
            self.stop_token_ids = tuple(int(i) for i in self.stop_token_ids)
        check_choice("strategy", self.strategy, STRATEGIES)
        check_range("max_new_tokens", self.max_new_tokens, 1)
        check_range("temperature", self.temperature, 0)
        check_range("top_k", self.top_k, 0)
        check_range("top_p", self.top_p, 0, 1, low_open=True)
        check_range("repetition_penalty", self.repetition_penalty, 0, low_open=True)
        check_range("no_repeat_ngram_size", self.no_repeat_ngram_size, 0)
        check_range("num_beams", self.num_beams, 1)
        check_range("n_best", self.n_best, 1, self.num_beams)
        check_range("top_logprobs", self.top_logprobs, 0)
        check_choice("truncate", self.truncate, ("error", "left"))
        if self.max_context is not None:
            check_range("max_context", self.max_context, 1)
        if self.strategy != "sample":
            for name, neutral in (("temperature", 1.0), ("top_k", 0), ("top_p", 1.0)):
                if getattr(self, name) != neutral:
                    raise ConfigError(f"{name}={getattr(self, name)!r} only applies to sampling",
                                      fix=f"use strategy='sample' or leave {name} at {neutral!r}")

    @property
    def greedy_choice(self) -> bool:
        """Whether tokens are chosen by argmax (greedy, or sampling at temperature 0)."""
        return self.strategy == "greedy" or (self.strategy == "sample" and self.temperature == 0)


@dataclass
class TokenEvent:
    """One generated token of prompt number `row`, as `stream` yields it.

    `text` is the text this token adds (possibly "" while a character or a possible stop string is
    incomplete; None without a tokenizer). `finish_reason` is set on the last event of a row.
    """

    row: int
    id: int
    log_prob: float
    text: str | None
    top: list[tuple[int, float]] = field(default_factory=list)
    finish_reason: FinishReason | None = None


@dataclass
class Generation:
    """The continuation of one prompt.

    Attributes:
        prompt_ids: the ids the model read (after truncation, if any).
        ids: generated ids (a final stop token included).
        log_probs: natural-log model probability of each generated id (before processors).
        top: per generated id, the best alternatives as (id, log_prob), best first (or empty).
        text: the decoded continuation (None without a tokenizer), cut before a stop string.
        finish_reason: "length", "stop_token" or "stop_string".
        score: beam search's ranking score; otherwise the total log-probability.
        nbest: beam search's n-best list (this one first); empty for other strategies.
    """

    prompt_ids: list[int]
    ids: list[int] = field(default_factory=list)
    log_probs: list[float] = field(default_factory=list)
    top: list[list[tuple[int, float]]] = field(default_factory=list)
    text: str | None = None
    finish_reason: FinishReason = "length"
    score: float = 0.0
    nbest: list[Generation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["nbest"] = [{k: v for k, v in g.to_dict().items() if k != "nbest"} for g in self.nbest]
        return out


# ---- inputs ---------------------------------------------------------------------------------


def normalize_prompts(prompts: Prompts, model: Any = None, tokenizer: Any = None, *,
                      add_bos: bool = True, encode: Any = None) -> tuple[list[list[int]], bool]:
    """Prompts in any accepted form -> (list of id lists, whether a single prompt was given).

    Text is read with `encode(texts)` when given, else as `encode_text` reads it for the model
    (its `bos_id` first when `add_bos`; `tokenizer` in place of the model's own when given).
    """
    def _encode(text: str) -> list[int]:
        if encode is not None:
            return encode([text])[0]
        return encode_text(model, [text], tokenizer=tokenizer, add_bos=add_bos, where="generate")[0]

    if isinstance(prompts, str):
        return [_encode(prompts)], True
    if isinstance(prompts, torch.Tensor):
        if prompts.dim() == 1:
            return [prompts.tolist()], True
        if prompts.dim() == 2:
            return prompts.tolist(), False
        raise DataError(f"prompt ids must be 1-D or 2-D, got shape {tuple(prompts.shape)}",
                        where="generate", fix="pass (T,) ids for one prompt or (B, T) for a batch")
    items = list(prompts)
    if all(isinstance(p, numbers.Integral) for p in items):
        return [[int(p) for p in items]], True
    out = []
    for p in items:
        if isinstance(p, str):
            out.append(_encode(p))
        elif isinstance(p, torch.Tensor):
            out.append(p.reshape(-1).tolist())
        else:
            out.append([int(i) for i in p])
    return out, False


def context_limit(model: Any, config: GenerationConfig) -> int | None:
    """The longest sequence (prompt + new tokens) the model takes, or None when unbounded."""
    if config.max_context is not None:
        return config.max_context
    limit = getattr(model, "max_seq_len", None)
    if limit is None:
        limit = getattr(getattr(model, "config", None), "max_seq_len", None)
    return limit


def _fit_prompt(ids: list[int], row: int, model: Any, config: GenerationConfig) -> list[int]:
    if not ids:
        raise DataError(f"prompt {row} is empty", where="generate",
                        fix="give at least one token, e.g. the start-of-sequence id (<s>)")
    vocab = getattr(model, "vocab_size", None)
    if vocab is not None and not all(0 <= i < vocab for i in ids):
        bad = next(i for i in ids if not 0 <= i < vocab)
        raise DataError(f"prompt {row} has id {bad} outside the vocabulary [0, {vocab})",
                        where="generate", fix="encode the prompt with the model's own tokenizer")
    limit = context_limit(model, config)
    if limit is None or len(ids) + config.max_new_tokens <= limit:
        return ids
    room = limit - config.max_new_tokens
    if config.truncate == "left" and room >= 1:
        return ids[-room:]
    raise DataError(
        f"prompt {row} has {len(ids)} tokens and max_new_tokens={config.max_new_tokens}, more than "
        f"the model's context of {limit}", where="generate",
        fix=(f"lower max_new_tokens below {limit}" if room < 1 else
             "shorten the prompt, lower max_new_tokens, or set truncate='left'"))


def _groups(prompts: list[list[int]]) -> list[list[int]]:
    """Indices of prompts grouped by length, groups in order of first appearance."""
    by_len: dict[int, list[int]] = {}
    for i, p in enumerate(prompts):
        by_len.setdefault(len(p), []).append(i)
    return list(by_len.values())


def _setup(model, prompts, config, tokenizer, overrides, add_bos=True, encode=None):
    config = config or GenerationConfig()
    if overrides:
        config = config.replace(**overrides)
    if config.stop_token_ids is None:
        eos = getattr(model, "eos_id", None)
        config = config.replace(stop_token_ids=() if eos is None else (eos,))
    ids, single = normalize_prompts(prompts, model, tokenizer, add_bos=add_bos, encode=encode)
    if tokenizer is None:
        tokenizer = getattr(model, "tokenizer", None)
    if config.stop_strings and tokenizer is None:
        raise ConfigError("stop_strings need a tokenizer to read the generated text",
                          where="generate", fix="pass tokenizer=... or use stop_token_ids")
    if not ids:
        raise DataError("no prompt given", where="generate", fix="pass at least one prompt")
    ids = [_fit_prompt(p, i, model, config) for i, p in enumerate(ids)]
    vocab = getattr(model, "vocab_size", None)
    if vocab is not None and config.top_logprobs > vocab:
        raise ConfigError(f"top_logprobs={config.top_logprobs} exceeds the vocabulary ({vocab})",
                          fix=f"use at most {vocab}")
    return config, tokenizer, ids, single


def is_encoder_decoder(model: Any) -> bool:
    """An encoder-decoder (seq2seq, T5): it conditions on a source instead of continuing text."""
    return hasattr(model, "condition") and not hasattr(model, "start")


def _conditioned(model: Any, prompts: Prompts, tokenizer: Any
                 ) -> tuple[list[tuple[Any, list[int]]], bool]:
    """([(decoder conditioned on one source, its start ids) per prompt], single prompt given)."""
    def source_ids(texts: list[str]) -> list[list[int]]:
        if tokenizer is not None and tokenizer is not getattr(model, "tokenizer", None):
            raise ConfigError("an encoder-decoder reads text with its own tokenizer",
                              where="generate", fix="leave tokenizer=None or pass source ids")
        return model.source_ids(texts)

    sources, single = normalize_prompts(prompts, encode=source_ids)
    device = model_device(model)
    out = []
    for i, src in enumerate(sources):
        if not src:
            raise DataError(f"source {i} is empty", where="generate",
                            fix='give the text to transform, e.g. "¿Dónde está?"')
        lm = model.condition(torch.tensor([src], dtype=torch.long, device=device))
        if lm.bos_id is None:
            raise ConfigError("the decoder declares no start id (bos_id)", where="generate",
                              fix="train the model with lmlab's special tokens")
        out.append((lm, [lm.bos_id]))
    return out, single


# ---- streaming: greedy and sampling ---------------------------------------------------------


class RowStream:
    """Bookkeeping of one prompt while streaming: text pieces, stop conditions, length.

    `event(row, token, log_prob, top)` turns a chosen token into its `TokenEvent` (the text it
    adds, a finish reason when a stop token, stop string or the length limit ends the row); the
    server's scheduler drives one per request the same way."""

    def __init__(self, prompt: list[int], config: GenerationConfig, tokenizer: Any) -> None:
        self.n = 0
        self.done = False
        self.stops = frozenset(config.stop_token_ids)
        self.max_new = config.max_new_tokens
        self.decoder = IncrementalDecoder(tokenizer, prompt) if tokenizer is not None else None
        self.matcher = StopStringMatcher(config.stop_strings) if config.stop_strings else None

    def event(self, row: int, tok: int, lp: float, top: list) -> TokenEvent:
        self.n += 1
        reason: FinishReason | None = None
        text: str | None = None
        if tok in self.stops:
            reason = "stop_token"
            text = self._flush() if self.decoder is not None else None
        elif self.decoder is not None:
            text = self.decoder.add(tok)
            if self.matcher is not None:
                text, hit = self.matcher.feed(text)
                if hit:
                    reason = "stop_string"
        if reason is None and self.n >= self.max_new:
            reason = "length"
            if self.decoder is not None:
                text += self._flush()
        self.done = reason is not None
        return TokenEvent(row, tok, lp, text, top, reason)

    def _flush(self) -> str:
        tail = self.decoder.flush()
        if self.matcher is None:
            return tail
        text, hit = self.matcher.feed(tail)
        return text if hit else text + self.matcher.flush()


def stream(model: Any, prompts: Prompts, config: GenerationConfig | None = None, *,
           tokenizer: Any = None, add_bos: bool = True, **overrides: Any) -> Iterator[TokenEvent]:
    """Yield a `TokenEvent` per generated token, as soon as it is chosen.

    Args:
        model: any `LanguageModel` (start/step).
        prompts: one prompt or a batch (ids or text, see the module docstring).
        config: a `GenerationConfig`; keyword `overrides` replace its fields.
        tokenizer: to encode text prompts and decode the output (default: `model.tokenizer`).
        add_bos: put the model's `bos_id` before text prompts (as `lmlab generate` does unless
            `--no-bos`).
    Yields:
        events of every row; a row's last event has `finish_reason` set. Prompts of equal length
        are decoded together, so rows of different lengths arrive one group after another.
    """
    if is_encoder_decoder(model):
        for r, (lm, start) in enumerate(_conditioned(model, prompts, tokenizer)[0]):
            for ev in stream(lm, start, config, tokenizer=tokenizer, **overrides):
                yield dataclasses.replace(ev, row=r)
        return
    config, tokenizer, ids, _ = _setup(model, prompts, config, tokenizer, overrides, add_bos)
    if config.strategy == "beam":
        for r, gen in enumerate(_beam(model, ids, config, tokenizer)):
            yield from _replay(r, gen)
        return
    yield from _stream_ids(model, ids, config, tokenizer)


def _stream_ids(model, ids, config, tokenizer) -> Iterator[TokenEvent]:
    device = model_device(model)
    sample = not config.greedy_choice
    processors = build_processors(
        temperature=config.temperature, top_k=config.top_k, top_p=config.top_p,
        repetition_penalty=config.repetition_penalty,
        no_repeat_ngram_size=config.no_repeat_ngram_size, sampling=sample)
    generator = None
    if sample:
        generator = torch.Generator(device=device)
        generator.manual_seed(config.seed if config.seed is not None else secrets.randbits(63))
    for group in _groups(ids):
        batch = torch.tensor([ids[i] for i in group], dtype=torch.long, device=device)
        rows = [RowStream(ids[i], config, tokenizer) for i in group]
        live = len(rows)
        for step in token_steps(model, batch, max_new_tokens=config.max_new_tokens,
                                processors=processors, sample=sample, generator=generator,
                                top_logprobs=config.top_logprobs):
            toks, lps = step.tokens.tolist(), step.log_probs.tolist()
            tops = (_pairs(step.top_ids, step.top_log_probs) if step.top_ids is not None
                    else [[] for _ in toks])
            for j, row in enumerate(rows):
                if not row.done:
                    yield row.event(group[j], toks[j], lps[j], tops[j])
                    live -= row.done
            if live == 0:
                break


def _pairs(ids: torch.Tensor, lps: torch.Tensor) -> list[list[tuple[int, float]]]:
    return [list(zip(i, lp, strict=True)) for i, lp in zip(ids.tolist(), lps.tolist(), strict=True)]


def _replay(row: int, gen: Generation) -> Iterator[TokenEvent]:
    """The events of a finished generation (beam search), whole text on the last one."""
    n = len(gen.ids)
    for i, (tok, lp) in enumerate(zip(gen.ids, gen.log_probs, strict=True)):
        last = i == n - 1
        text = (gen.text if last else "") if gen.text is not None else None
        yield TokenEvent(row, tok, lp, text, gen.top[i] if gen.top else [],
                         gen.finish_reason if last else None)


# ---- beam search ----------------------------------------------------------------------------


def _beam(model, ids, config, tokenizer) -> list[Generation]:
    device = model_device(model)
    processors = build_processors(repetition_penalty=config.repetition_penalty,
                                  no_repeat_ngram_size=config.no_repeat_ngram_size, sampling=False)
    out: list[Generation | None] = [None] * len(ids)
    for group in _groups(ids):
        batch = torch.tensor([ids[i] for i in group], dtype=torch.long, device=device)
        results = beam_search(model, batch, width=config.num_beams,
                              max_new_tokens=config.max_new_tokens, processors=processors,
                              length_penalty=config.length_penalty,
                              early_stopping=config.early_stopping,
                              stop_token_ids=config.stop_token_ids, n_best=config.n_best,
                              top_logprobs=config.top_logprobs)
        for i, hyps in zip(group, results, strict=True):
            gens = [_from_hypothesis(ids[i], h, config, tokenizer) for h in hyps]
            out[i] = dataclasses.replace(gens[0], nbest=gens)
    return out  # type: ignore[return-value]


def _from_hypothesis(prompt: list[int], hyp: Hypothesis, config: GenerationConfig,
                     tokenizer: Any) -> Generation:
    gen = Generation(prompt, top=hyp.top, score=hyp.score, finish_reason=hyp.finish_reason)  # type: ignore[arg-type]
    row = RowStream(prompt, config.replace(max_new_tokens=max(len(hyp.ids), 1)), tokenizer)
    for tok, lp in zip(hyp.ids, hyp.log_probs, strict=True):
        ev = row.event(0, tok, lp, [])
        _fold(gen, ev)
        if row.done:
            break
    gen.top = hyp.top[: len(gen.ids)]
    return gen


# ---- generate: the fold ---------------------------------------------------------------------


def _fold(gen: Generation, ev: TokenEvent) -> None:
    gen.ids.append(ev.id)
    gen.log_probs.append(ev.log_prob)
    if ev.top:
        gen.top.append(ev.top)
    if ev.text is not None:
        gen.text = (gen.text or "") + ev.text
    if ev.finish_reason is not None:
        gen.finish_reason = ev.finish_reason


def generate(model: Any, prompts: Prompts, config: GenerationConfig | None = None, *,
             tokenizer: Any = None, add_bos: bool = True,
             **overrides: Any) -> Generation | list[Generation]:
    """Continue one prompt (-> `Generation`) or a batch of prompts (-> list, in input order).

    Same arguments as `stream`, whose events this folds. With `strategy="beam"` each result
    also carries its n-best list in `.nbest`.
    """
    if is_encoder_decoder(model):
        decoders, single = _conditioned(model, prompts, tokenizer)
        gens = [generate(lm, start, config, tokenizer=tokenizer, **overrides)
                for lm, start in decoders]
        return gens[0] if single else gens  # type: ignore[return-value]
    config, tokenizer, ids, single = _setup(model, prompts, config, tokenizer, overrides, add_bos)
    if config.strategy == "beam":
        gens = _beam(model, ids, config, tokenizer)
    else:
        gens = [Generation(p, text="" if tokenizer is not None else None) for p in ids]
        for ev in _stream_ids(model, ids, config, tokenizer):
            _fold(gens[ev.row], ev)
        for g in gens:
            g.score = float(sum(g.log_probs))
    return gens[0] if single else gens
