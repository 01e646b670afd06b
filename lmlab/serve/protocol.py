"""The OpenAI API's request fields and reply objects, for completions, chat and embeddings.

Requests are plain JSON objects read here field by field: unknown fields are ignored (as OpenAI
does), known ones of the wrong type or out of range are a 400 naming the field. Fields OpenAI has
and lmlab cannot honour (a non-zero `presence_penalty`, `logit_bias`, `tools` ...) are a 400 too,
rather than silently ignored. lmlab adds a few decoding fields: `top_k`, `num_beams`,
`repetition_penalty`, `no_repeat_ngram_size`.

Streaming is the primitive: each token becomes one chunk (`chunk_*` below), and the non-streaming
reply is built by folding those very chunks (`fold_*`).
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from lmlab.errors import LmlabError
from lmlab.generate import GenerationConfig, TokenEvent
from lmlab.serve.errors import APIError, bad
from lmlab.serve.models import ServedModel

MAX_STOP = 4
MAX_N = 16
MAX_TOP_LOGPROBS = 20
UNSUPPORTED = {"logit_bias": "logit_bias", "tools": "tool calls", "functions": "function calls",
               "tool_choice": "tool calls", "response_format": "structured output",
               "suffix": "suffix (insertion)", "audio": "audio", "modalities": "audio"}


@dataclass
class Limits:
    """What one request may ask for."""

    max_tokens: int = 512  # max_tokens per choice
    max_prompt_tokens: int = 4096  # for models without a context limit
    max_rows: int = 64  # prompts x n per request
    max_body_bytes: int = 1 << 20
    max_embedding_inputs: int = 256


# ---- reading fields -------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    return "null" if value is None else {bool: "boolean", int: "integer", float: "number",
                                         str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__)


def get_int(body: dict, name: str, default: int | None, low: int | None = None,
            high: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not (isinstance(value, int) or
                                       (isinstance(value, float) and value.is_integer())):
        raise bad(f"{name} must be an integer, not {_type_name(value)}", name, "invalid_type")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise bad(f"{name}={value} is out of range: use a value {span}", name)
    return value


def get_float(body: dict, name: str, default: float, low: float, high: float, *,
              low_open: bool = False) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad(f"{name} must be a number, not {_type_name(value)}", name, "invalid_type")
    if value < low or value > high or (low_open and value == low):
        raise bad(f"{name}={value} is out of range: use a value in "
                  f"{'(' if low_open else '['}{low}, {high}]", name)
    return float(value)


def get_bool(body: dict, name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad(f"{name} must be true or false, not {_type_name(value)}", name, "invalid_type")
    return value


def get_model(body: dict) -> str:
    value = body.get("model")
    if not isinstance(value, str) or not value:
        raise bad("model is required: the id of a served model (GET /v1/models lists them)",
                  "model", "missing_required_parameter")
    return value


def get_stop(body: dict) -> tuple[str, ...]:
    value = body.get("stop")
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise bad("stop must be a string or a list of strings", "stop", "invalid_type")
    if len(items) > MAX_STOP:
        raise bad(f"stop has {len(items)} strings: give at most {MAX_STOP}", "stop")
    return tuple(s for s in items if s)


def check_unsupported(body: dict) -> None:
    for name, what in UNSUPPORTED.items():
        value = body.get(name)
        harmless = (value in (None, {}, [], "")
                    or (name == "tool_choice" and value in ("none", "auto"))
                    or (name == "response_format" and value == {"type": "text"}))
        if not harmless:
            raise bad(f"{what} is not supported by lmlab serve", name, "unsupported_parameter")
    for name in ("presence_penalty", "frequency_penalty"):
        if get_float(body, name, 0.0, -2.0, 2.0) != 0.0:
            raise bad(f"{name} is not supported by lmlab serve: use repetition_penalty",
                      name, "unsupported_parameter")
    if get_int(body, "best_of", None, 1, MAX_N) not in (None, 1):
        raise bad("best_of is not supported by lmlab serve: use num_beams", "best_of",
                  "unsupported_parameter")


# ---- decoding settings ----------------------------------------------------------------------


@dataclass
class Decoding:
    """The decoding part of a request: one `GenerationConfig` per choice, before prompt fitting."""

    config: GenerationConfig
    max_tokens_given: bool
    n: int
    stream: bool
    include_usage: bool

    @property
    def beam(self) -> bool:
        return self.config.strategy == "beam"


def read_decoding(body: dict, served: ServedModel, limits: Limits, *, default_max: int,
                  stop_ids: tuple[int, ...], top_logprobs: int) -> Decoding:
    check_unsupported(body)
    max_key = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    max_tokens = get_int(body, max_key, None, 1, limits.max_tokens)
    temperature = get_float(body, "temperature", 1.0, 0.0, 2.0)
    top_p = get_float(body, "top_p", 1.0, 0.0, 1.0, low_open=True)
    top_k = get_int(body, "top_k", 0, 0)
    num_beams = get_int(body, "num_beams", 1, 1, 16)
    repetition = get_float(body, "repetition_penalty", 1.0, 0.0, 10.0, low_open=True)
    no_repeat = get_int(body, "no_repeat_ngram_size", 0, 0, 16)
    seed = get_int(body, "seed", None)
    n = get_int(body, "n", 1, 1, MAX_N)
    stream = get_bool(body, "stream", False)
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise bad("stream_options must be an object", "stream_options", "invalid_type")
    include_usage = get_bool(options or {}, "include_usage", False)
    vocab = getattr(served.model, "vocab_size", None)
    if vocab is not None and top_logprobs > vocab:
        raise bad(f"asked for {top_logprobs} alternatives but the model has {vocab} tokens",
                  "top_logprobs")
    if num_beams > 1:
        strategy, temperature, top_p, top_k = "beam", 1.0, 1.0, 0
        if n > num_beams:
            raise bad(f"n={n} needs at least as many beams (num_beams={num_beams})", "n")
    elif temperature == 0:
        strategy, temperature, top_p, top_k = "greedy", 1.0, 1.0, 0
    else:
        strategy = "sample"
    try:
        config = GenerationConfig(
            strategy=strategy, max_new_tokens=max_tokens or default_max, temperature=temperature,
            top_k=top_k, top_p=top_p, repetition_penalty=repetition,
            no_repeat_ngram_size=no_repeat, num_beams=num_beams, stop_strings=get_stop(body),
            stop_token_ids=stop_ids, seed=seed, top_logprobs=top_logprobs)
    except LmlabError as exc:
        raise APIError.from_lmlab(exc) from exc
    return Decoding(config, max_tokens is not None, n, stream, include_usage)


def fit(prompt: list[int], decoding: Decoding, served: ServedModel, limits: Limits,
        param: str) -> GenerationConfig:
    """The config for one prompt: max_tokens checked against the model's context (shrunk to the
    room left when the client did not set it), and the prompt checked against the vocabulary."""
    if not prompt:
        raise bad("the prompt is empty and the model has no start token", param)
    vocab = getattr(served.model, "vocab_size", None)
    if vocab is not None and any(not 0 <= i < vocab for i in prompt):
        raise bad(f"the prompt has token ids outside the vocabulary [0, {vocab})", param)
    config = decoding.config
    context = served.context
    if context is None:
        if len(prompt) > limits.max_prompt_tokens:
            raise APIError(400, f"the prompt has {len(prompt)} tokens, more than this server's "
                           f"limit of {limits.max_prompt_tokens}", param=param,
                           code="context_length_exceeded")
        return config
    room = context - len(prompt)
    if room >= config.max_new_tokens:
        return config
    if not decoding.max_tokens_given and room >= 1:
        return config.replace(max_new_tokens=room)
    raise APIError(400, f"this model's maximum context length is {context} tokens; the prompt "
                   f"has {len(prompt)} and max_tokens is {config.max_new_tokens}: shorten the "
                   "prompt or lower max_tokens", param=param, code="context_length_exceeded")


# ---- replies --------------------------------------------------------------------------------


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


FINISH = {"stop_token": "stop", "stop_string": "stop", "length": "length"}


@dataclass
class Reply:
    """Shared fields of one reply's chunks, and the usage counted while streaming."""

    id: str
    model: str
    created: int = field(default_factory=lambda: int(time.time()))
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def usage(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}


