"""Dynamic batching: one decoding thread per served model, stepping every running request together.

The model is driven only through the protocol (`start`, `step`, `reorder_state`), so any lmlab
language model is batched the same way. Prompts of different lengths cannot share one state (a KV
cache has one length for its whole batch, and the protocol has no padding), so the unit of batching
is a *cohort*: the sequences admitted at the same tick whose prompts have the same length, read by
one `start` call and advanced by one `step` call per token.

One tick of the loop:

1. admit: waiting sequences join, up to `max_batch` live rows; those of equal prompt length form a
   new cohort (one `start`). When the loop was idle it first waits `batch_wait` seconds so that
   requests arriving together start together. Requests that arrive while a tick runs wait for
   the next tick: new requests join between steps, never inside one.
2. advance: every cohort chooses one token per row (greedy or sampled, each row with its own
   decoding settings and its own seeded generator, so a row's tokens do not depend on who shares
   its batch), emits it, drops rows that finished or whose client left (`reorder_state`), and
   steps the rest.

So `n` choices of one prompt, a list of prompts, and concurrent clients whose prompts have the same
length are decoded in one batch; other requests run interleaved, one model call per cohort per
tick, which shares the machine fairly but does not batch their matrix products.

Beam search knows its answer only at the end: a beam request runs whole, between two ticks
(`lmlab.generate.stream` replays its best hypothesis).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from lmlab.generate import GenerationConfig, TokenEvent, stream
from lmlab.generate.api import RowStream
from lmlab.generate.processors import apply_processors, build_processors
from lmlab.generate.search import start_model
from lmlab.generate.state import reorder_state
from lmlab.models.base import model_device
from lmlab.serve.errors import APIError

log = logging.getLogger("lmlab.serve")

Sink = Callable[[tuple], None]


class QueueFull(Exception):
    """The model's queue cannot take the request now (answered 429)."""


@dataclass
class Ticket:
    """What a request shares with its sequences: whether the client is still there."""

    cancelled: bool = False
    reason: str = ""

    def cancel(self, reason: str = "client disconnected") -> None:
        self.cancelled, self.reason = True, reason


class Sequence:
    """One prompt continued until it stops: the choice `index` of a request.

    Sends `("token", index, TokenEvent)` per token, then nothing more once the event's
    `finish_reason` is set; `("error", index, APIError)` if decoding failed or was cut short.
    """

    def __init__(self, index: int, prompt: list[int], config: GenerationConfig, tokenizer: Any,
                 sink: Sink, ticket: Ticket) -> None:
        self.index, self.prompt, self.config = index, prompt, config
        self.sink, self.ticket = sink, ticket
        self.row = RowStream(prompt, config, tokenizer)  # text pieces, stop tokens and strings, length
        self.sample = not config.greedy_choice
        self.processors = build_processors(
            temperature=config.temperature, top_k=config.top_k, top_p=config.top_p,
            repetition_penalty=config.repetition_penalty,
            no_repeat_ngram_size=config.no_repeat_ngram_size, sampling=self.sample)
        self.generator: torch.Generator | None = None
        self.tokenizer = tokenizer
        self.done = False

    def seed_generator(self, device: torch.device) -> None:
        if self.sample:
            self.generator = torch.Generator(device=device)
            seed = self.config.seed if self.config.seed is not None else secrets.randbits(63)
            self.generator.manual_seed(seed)

    def emit(self, ev: TokenEvent) -> None:
        self.sink(("token", self.index, ev))
        if ev.finish_reason is not None:
            self.done = True

    def fail(self, error: APIError) -> None:
        if not self.done:
            self.done = True
            self.sink(("error", self.index, error))


@dataclass
class Cohort:
    """Sequences read by one `start`: one model state, advanced one token per tick."""

    seqs: list[Sequence]
    state: Any
    logits: torch.Tensor
    length: int  # tokens in the state so far (prompt + generated)
    history: torch.Tensor | None = None  # (B, capacity) ids, when a row has processors


@dataclass
class Stats:
    """Counters of one scheduler (read without the lock: approximate while running)."""

    model_calls: int = 0  # start + step calls
    rows_decoded: int = 0  # sum of the batch sizes of those calls
    tokens: int = 0  # tokens emitted
    requests: int = 0
    cancelled_rows: int = 0
    max_batch_seen: int = 0

    def to_dict(self) -> dict[str, Any]:
        mean = self.rows_decoded / self.model_calls if self.model_calls else 0.0
        return {"model_calls": self.model_calls, "rows_decoded": self.rows_decoded,
                "tokens": self.tokens, "requests": self.requests,
                "cancelled_rows": self.cancelled_rows, "max_batch_seen": self.max_batch_seen,
                "mean_batch": round(mean, 3)}


