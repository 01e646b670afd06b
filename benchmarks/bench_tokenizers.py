"""Tokenizer training and encoding throughput (MB/s) on Spanish text, beside peers.

    python benchmarks/bench_tokenizers.py                        # Don Quijote (../shared/data)
    python benchmarks/bench_tokenizers.py --corpus ../shared/data/spanish_literature/cligs_novela_espanola
    python benchmarks/bench_tokenizers.py --kinds bpe wordpiece --repeats 1 --json out.json

The corpus is Don Quijote (Project Gutenberg #2000) with the Gutenberg header and footer removed
(`lmlab.text.gutenberg`), or any file/folder given with --corpus or LMLAB_BENCH_CORPUS; the
script skips with a message when it is absent. Lines are read once into memory, so the figures
measure tokenisation, not disk. MB are 10^6 bytes of UTF-8 text.

For each kind the script times `train_tokenizer` (lmlab) and `encode_batch` over every line in
batches of 1,000, and beside them two peers on the same lines: transformers' fast tokenizer
wrapping the same trained tokenizer (`PreTrainedTokenizerFast(...)(batch)`, the usual way to call
it; ratio = lmlab speed / transformers speed). The pure-Python `words.tokenize` is timed beside
NLTK's `RegexpTokenizer` with the same pattern, and `split_sentences` alone. Times are medians of
--repeats runs; the machine may be shared, so the load average is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "spanish_literature" / "quijote" / "pg2000.txt"
VOCAB = {"word": None, "char": None, "bpe": 8000, "wordpiece": 8000, "unigram": 8000}


def read_corpus(path: Path) -> list[str]:
    from lmlab.data.corpus import iter_corpus_lines, iter_lines
    from lmlab.text.gutenberg import strip_gutenberg

    if path.is_file() and path.name.startswith("pg"):
        lines = strip_gutenberg(iter_lines(path), where=str(path))
    else:
        lines = iter_corpus_lines(path)
    return [line for line in lines if line.strip()]


CPU_SECONDS: dict[str, float] = {}


def median_time(fn, repeats: int, name: str = "") -> tuple[float, object]:
    """Median wall-clock seconds of `fn()` and its result; CPU seconds (all threads) go to
    CPU_SECONDS[name], a figure less sensitive to other processes on a shared machine."""
    times, cpu, result = [], [], None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU_SECONDS[name] = statistics.median(cpu)
    return statistics.median(times), result


def batches(lines: list[str], size: int = 1000):
    for i in range(0, len(lines), size):
        yield lines[i:i + size]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=os.environ.get("LMLAB_BENCH_CORPUS", str(DEFAULT)))
    ap.add_argument("--kinds", nargs="*", default=list(VOCAB))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None, help="also write the results as JSON here")
    args = ap.parse_args()

    path = Path(args.corpus)
    if not path.exists():
        print(f"skipped: corpus {path} not found (set --corpus or LMLAB_BENCH_CORPUS)")
        return 0
    from lmlab.text.batch import encode_batch
    from lmlab.text.sentences import split_sentences
    from lmlab.text.tokenizers import train_tokenizer
    from lmlab.text.words import WORD_PATTERN, tokenize

    lines = read_corpus(path)
    mb = sum(len(line.encode("utf-8")) + 1 for line in lines) / 1e6
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"corpus {path.name}: {len(lines):,} lines, {mb:.2f} MB; cores {os.cpu_count()}, "
          f"load {load:.2f}; median of {args.repeats}")
    results = {"corpus": str(path), "megabytes": mb, "lines": len(lines), "load": load, "kinds": {}}

    try:
        from transformers import PreTrainedTokenizerFast
    except ImportError:
        PreTrainedTokenizerFast = None

    print("MB/s wall clock (MB per CPU-second in brackets); transformers = its fast tokenizer "
          "called on the same tokenizer; ratio = lmlab / transformers (wall clock)")
    print(f"{'kind':10} {'vocab':>7} {'train MB/s':>16} {'encode MB/s':>16} {'transformers':>13} "
          f"{'ratio':>6} {'tokens/word':>12}")
    n_words = sum(len(line.split()) for line in lines)
    for kind in args.kinds:
        train_s, tok = median_time(
            lambda kind=kind: train_tokenizer(kind, lines, vocab_size=VOCAB[kind]), args.repeats,
            "train")
        encode_s, n_tokens = median_time(
            lambda tok=tok: sum(int(encode_batch(tok, b, truncation=False).lengths.sum())
                                for b in batches(lines)), args.repeats, "encode")
        row = {"vocab_size": tok.get_vocab_size(), "train_mb_s": mb / train_s,
               "encode_mb_s": mb / encode_s, "train_mb_per_cpu_s": mb / CPU_SECONDS["train"],
               "encode_mb_per_cpu_s": mb / CPU_SECONDS["encode"], "tokens": n_tokens,
               "tokens_per_word": n_tokens / n_words}
        peer = ""
        if PreTrainedTokenizerFast is not None:
            fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]")
            peer_s, peer_tokens = median_time(
                lambda fast=fast: sum(sum(mask) for b in batches(lines)
                                      for mask in fast(b, padding=True)["attention_mask"]), args.repeats)
            if peer_tokens != n_tokens:
                print(f"warning: {kind}: transformers gave {peer_tokens} tokens, lmlab {n_tokens}")
            row["transformers_encode_mb_s"] = mb / peer_s
            row["ratio"] = peer_s / encode_s
            peer = f"{mb / peer_s:13.2f} {peer_s / encode_s:6.2f}"
        results["kinds"][kind] = row
        train = f"{row['train_mb_s']:.2f} ({row['train_mb_per_cpu_s']:.2f})"
        encode = f"{row['encode_mb_s']:.2f} ({row['encode_mb_per_cpu_s']:.2f})"
        print(f"{kind:10} {row['vocab_size']:7,} {train:>16} {encode:>16} {peer} "
              f"{row['tokens_per_word']:12.3f}")

    words_s, _ = median_time(lambda: [tokenize(line) for line in lines], args.repeats, "words")
    sent_s, _ = median_time(lambda: split_sentences("\n".join(lines)), args.repeats, "sentences")
    results["words_mb_s"], results["sentences_mb_s"] = mb / words_s, mb / sent_s
    text = f"pure Python: words.tokenize {mb / words_s:.2f} MB/s, split_sentences {mb / sent_s:.2f} MB/s"
    try:
        from nltk.tokenize import RegexpTokenizer

        nltk_tok = RegexpTokenizer(WORD_PATTERN)
        nltk_s, _ = median_time(lambda: [nltk_tok.tokenize(line) for line in lines], args.repeats)
        results["nltk_regexp_mb_s"] = mb / nltk_s
        text += f"; NLTK RegexpTokenizer, same pattern {mb / nltk_s:.2f} MB/s"
    except ImportError:
        pass
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