def completion_logprobs(served: ServedModel, ev: TokenEvent, offset: int) -> dict[str, Any]:
    tok = served.token_text(ev.id)
    return {"tokens": [tok], "token_logprobs": [ev.log_prob],
            "top_logprobs": [{served.token_text(i): lp for i, lp in ev.top}],
            "text_offset": [offset]}


def chunk_completion(reply: Reply, index: int, text: str, logprobs: dict | None,
                     finish: str | None) -> dict[str, Any]:
    return {"id": reply.id, "object": "text_completion", "created": reply.created,
            "model": reply.model, "choices": [{"index": index, "text": text, "logprobs": logprobs,
                                               "finish_reason": finish}]}


def fold_completions(reply: Reply, chunks: list[dict], n_choices: int) -> dict[str, Any]:
    """The non-streaming completion: the chunks of each choice concatenated."""
    choices = [{"index": i, "text": "", "logprobs": None, "finish_reason": None}
               for i in range(n_choices)]
    for chunk in chunks:
        for part in chunk["choices"]:
            choice = choices[part["index"]]
            choice["text"] += part["text"]
            if part["logprobs"] is not None:
                if choice["logprobs"] is None:
                    choice["logprobs"] = {"tokens": [], "token_logprobs": [], "top_logprobs": [],
                                          "text_offset": []}
                for key, values in part["logprobs"].items():
                    choice["logprobs"][key].extend(values)
            if part["finish_reason"] is not None:
                choice["finish_reason"] = part["finish_reason"]
    return {"id": reply.id, "object": "text_completion", "created": reply.created,
            "model": reply.model, "choices": choices, "usage": reply.usage()}


