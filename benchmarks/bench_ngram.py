"""N-gram benchmark: lmlab vs nltk.lm (same data, one run), the 10M-token 5-gram, and KenLM lmplz.

    python benchmarks/bench_ngram.py                         # nltk comparison + 10M-token 5-gram
    LMPLZ=/path/to/kenlm/build/bin/lmplz python benchmarks/bench_ngram.py --orders 3 5

1. Fit + perplexity time and peak memory (tracemalloc, in a second run so timing is not slowed)
   of lmlab's modified Kneser-Ney against nltk.lm.KneserNeyInterpolated on a subset small enough
   for nltk (nltk scores one n-gram per Python call: ~ms each). Both trigram; nltk pads with n-1
   <s> and uses plain (not modified) Kneser-Ney, so their perplexities differ: only time and
   memory are compared.
2. A 5-gram on 10M tokens: the Spanish training text repeated to 10M tokens (distinct n-grams
   are those of the 2.8M-token text), and Zipf-random text (nearly every 5-gram distinct: the
   worst case for memory); peak RSS from `resource`.
3. With LMPLZ set (and `query` next to it): lmplz on the same training text with the same order,
   perplexity by KenLM's `query` (OOVs included) against lmlab's, and both fit times.

Data: benchmarks/ngram_data.py (CLIGS Spanish novels, lower-cased, 1 sentence per line).
Other helpers share the CPU: the load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ngram_data import NOVELS, prepare

from lmlab.data.corpus import iter_lines
from lmlab.models.ngram import NGramLM


def load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_lmlab(train, test, order):
    t0 = time.perf_counter()
    lm = NGramLM(order=order).fit(train)
    t1 = time.perf_counter()
    ppl = lm.perplexity(test).ppl
    return t1 - t0, time.perf_counter() - t1, ppl


def run_nltk(train, test, order):
    from nltk.lm import KneserNeyInterpolated
    from nltk.lm.preprocessing import pad_both_ends, padded_everygram_pipeline
    from nltk.util import ngrams

    t0 = time.perf_counter()
    grams, vocab = padded_everygram_pipeline(order, train)
    lm = KneserNeyInterpolated(order)
    lm.fit(grams, vocab)
    t1 = time.perf_counter()
    total, n = 0.0, 0
    for sent in test:
        for g in ngrams(list(pad_both_ends(sent, n=order)), order):
            total += lm.logscore(g[-1], g[:-1])
            n += 1
    return t1 - t0, time.perf_counter() - t1, 2 ** (-total / n)


def peak_mb(fn, *args) -> float:
    gc.collect()
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def compare_nltk(train_file: Path, test_file: Path, n_train: int, n_test: int) -> None:
    import lmlab.models.base  # noqa: F401  (imports torch once, outside the timings)

    train = [line.split() for line in iter_lines(train_file)][:n_train]
    test = [line.split() for line in iter_lines(test_file)][:n_test]
    print(f"\n## lmlab vs nltk.lm KneserNeyInterpolated, trigram, {sum(map(len, train)):,} train / "
          f"{sum(map(len, test)):,} test tokens ({load()})")
    rows = {}
    for name, fn in (("lmlab", run_lmlab), ("nltk", run_nltk)):
        fit, score, ppl = fn(train, test, 3)
        rows[name] = (fit, score, ppl, peak_mb(fn, train, test, 3))
        print(f"{name:6} fit {fit:8.3f} s  perplexity {score:8.3f} s  total {fit + score:8.3f} s  "
              f"peak {rows[name][3]:7.1f} MB  ppl {ppl:8.1f}")
    a, b = rows["lmlab"], rows["nltk"]
    print(f"speed-up (fit + perplexity): {(b[0] + b[1]) / (a[0] + a[1]):.0f}x; memory ratio "
          f"{b[3] / a[3]:.1f}x")


def big_file(path: Path, source: Path, n_tokens: int, kind: str) -> Path:
    if path.exists():
        return path
    with open(path, "w", encoding="utf-8") as fh:
        if kind == "repeat":
            written = 0
            while written < n_tokens:
                for line in iter_lines(source):
                    fh.write(line + "\n")
                    written += line.count(" ") + 1
                    if written >= n_tokens:
                        break
        else:  # Zipf words in sentences of 5..40 tokens
            rng = np.random.default_rng(0)
            words = rng.zipf(1.2, size=n_tokens) % 200_000
            lengths = rng.integers(5, 41, size=n_tokens // 5)
            ends = np.cumsum(lengths)
            ends = ends[ends < n_tokens]
            for sent in np.split(words, ends):
                fh.write(" ".join(f"w{w}" for w in sent.tolist()) + "\n")
    return path


def ten_million(train_file: Path, workdir: Path, kinds: list[str]) -> None:
    for kind in kinds:
        path = big_file(workdir / f"10M_{kind}.txt", train_file, 10_000_000, kind)
        print(f"\n## 5-gram, modified Kneser-Ney, 10M tokens ({kind}) ({load()})")
        rss0 = peak_rss_mb()
        t0 = time.perf_counter()
        lm = NGramLM(order=5).fit(iter_lines(path))
        fit = time.perf_counter() - t0
        print(f"fit {fit:.1f} s; n-grams per order {lm.tables.sizes()}; peak RSS "
              f"{peak_rss_mb():.0f} MB (before: {rss0:.0f} MB)")
        del lm
        gc.collect()


def compare_lmplz(lmplz: Path, train_file: Path, test_file: Path, orders: list[int], workdir: Path) -> None:
    query = lmplz.with_name("query")
    for order in orders:
        arpa = workdir / f"lmplz_{order}.arpa"
        t0 = time.perf_counter()
        with open(train_file, "rb") as src, open(arpa, "wb") as out:
            subprocess.run([str(lmplz), "-o", str(order), "-S", "1G", "-T", str(workdir)],
                           stdin=src, stdout=out, stderr=subprocess.DEVNULL, check=True)
        t_lmplz = time.perf_counter() - t0
        with open(test_file, "rb") as src:
            out = subprocess.run([str(query), "-v", "summary", str(arpa)], stdin=src,
                                 capture_output=True, check=True).stdout.decode()
        ppl_kenlm = float(next(line for line in out.splitlines()
                               if line.startswith("Perplexity including OOVs")).split()[-1])
        t0 = time.perf_counter()
        lm = NGramLM(order=order).fit(iter_lines(train_file))
        t_lmlab = time.perf_counter() - t0
        ppl = lm.perplexity(iter_lines(test_file)).ppl
        print(f"\n## order {order} vs KenLM lmplz ({load()})\nlmplz ppl {ppl_kenlm:.4f} (fit {t_lmplz:.1f} s); "
              f"lmlab ppl {ppl:.4f} (fit {t_lmlab:.1f} s); relative difference "
              f"{abs(ppl - ppl_kenlm) / ppl_kenlm:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/lmlab-ngram-data"))
    parser.add_argument("--nltk-sentences", type=int, default=300, help="training sentences for nltk")
    parser.add_argument("--nltk-test", type=int, default=30)
    parser.add_argument("--orders", type=int, nargs="+", default=[3, 5], help="orders for lmplz")
    parser.add_argument("--big", nargs="*", default=["repeat", "zipf"], help="10M-token runs")
    args = parser.parse_args()
    if not NOVELS.exists():
        sys.exit(f"skipped: {NOVELS} is absent")
    train, test = prepare(args.workdir)
    compare_nltk(train, test, args.nltk_sentences, args.nltk_test)
    lmplz = os.environ.get("LMPLZ")
    if lmplz and Path(lmplz).exists():
        compare_lmplz(Path(lmplz), train, test, args.orders, args.workdir)
    else:
        print("\n(lmplz comparison skipped: set LMPLZ to the lmplz binary)")
    ten_million(train, args.workdir, args.big)


if __name__ == "__main__":
    main()
