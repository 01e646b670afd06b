"""Load benchmark of `lmlab serve`: 1, 8 and 32 concurrent streaming clients on 127.0.0.1.

Each client sends a bounded number of streaming completions (greedy, fixed max_tokens) one after
another; the run reports errors, tokens/s, and p50/p99 time-to-first-token and latency, and the
batching speed-up: throughput at each concurrency over the throughput of the same requests served
one at a time (concurrency 1).

    python benchmarks/bench_serve.py                       # a tiny GPT built here, CPU
    python benchmarks/bench_serve.py --model runs/gpt/model --requests 4 --max-tokens 32
    python benchmarks/bench_serve.py --mixed-lengths       # prompts of different lengths

Prompts have the same length unless --mixed-lengths: the scheduler batches requests that start
in the same tick with equal prompt lengths (docs/serve.md), so mixed lengths show its worst case.
Only 127.0.0.1 is contacted; every loop is bounded in count and in time (--timeout).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import torch

WORDS = ["el", "niño", "la", "niña", "come", "bebe", "una", "manzana", "agua", "pan", "perro", "gato", "casa", "mar", "playa"]


def tiny_gpt(folder: Path, preset: str) -> Path:
    from lmlab.models.transformer import gpt
    from lmlab.text.tokenizers import train_tokenizer

    tok = train_tokenizer("word", [" ".join(WORDS), "el niño come una manzana ."])
    torch.manual_seed(0)
    model = gpt.GPT(gpt.GPTConfig.preset(preset, vocab_size=tok.get_vocab_size(),
                                         max_seq_len=256)).eval()
    model.tokenizer = tok
    model.save(folder / "gpt")
    return folder / "gpt"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


def prompts_for(n: int, mixed: bool) -> list[str]:
    out = []
    for i in range(n):
        length = 4 + (i % 5 if mixed else 0)
        out.append(" ".join(WORDS[(i + j) % len(WORDS)] for j in range(length)))
    return out


def one_request(url: str, model: str, prompt: str, max_tokens: int, timeout: float) -> dict:
    body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
            "stream": True}
    t0 = time.perf_counter()
    first, tokens, done = None, 0, False
    with httpx.stream("POST", url + "/v1/completions", json=body, timeout=timeout) as r:
        if r.status_code != 200:
            return {"error": f"HTTP {r.status_code}"}
        for line in r.iter_lines():
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                done = True
                break
            chunk = json.loads(line[6:])
            if "error" in chunk:
                return {"error": chunk["error"]["message"]}
            if first is None:
                first = time.perf_counter() - t0
            tokens += 1
    if not done:
        return {"error": "stream ended without [DONE]"}
    return {"ttft": first or 0.0, "latency": time.perf_counter() - t0, "tokens": tokens}


def run_level(url: str, model: str, clients: int, requests: int, max_tokens: int,
              mixed: bool, timeout: float) -> dict:
    prompts = prompts_for(clients * requests, mixed)
    results: list[dict] = []
    lock = threading.Lock()
    deadline = time.monotonic() + timeout

    def client(c: int) -> None:
        for r in range(requests):
            if time.monotonic() > deadline:
                with lock:
                    results.append({"error": "timeout"})
                return
            try:
                res = one_request(url, model, prompts[c * requests + r], max_tokens, timeout)
            except httpx.HTTPError as exc:
                res = {"error": type(exc).__name__}
            with lock:
                results.append(res)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 5)
    wall = time.perf_counter() - t0
    ok = [r for r in results if "error" not in r]
    tokens = sum(r["tokens"] for r in ok)
    stats = httpx.get(url + "/lmlab/stats").json()[model]
    return {"clients": clients, "requests": len(results), "errors": len(results) - len(ok),
            "tokens": tokens, "seconds": round(wall, 3), "tokens_per_s": round(tokens / wall, 1),
            "ttft_p50_ms": round(1000 * percentile([r["ttft"] for r in ok], 50), 1),
            "ttft_p99_ms": round(1000 * percentile([r["ttft"] for r in ok], 99), 1),
            "latency_p50_ms": round(1000 * percentile([r["latency"] for r in ok], 50), 1),
            "latency_p99_ms": round(1000 * percentile([r["latency"] for r in ok], 99), 1),
            "mean_batch": stats["mean_batch"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="a model folder to serve (default: a tiny GPT built here)")
    ap.add_argument("--preset", default="gpt-tiny", help="GPT preset of the built model")
    ap.add_argument("--levels", default="1,8,32", help="concurrent clients, comma-separated")
    ap.add_argument("--requests", type=int, default=3, help="requests per client (default 3)")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--mixed-lengths", action="store_true")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per level, at most")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    levels = [int(x) for x in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.model) if args.model else tiny_gpt(Path(tmp), args.preset)
        model_id = folder.resolve().name
        # The server runs in its own process (`lmlab serve --port 0`), so the clients' threads
        # here do not compete with it for the GIL.
        cmd = [sys.executable, "-m", "lmlab.cli.main", "--device", args.device, "serve",
               str(folder), "--port", "0", "--max-concurrent", str(max(levels)),
               "--max-tokens", str(max(args.max_tokens, 16))]
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
        try:
            line = proc.stdout.readline()
            match = re.search(r"(http://[0-9.]+:[0-9]+)", line)
            if not match:
                raise SystemExit(f"the server did not start: {line!r}")
            url = match.group(1)
            one_request(url, model_id, "el niño", 2, args.timeout)  # warm-up
            rows = [run_level(url, model_id, c, args.requests, args.max_tokens,
                              args.mixed_lengths, args.timeout) for c in levels]
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    base = next((r["tokens_per_s"] for r in rows if r["clients"] == 1), rows[0]["tokens_per_s"])
    for r in rows:
        r["speedup_vs_one_at_a_time"] = round(r["tokens_per_s"] / base, 2) if base else None
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    cols = ["clients", "requests", "errors", "tokens_per_s", "ttft_p50_ms", "ttft_p99_ms",
            "latency_p50_ms", "latency_p99_ms", "mean_batch", "speedup_vs_one_at_a_time"]
    print(f"model {model_id} ({args.model or args.preset}), max_tokens {args.max_tokens}, "
          f"{'mixed' if args.mixed_lengths else 'equal'} prompt lengths, {args.threads} thread(s)")
    print("  ".join(f"{c:>12}" for c in cols))
    for r in rows:
        print("  ".join(f"{r[c]!s:>12}" for c in cols))


if __name__ == "__main__":
    main()