@dataclass
class _Solo:
    """A request decoded whole between ticks (beam search)."""

    seq: Sequence


class Scheduler:
    """The decoding thread of one model. `submit` from any thread; events go to each sink.

    Args:
        model: a language model (start/step).
        max_batch: rows decoded at once (all cohorts together).
        max_queue: rows waiting beyond those; a request that does not fit raises `QueueFull`.
        batch_wait: seconds an idle loop waits for companions before starting a request.
    """

    def __init__(self, model: Any, *, name: str = "model", max_batch: int = 64,
                 max_queue: int | None = None, batch_wait: float = 0.003) -> None:
        self.model, self.name = model, name
        self.max_batch = max_batch
        self.max_queue = max_batch if max_queue is None else max_queue
        self.batch_wait = batch_wait
        self.device = model_device(model)
        self.stats = Stats()
        self._pending: list[Sequence | _Solo] = []
        self._cohorts: list[Cohort] = []
        self._live_rows = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._deadline: float | None = None
        self._can_reorder = True
        self._thread = threading.Thread(target=self._loop, name=f"lmlab-serve-{name}", daemon=True)
        self._thread.start()

    # ---- the caller's side (event-loop thread) ----------------------------------------------

    def submit(self, seqs: list[Sequence], *, solo: bool = False) -> None:
        """Queue a request's sequences (`solo`: each decoded whole, for beam search); raises
        `QueueFull` when they do not fit, `APIError` 503 when the scheduler is stopping."""
        with self._cond:
            if self._stopping:
                raise APIError(503, "the server is shutting down", code="service_unavailable")
            waiting = len(self._pending)
            if self._live_rows + waiting + len(seqs) > self.max_batch + self.max_queue:
                raise QueueFull(f"{self.name}: {self._live_rows} rows decoding and {waiting} "
                                "waiting")
            if solo:
                self._pending.extend(_Solo(s) for s in seqs)
            else:
                self._pending.extend(seqs)
            self.stats.requests += 1
            self._cond.notify()

    @property
    def load(self) -> dict[str, int]:
        return {"decoding": self._live_rows, "waiting": len(self._pending)}

    def drain(self, within: float) -> None:
        """Running requests get `within` seconds more; then each is cancelled with a 503 event."""
        with self._cond:
            self._deadline = time.monotonic() + max(within, 0.0)
            self._cond.notify()

    def close(self, grace: float = 5.0) -> None:
        """Stop taking requests; let running ones finish for up to `grace` seconds, then cancel
        them (each gets a 503 error event); end the thread."""
        with self._cond:
            self._stopping = True
            deadline = time.monotonic() + grace
            self._deadline = deadline if self._deadline is None else min(self._deadline, deadline)
            pending, self._pending = self._pending, []
            self._cond.notify()
        for p in pending:
            (p.seq if isinstance(p, _Solo) else p).fail(
                APIError(503, "the server is shutting down", code="service_unavailable"))
        self._thread.join(grace + 5.0)

    # ---- the decoding thread ----------------------------------------------------------------

    def _loop(self) -> None:
        torch.set_grad_enabled(False)
        while True:
            with self._cond:
                while not self._pending and not self._cohorts and not self._stopping:
                    self._cond.wait()
                if self._stopping and not self._cohorts:
                    return
                idle = not self._cohorts
            if idle and self.batch_wait > 0:
                time.sleep(self.batch_wait)  # let requests that arrive together start together
            if self._deadline is not None and time.monotonic() > self._deadline:
                self._cancel_all()
                continue
            try:
                self._admit()
                for cohort in list(self._cohorts):
                    self._advance(cohort)
            except Exception:  # never let one bad batch kill the thread serving everyone
                log.exception("decoding failed on %s", self.name)
                self._cancel_all(APIError(500, "decoding failed on the server", code="server_error"))

    def _take(self) -> list[Sequence | _Solo]:
        with self._cond:
            room = self.max_batch - self._live_rows
            taken, rest = [], []
            for p in self._pending:
                seq = p.seq if isinstance(p, _Solo) else p
                if seq.ticket.cancelled:
                    seq.done = True
                    self.stats.cancelled_rows += 1
                elif room > 0:
                    taken.append(p)
                    room -= 1
                else:
                    rest.append(p)
            self._pending = rest
            self._live_rows += len(taken)
            return taken

    def _release(self, n: int) -> None:
        with self._cond:
            self._live_rows -= n

    def _admit(self) -> None:
        taken = self._take()
        by_len: dict[int, list[Sequence]] = {}
        for p in taken:
            if isinstance(p, _Solo):
                self._run_solo(p)
            else:
                by_len.setdefault(len(p.prompt), []).append(p)
        for length, seqs in by_len.items():
            for seq in seqs:
                seq.seed_generator(self.device)
            capacity = length + max(s.config.max_new_tokens for s in seqs)
            ids = torch.tensor([s.prompt for s in seqs], dtype=torch.long, device=self.device)
            try:
                with torch.inference_mode():
                    state, logits = start_model(self.model, ids, capacity)
            except Exception:
                log.exception("start failed on %s", self.name)
                for s in seqs:
                    s.fail(APIError(500, "the model failed to read the prompt", code="server_error"))
                self._release(len(seqs))
                continue
            self._count(len(seqs))
            history = None
            if any(s.processors for s in seqs):
                history = ids.new_zeros(len(seqs), capacity)
                history[:, :length] = ids
            self._cohorts.append(Cohort(seqs, state, logits, length, history))

    def _count(self, batch: int) -> None:
        self.stats.model_calls += 1
        self.stats.rows_decoded += batch
        self.stats.max_batch_seen = max(self.stats.max_batch_seen, batch)

    def _run_solo(self, solo: _Solo) -> None:
        seq = solo.seq
        try:
            for ev in stream(self.model, seq.prompt, seq.config, tokenizer=seq.tokenizer):
                if seq.ticket.cancelled:
                    break
                ev.row = seq.index
                seq.emit(ev)
                self.stats.tokens += 1
        except Exception:
            log.exception("beam search failed on %s", self.name)
            seq.fail(APIError(500, "decoding failed on the server", code="server_error"))
        seq.done = True
        self._release(1)

    @torch.inference_mode()
    def _choose(self, c: Cohort) -> tuple[list[int], list[float], list[list[tuple[int, float]]]]:
        logits = c.logits.float()
        model_lp = logits.log_softmax(dim=-1)  # (B, V): the model's own probabilities
        tokens = model_lp.argmax(dim=-1)
        for j, seq in enumerate(c.seqs):
            if seq.done or not (seq.processors or seq.sample):
                continue
            scores = logits[j : j + 1]
            if seq.processors:
                scores = apply_processors(seq.processors, scores, c.history[j : j + 1, : c.length])
            if seq.sample:
                tokens[j] = torch.multinomial(scores.softmax(dim=-1), 1,
                                              generator=seq.generator)[0, 0]
            else:
                tokens[j] = scores.argmax(dim=-1)[0]
        lps = model_lp.gather(1, tokens[:, None]).squeeze(1).tolist()
        k = max((s.config.top_logprobs for s in c.seqs if not s.done), default=0)
        tops: list[list[tuple[int, float]]] = [[] for _ in c.seqs]
        if k:
            values, ids = model_lp.topk(min(k, model_lp.shape[-1]), dim=-1)
            ids_l, values_l = ids.tolist(), values.tolist()
            for j, seq in enumerate(c.seqs):
                kj = seq.config.top_logprobs
                tops[j] = list(zip(ids_l[j][:kj], values_l[j][:kj], strict=True))
        return tokens.tolist(), lps, tops

    def _advance(self, c: Cohort) -> None:
        toks, lps, tops = self._choose(c)
        finished = 0
        for j, seq in enumerate(c.seqs):
            if seq.done:
                continue
            if seq.ticket.cancelled:
                seq.done = True
                finished += 1
                self.stats.cancelled_rows += 1
                continue
            seq.emit(seq.row.event(seq.index, toks[j], lps[j], tops[j]))
            self.stats.tokens += 1
            finished += seq.done
        if finished:
            self._release(finished)
        live = [j for j, s in enumerate(c.seqs) if not s.done]
        if not live:
            self._cohorts.remove(c)
            return
        if len(live) < len(c.seqs) and self._can_reorder:
            rows = torch.tensor(live, dtype=torch.long, device=self.device)
            try:
                c.state = reorder_state(self.model, c.state, rows, len(c.seqs))
            except TypeError:  # a state the generic reordering cannot split: keep feeding all rows
                self._can_reorder = False
            else:
                c.seqs = [c.seqs[j] for j in live]
                toks = [toks[j] for j in live]
                if c.history is not None:
                    c.history = c.history.index_select(0, rows)
        nxt = torch.tensor(toks, dtype=torch.long, device=self.device)
        with torch.inference_mode():
            if c.history is not None:
                c.history[:, c.length] = nxt
            c.state, c.logits = self.model.step(c.state, nxt)
        c.length += 1
        self._count(len(c.seqs))

    def _cancel_all(self, error: APIError | None = None) -> None:
        error = error or APIError(503, "the server shut down before the reply was complete",
                                  code="service_unavailable")
        with self._cond:
            pending, self._pending = self._pending, []
        for p in pending:
            (p.seq if isinstance(p, _Solo) else p).fail(error)
        n = 0
        for c in self._cohorts:
            for s in c.seqs:
                if not s.done:
                    s.fail(error)
                    n += 1
        self._cohorts.clear()
        self._release(n)
