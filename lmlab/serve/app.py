"""The OpenAI-compatible HTTP API and the playground, as one FastAPI app.

    GET  /v1/models             the served language models (and the sentence encoder)
    POST /v1/completions        prompt (string, list of strings, token ids), stream, logprobs, echo
    POST /v1/chat/completions   messages through the model's chat template (or --chat-template)
    POST /v1/embeddings         sentence embeddings (all-MiniLM-L6-v2 or another encoder)
    GET  /health                liveness, the models and how loaded their queues are
    GET  /lmlab/stats           batching counters per model (model calls, mean batch size)
    GET  /                      the playground (static files under lmlab/serve/static/)

Every generation goes through the model's `Scheduler` (dynamic batching) as a stream of token
events; a streaming request sends each as a server-sent event and ends with `data: [DONE]`, a
non-streaming one folds the same chunks into one reply.
This module imports FastAPI: `lmlab.serve` itself does not, until an app is built. Logs name the request, the model and the
token counts, never the prompt text unless `log_prompts`.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from lmlab.errors import LmlabError
from lmlab.serve import protocol as P
from lmlab.serve.errors import APIError, bad
from lmlab.serve.models import ServedModel
from lmlab.serve.scheduler import QueueFull, Scheduler, Sequence, Ticket

log = logging.getLogger("lmlab.serve")
STATIC = Path(__file__).parent / "static"


@dataclass
class ServeSettings:
    """How a server behaves.

    Attributes:
        api_key: when set, /v1/ requests need `Authorization: Bearer <key>` (else 401).
        max_concurrent: rows (prompts x n) one model decodes at once.
        max_queue: rows that may wait beyond those (default: max_concurrent); then 429.
        limits: per-request limits (max_tokens, prompt length, body size ...).
        batch_wait: seconds an idle model waits for companions before it starts decoding.
        grace: seconds running streams get to finish at shutdown before they are cancelled.
        log_prompts: put prompt text in the logs (off: logs never hold what users wrote).
    """

    api_key: str | None = None
    max_concurrent: int = 64
    max_queue: int | None = None
    limits: P.Limits = field(default_factory=P.Limits)
    batch_wait: float = 0.003
    grace: float = 5.0
    log_prompts: bool = False


class ServerState:
    """The served models, their schedulers, the encoder, and whether the server is draining."""

    def __init__(self, models: list[ServedModel], settings: ServeSettings, encoder: Any = None,
                 encoder_id: str | None = None) -> None:
        import threading

        ids = [m.id for m in models]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            from lmlab.errors import ConfigError

            raise ConfigError(f"two served models have the id {dupes[0]!r} (their folder name)",
                              fix="rename one of the folders")
        self.settings = settings
        self.models = {m.id: m for m in models}
        self.schedulers = {m.id: Scheduler(m.model, name=m.id, max_batch=settings.max_concurrent,
                                           max_queue=settings.max_queue,
                                           batch_wait=settings.batch_wait) for m in models}
        self.encoder, self.encoder_id = encoder, encoder_id
        self.encoder_lock = threading.Lock()
        self.draining = False
        self.started = time.time()

    def model(self, name: str) -> ServedModel:
        served = self.models.get(name)
        if served is None:
            known = ", ".join(self.models) or "none"
            raise APIError(404, f"the model {name!r} does not exist on this server (served: "
                           f"{known})", param="model", code="model_not_found")
        return served

    def begin_shutdown(self) -> None:
        """New requests get 503 from now on; running ones get most of the grace period to
        finish (then a 503 error event and `[DONE]`), before the HTTP server drops connections."""
        if not self.draining:
            self.draining = True
            for s in self.schedulers.values():
                s.drain(self.settings.grace * 0.8)

    def close(self) -> None:
        self.begin_shutdown()
        for s in self.schedulers.values():
            s.close(self.settings.grace)


# ---- the bridge between the event loop and a scheduler thread -------------------------------


class Job:
    """One request's sequences in a scheduler; `events()` yields them as they come."""

    def __init__(self, scheduler: Scheduler, rows: list[tuple[int, list[int], Any]],
                 tokenizer: Any, *, solo: bool) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.ticket = Ticket()
        seqs = [Sequence(i, prompt, config, tokenizer, self._sink, self.ticket)
                for i, prompt, config in rows]
        try:
            scheduler.submit(seqs, solo=solo)
        except QueueFull as exc:
            raise APIError(429, f"the model is busy ({exc}): retry shortly",
                           code="rate_limit_exceeded") from exc
        self.remaining = len(seqs)

    def _sink(self, item: tuple) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the event loop is gone: nobody is listening
            self.ticket.cancel("event loop closed")

    async def events(self, request: Any = None) -> AsyncIterator[tuple]:
        """("token", index, TokenEvent) and ("error", index, APIError) items until every sequence
        ended. With `request` (non-streaming replies) a client that left cancels the job."""
        try:
            while self.remaining:
                if request is None:
                    item = await self.queue.get()
                else:
                    try:
                        item = await asyncio.wait_for(self.queue.get(), 0.25)
                    except TimeoutError:
                        if await request.is_disconnected():
                            self.ticket.cancel()
                            return
                        continue
                kind, _, payload = item
                if kind == "error" or payload.finish_reason is not None:
                    self.remaining -= 1
                yield item
        finally:
            if self.remaining:
                self.ticket.cancel()


