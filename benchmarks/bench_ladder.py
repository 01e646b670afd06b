"""Time `lmlab ladder` against its budgets: --quick under 3 minutes, the default under 15.

    python benchmarks/bench_ladder.py                 # both presets on the embedded world
    python benchmarks/bench_ladder.py --presets quick

Prints, per preset, the wall time, the budget, the ratio, the load average (the development
machine is shared) and each model's test perplexity beside the exact floor.
"""

from __future__ import annotations

import argparse
import os
import time

BUDGET_S = {"quick": 180.0, "full": 900.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["quick", "full"], choices=sorted(BUDGET_S))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from lmlab.apps.ladder import LadderConfig, run_ladder

    for preset in args.presets:
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        result, _ = run_ladder(LadderConfig.preset(preset, seed=args.seed))
        seconds = time.perf_counter() - t0
        budget = BUDGET_S[preset]
        print(f"{preset}: {seconds:.0f} s (budget {budget:.0f} s, {seconds / budget:.2f} of it), "
              f"load average at start {load:.2f}")
        floor = result.floor["ppl"] if result.floor else float("nan")
        for r in result.rungs:
            probes = " ".join(f"{d}:{a:.2f}" for d, a in r.probe_accuracy.items())
            print(f"  {r.name:14} ppl {r.ppl:8.3f}  x floor {r.ppl / floor:5.2f}  "
                  f"{r.train_seconds:6.1f} s  probes {probes}")
        w2v = result.word2vec
        print(f"  word2vec analogies {w2v.get('analogy_accuracy')}, floor ppl {floor:.3f}")


if __name__ == "__main__":
    main()