def chat_logprob(served: ServedModel, token_id: int, log_prob: float) -> dict[str, Any]:
    tok = served.token_text(token_id)
    return {"token": tok, "logprob": log_prob, "bytes": list(tok.encode("utf-8"))}


def chat_logprobs(served: ServedModel, ev: TokenEvent) -> dict[str, Any]:
    entry = chat_logprob(served, ev.id, ev.log_prob)
    entry["top_logprobs"] = [chat_logprob(served, i, lp) for i, lp in ev.top]
    return {"content": [entry]}


def chunk_chat(reply: Reply, index: int, delta: dict, logprobs: dict | None,
               finish: str | None) -> dict[str, Any]:
    return {"id": reply.id, "object": "chat.completion.chunk", "created": reply.created,
            "model": reply.model, "system_fingerprint": None,
            "choices": [{"index": index, "delta": delta, "logprobs": logprobs,
                         "finish_reason": finish}]}


def fold_chat(reply: Reply, chunks: list[dict], n_choices: int) -> dict[str, Any]:
    """The non-streaming chat completion: the deltas of each choice concatenated."""
    choices = [{"index": i, "message": {"role": "assistant", "content": ""}, "logprobs": None,
                "finish_reason": None} for i in range(n_choices)]
    for chunk in chunks:
        for part in chunk["choices"]:
            choice = choices[part["index"]]
            choice["message"]["content"] += part["delta"].get("content") or ""
            if part["logprobs"] is not None:
                if choice["logprobs"] is None:
                    choice["logprobs"] = {"content": []}
                choice["logprobs"]["content"].extend(part["logprobs"]["content"])
            if part["finish_reason"] is not None:
                choice["finish_reason"] = part["finish_reason"]
    return {"id": reply.id, "object": "chat.completion", "created": reply.created,
            "model": reply.model, "system_fingerprint": None, "choices": choices,
            "usage": reply.usage()}