# ---- reading requests -----------------------------------------------------------------------


async def read_json(request: Any, limit: int) -> dict[str, Any]:
    size, parts = 0, []
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise APIError(413, f"the request body is over this server's limit of {limit} bytes",
                           code="request_too_large")
        parts.append(part)
    raw = b"".join(parts)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        where = f" (line {exc.lineno} column {exc.colno})" if hasattr(exc, "lineno") else ""
        raise bad(f"the request body is not valid JSON{where}", None, "invalid_json") from exc
    if not isinstance(body, dict):
        raise bad("the request body must be a JSON object", None, "invalid_json")
    return body


def read_prompts(body: dict, served: ServedModel) -> list[tuple[list[int], str]]:
    """The prompts of a completion request as (ids, text): a string, strings, ids, lists of ids."""
    from lmlab.models.base import encode_text

    value = body.get("prompt")
    if value is None:
        raise bad("prompt is required", "prompt", "missing_required_parameter")
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, list) and value and all(isinstance(i, int) and not isinstance(i, bool)
                                                  for i in value):
        items = [value]
    elif isinstance(value, list) and value:
        items = value
    else:
        raise bad("prompt must be a string, a list of strings or token ids", "prompt",
                  "invalid_type")
    out = []
    for item in items:
        if isinstance(item, str):
            ids = encode_text(served.model, [item], where="prompt")[0]
            out.append((ids, item))
        elif isinstance(item, list) and all(isinstance(i, int) and not isinstance(i, bool)
                                            for i in item):
            text = served.tokenizer.decode(item, skip_special_tokens=False) if item else ""
            out.append((list(item), text))
        else:
            raise bad("each prompt must be a string or a list of token ids", "prompt",
                      "invalid_type")
    return out


def chat_prompt(body: dict, served: ServedModel) -> list[int]:
    from lmlab.chat import render

    if served.chat_template is None:
        raise bad(f"the model {served.id!r} has no chat template", "model",
                  "model_not_supported")
    messages = body.get("messages")
    if messages is None:
        raise bad("messages is required", "messages", "missing_required_parameter")
    model = served.model
    try:
        text = render(messages, served.chat_template, add_generation_prompt=True,
                      bos_token=served.special_token(getattr(model, "bos_id", None)),
                      eos_token=served.special_token(getattr(model, "eos_id", None)))
    except LmlabError as exc:
        raise APIError.from_lmlab(exc, param="messages") from exc
    ids = served.tokenizer.encode(text, add_special_tokens=False).ids
    bos = getattr(model, "bos_id", None)
    if bos is not None and (not ids or ids[0] != bos):
        ids = [bos, *ids]  # the template did not write the start token: lmlab models read one
    return ids


def _rows(prompts: list[list[int]], decoding: P.Decoding, served: ServedModel,
          limits: P.Limits, param: str) -> list[tuple[int, list[int], Any]]:
    total = len(prompts) * decoding.n
    if total > limits.max_rows:
        raise bad(f"the request asks for {total} generations (prompts x n); this server takes "
                  f"at most {limits.max_rows} per request", "n")
    rows = []
    for p, ids in enumerate(prompts):
        config = P.fit(ids, decoding, served, limits, param)
        rows.extend((p * decoding.n + j, ids, config) for j in range(decoding.n))
    return rows


