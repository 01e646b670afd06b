"""Speed of the world's language-model text: generation and exact scoring, in tokens/s.

    python benchmarks/bench_world.py --n-tokens 1000000

Target (issue 3): 1M tokens in under 10 s on one core. There is no peer to run beside it (the
world is lmlab's own), so the script prints the rates and the ratio to that target; note the
machine load (`uptime`) next to the figures; tokens per CPU-second is the steadier figure on a
shared machine.
"""

from __future__ import annotations

import argparse
import os
import time

from lmlab.data.world import World


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-tokens", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    world = World(args.seed)
    t0, c0 = time.perf_counter(), time.process_time()
    sentences = world.lm_sentences(n_tokens=args.n_tokens)
    gen_s, gen_cpu = time.perf_counter() - t0, time.process_time() - c0
    n = sum(len(s.tokens) for s in sentences)

    t0, c0 = time.perf_counter(), time.process_time()
    floor = world.entropy_floor(world.score(s.tokens) for s in sentences)
    parse_s, parse_cpu = time.perf_counter() - t0, time.process_time() - c0

    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(f"generate: {n:,} tokens in {gen_s:.2f} s = {n / gen_s:,.0f} tokens/s "
          f"({10.0 / (gen_s * 1e6 / n):.1f}x faster than the 1M tokens / 10 s target); "
          f"CPU {gen_cpu:.2f} s = {n / gen_cpu:,.0f} tokens per CPU-second")
    print(f"parse+score: {n:,} tokens in {parse_s:.2f} s = {n / parse_s:,.0f} tokens/s; "
          f"CPU {parse_cpu:.2f} s = {n / parse_cpu:,.0f} tokens per CPU-second")
    print(f"floor: {floor.bits_per_token:.4f} bits/token, perplexity {floor.ppl:.3f} "
          f"({floor.n_sentences:,} sentences)")


if __name__ == "__main__":
    main()