def sse(chunks: AsyncIterator[dict]) -> Any:
    async def body() -> AsyncIterator[str]:
        try:
            async for chunk in chunks:
                yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
        except APIError as exc:  # after the headers went out: the error travels as an event
            yield f"data: {json.dumps(exc.body(), ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# ---- the app --------------------------------------------------------------------------------


def create_app(models: list[ServedModel], *, settings: ServeSettings | None = None,
               encoder: Any = None, encoder_id: str | None = None) -> Any:
    """The FastAPI app serving `models` (and `encoder` for /v1/embeddings under `encoder_id`)."""
    from contextlib import asynccontextmanager

    settings = settings or ServeSettings()
    state = ServerState(models, settings, encoder, encoder_id)
    limits = settings.limits

    @asynccontextmanager
    async def lifespan(app: Any):
        yield
        await asyncio.to_thread(state.close)

    app = FastAPI(title="lmlab serve", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.lmlab = state
    app.add_middleware(Gate, state=state)

    def error_response(exc: APIError) -> Any:
        headers = {"Retry-After": "1"} if exc.status in (429, 503) else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> Any:
        return error_response(exc)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Any:
        what = "no such route" if exc.status_code == 404 else str(exc.detail)
        return error_response(APIError(exc.status_code, f"{request.method} {request.url.path}: "
                                       f"{what}", code="not_found" if exc.status_code == 404
                                       else None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Any:
        log.error("internal error on %s: %s: %s", request.url.path, type(exc).__name__, exc)
        return error_response(APIError(500, "internal server error", code="server_error"))

    # ---- models, health ----

    @app.get("/v1/models")
    async def list_models() -> Any:
        data = [{"id": m.id, "object": "model", "created": m.created, "owned_by": "lmlab",
                 "lmlab": {"kind": m.kind, "context": m.context,
                           "chat": m.chat_template is not None, "embeddings": False}}
                for m in state.models.values()]
        if state.encoder is not None:
            data.append({"id": state.encoder_id, "object": "model", "created": int(state.started),
                         "owned_by": "lmlab", "lmlab": {"kind": type(state.encoder).__name__,
                                                        "chat": False, "embeddings": True}})
        return {"object": "list", "data": data}

    @app.get("/v1/models/{name:path}")
    async def get_model(name: str) -> Any:
        listed = (await list_models())["data"]
        for entry in listed:
            if entry["id"] == name:
                return entry
        state.model(name)  # raises the 404

    @app.get("/health")
    async def health() -> Any:
        return {"status": "draining" if state.draining else "ok",
                "models": list(state.models), "embeddings": state.encoder_id,
                "load": {k: s.load for k, s in state.schedulers.items()}}

    @app.get("/lmlab/stats")
    async def stats() -> Any:
        return {k: {**s.stats.to_dict(), **s.load} for k, s in state.schedulers.items()}

    # ---- completions ----

    @app.post("/v1/completions")
    async def completions(request: Request) -> Any:
        t0 = time.perf_counter()
        body = await read_json(request, limits.max_body_bytes)
        served = state.model(P.get_model(body))
        try:
            prompts = read_prompts(body, served)
        except LmlabError as exc:
            raise APIError.from_lmlab(exc, param="prompt") from exc
        echo = P.get_bool(body, "echo", False)
        k = P.get_int(body, "logprobs", None, 0, P.MAX_TOP_LOGPROBS)
        eos = getattr(served.model, "eos_id", None)
        decoding = P.read_decoding(body, served, limits, default_max=16,
                                   stop_ids=() if eos is None else (eos,), top_logprobs=k or 0)
        rows = _rows([p for p, _ in prompts], decoding, served, limits, "prompt")
        echoes = await _echoes(served, prompts, k) if echo else None
        job = Job(state.schedulers[served.id], rows, served.tokenizer, solo=decoding.beam)
        reply = P.Reply(P.new_id("cmpl"), served.id,
                        prompt_tokens=sum(len(p) for p, _ in prompts))
        _log_start(settings, reply, served, prompts, len(rows))

        async def chunks(watch: Any = None) -> AsyncIterator[dict]:
            offsets = [0] * len(rows)
            if echoes is not None:
                for i, _, _ in rows:
                    text, lps = echoes[i // decoding.n]
                    offsets[i] = len(text)
                    yield P.chunk_completion(reply, i, text, lps, None)
            async for kind, i, ev in job.events(watch):
                if kind == "error":
                    raise ev
                reply.completion_tokens += 1
                lps = P.completion_logprobs(served, ev, offsets[i]) if k is not None else None
                offsets[i] += len(ev.text or "")
                finish = P.FINISH.get(ev.finish_reason) if ev.finish_reason else None
                yield P.chunk_completion(reply, i, ev.text or "", lps, finish)
            if decoding.include_usage and decoding.stream:
                yield {"id": reply.id, "object": "text_completion", "created": reply.created,
                       "model": reply.model, "choices": [], "usage": reply.usage()}
            _log_end(reply, t0)

        if decoding.stream:
            return sse(chunks())
        folded = P.fold_completions(reply, [c async for c in chunks(request)], len(rows))
        return folded

    async def _echoes(served: ServedModel, prompts: list, k: int | None) -> list:
        if k is None:
            return [(text, None) for _, text in prompts]
        out = []
        for ids, text in prompts:
            lps = await asyncio.to_thread(_prompt_logprobs, served, ids, text)
            out.append((text, lps))
        return out

    # ---- chat ----

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        t0 = time.perf_counter()
        body = await read_json(request, limits.max_body_bytes)
        served = state.model(P.get_model(body))
        ids = chat_prompt(body, served)
        want = P.get_bool(body, "logprobs", False)
        k = P.get_int(body, "top_logprobs", 0, 0, P.MAX_TOP_LOGPROBS)
        if k and not want:
            raise bad("top_logprobs needs logprobs=true", "top_logprobs")
        decoding = P.read_decoding(body, served, limits, default_max=limits.max_tokens,
                                   stop_ids=served.chat_stop_ids(), top_logprobs=k)
        rows = _rows([ids], decoding, served, limits, "messages")
        job = Job(state.schedulers[served.id], rows, served.tokenizer, solo=decoding.beam)
        reply = P.Reply(P.new_id("chatcmpl"), served.id, prompt_tokens=len(ids))
        _log_start(settings, reply, served, [(ids, "<chat>")], len(rows))

        async def chunks(watch: Any = None) -> AsyncIterator[dict]:
            for i, _, _ in rows:
                yield P.chunk_chat(reply, i, {"role": "assistant", "content": ""}, None, None)
            async for kind, i, ev in job.events(watch):
                if kind == "error":
                    raise ev
                reply.completion_tokens += 1
                lps = P.chat_logprobs(served, ev) if want else None
                finish = P.FINISH.get(ev.finish_reason) if ev.finish_reason else None
                yield P.chunk_chat(reply, i, {"content": ev.text or ""}, lps, finish)
            if decoding.include_usage and decoding.stream:
                yield {"id": reply.id, "object": "chat.completion.chunk", "created": reply.created,
                       "model": reply.model, "choices": [], "usage": reply.usage()}
            _log_end(reply, t0)

        if decoding.stream:
            return sse(chunks())
        return P.fold_chat(reply, [c async for c in chunks(request)], len(rows))

    # ---- embeddings ----

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Any:
        body = await read_json(request, limits.max_body_bytes)
        name = P.get_model(body)
        if state.encoder is None or name != state.encoder_id:
            served = ", ".join(filter(None, [state.encoder_id])) or "none (start with --embeddings)"
            raise APIError(404, f"the embedding model {name!r} does not exist on this server "
                           f"(served: {served})", param="model", code="model_not_found")
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise bad("input must be a non-empty string or list of strings (token ids are not "
                      "supported)", "input", "invalid_type")
        if any(not t for t in texts):
            raise bad("input holds an empty string", "input")
        if len(texts) > limits.max_embedding_inputs:
            raise bad(f"input has {len(texts)} texts: give at most "
                      f"{limits.max_embedding_inputs}", "input")
        fmt = body.get("encoding_format") or "float"
        if fmt not in ("float", "base64"):
            raise bad("encoding_format must be 'float' or 'base64'", "encoding_format")
        dims = P.get_int(body, "dimensions", None, 1)
        vectors, n_tokens = await asyncio.to_thread(_embed, state, texts)
        if dims is not None and dims != vectors.shape[1]:
            raise bad(f"this encoder gives {vectors.shape[1]} dimensions, not {dims}",
                      "dimensions")
        data = []
        for i, vec in enumerate(vectors):
            value: Any = (base64.b64encode(vec.astype("<f4").tobytes()).decode("ascii")
                          if fmt == "base64" else vec.tolist())
            data.append({"object": "embedding", "index": i, "embedding": value})
        return {"object": "list", "data": data, "model": name,
                "usage": {"prompt_tokens": n_tokens, "total_tokens": n_tokens}}

    # ---- the playground ----

    @app.get("/", include_in_schema=False)
    async def playground() -> Any:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _prompt_logprobs(served: ServedModel, ids: list[int], text: str) -> dict[str, Any]:
    """Completions' echo with logprobs: each prompt token with its log-probability (the first
    token, or the start token, has none)."""
    import torch

    from lmlab.models.base import model_device, token_log_probs

    bos = getattr(served.model, "bos_id", None)
    shown = ids[1:] if bos is not None and ids and ids[0] == bos else ids
    lps: list[float | None] = []
    if len(ids) >= 2:
        with torch.inference_mode():
            t = torch.tensor([ids], dtype=torch.long, device=model_device(served.model))
            lps = token_log_probs(served.model, t)[0].tolist()
    if len(shown) == len(ids):
        lps = [None, *lps]
    tokens = [served.token_text(i) for i in shown]
    offsets, pos = [], 0
    for tok in tokens:
        found = text.find(tok, pos) if tok else -1
        pos = found if found >= 0 else pos
        offsets.append(pos)
        pos += len(tok) if found >= 0 else 0
    return {"tokens": tokens, "token_logprobs": lps[: len(tokens)],
            "top_logprobs": [None] + [{}] * (len(tokens) - 1) if tokens else [],
            "text_offset": offsets}


def _embed(state: ServerState, texts: list[str]) -> tuple[Any, int]:
    with state.encoder_lock:  # the encoder's tokenizer settings are shared state
        _, mask = state.encoder.tokenize(texts)
        vectors = state.encoder.embed(texts).numpy()
    return vectors, int(mask.sum())


def _log_start(settings: ServeSettings, reply: P.Reply, served: ServedModel, prompts: list,
               rows: int) -> None:
    if settings.log_prompts:
        log.info("%s %s rows=%d prompt_tokens=%d prompts=%r", reply.id, served.id, rows,
                 reply.prompt_tokens, [t for _, t in prompts])
    else:
        log.info("%s %s rows=%d prompt_tokens=%d", reply.id, served.id, rows, reply.prompt_tokens)


def _log_end(reply: P.Reply, t0: float) -> None:
    log.info("%s done: %d completion tokens in %.3f s", reply.id, reply.completion_tokens,
             time.perf_counter() - t0)


class Gate:
    """ASGI middleware in front of /v1/: 503 while draining, 401 without the key, 413 for a
    declared body over the limit (a pure ASGI class, so streaming and disconnects pass through)."""

    def __init__(self, app: Any, state: ServerState) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        error = self.check(scope)
        if error is None:
            await self.app(scope, receive, send)
            return
        headers = {"Retry-After": "1"} if error.status == 503 else None
        if error.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        await JSONResponse(error.body(), status_code=error.status, headers=headers)(
            scope, receive, send)

    def check(self, scope: dict) -> APIError | None:
        settings = self.state.settings
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.state.draining:
            return APIError(503, "the server is shutting down", code="service_unavailable")
        if settings.api_key is not None:
            given = headers.get("authorization", "")
            expected = f"Bearer {settings.api_key}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return APIError(401, "invalid or missing API key: send Authorization: Bearer KEY",
                                code="invalid_api_key")
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > settings.limits.max_body_bytes:
            return APIError(413, "the request body is over this server's limit of "
                            f"{settings.limits.max_body_bytes} bytes", code="request_too_large")
        return None
