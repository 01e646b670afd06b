"""word2vec: lmlab against gensim on the same Spanish corpus and settings, speed and quality.

    python benchmarks/bench_word2vec.py                      # CLIGS novels, first 1M words
    python benchmarks/bench_word2vec.py --max-words 0 --arch skipgram cbow --epochs 5
    python benchmarks/bench_word2vec.py --device cuda --batch-size 16384   # GPU figure
    python benchmarks/bench_word2vec.py --world 80000 --epochs 10          # the world's analogies

Both train on identical token lists with identical hyperparameters (gensim defaults: 100
dimensions, window 5, 5 negatives, sample 1e-3, min_count 5, alpha 0.025) and gensim gets the
same number of worker threads. Speed is raw corpus words × epochs / training seconds (vocabulary
building excluded for both). Quality uses the same evaluator on both vector sets (equal to
gensim's own, see tests/vectors/test_w2v_keyed.py): analogy accuracy (3CosAdd, case-insensitive)
on the Spanish questions-words file, and Spearman's rho on the Spanish word-similarity sets,
each with its coverage. The machine's load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
NOVELS = DATA / "spanish_literature" / "cligs_novela_espanola"
EVAL = DATA / "spanish_word_eval"
SIM_SETS = ("MC30", "RG65", "WS353", "SE17", "MSL")


def read_corpus(path: Path, max_words: int) -> list[list[str]]:
    """One token list per non-blank line (a paragraph), lower-cased, words and numbers only."""
    from lmlab.data.corpus import iter_corpus_lines
    from lmlab.text.words import tokenize

    sentences, total = [], 0
    for line in iter_corpus_lines(path):
        toks = [t for t in tokenize(line.lower()) if any(ch.isalnum() for ch in t)]
        if toks:
            sentences.append(toks)
            total += len(toks)
            if max_words and total >= max_words:
                break
    return sentences


def world_data(n_sentences: int, seed: int):
    """Token lists and analogy questions of the embedded world."""
    from lmlab.data.world import World

    world = World(seed)
    sentences = [s.tokens for s in world.lm_sentences(n_sentences)]
    if hasattr(world, "analogies"):
        questions = world.analogies()
    else:  # before World.analogies() existed
        from lmlab.data.world.analogies import analogies

        questions = analogies(world.grammar)
    return sentences, questions


def evaluate(wv, world_questions=None) -> dict[str, tuple[float, str]]:
    """Metric name -> (value, coverage as "answered/total")."""
    out = {}
    if world_questions is not None:
        r = wv.evaluate_analogies(world_questions, case_insensitive=False)
        out["world analogies"] = (r.accuracy, f"{r.answered}/{r.questions}")
        for name, (ok, n) in r.sections.items():
            out[name] = (ok / max(n, 1), f"{n}")
        return out
    questions = EVAL / "nabu_questions-words-ES.txt"
    if questions.exists():
        for method in ("3cosadd", "3cosmul"):
            r = wv.evaluate_analogies(questions, method=method)
            out[f"analogy {method}"] = (r.accuracy, f"{r.answered}/{r.questions}")
    for name in SIM_SETS:
        f = EVAL / "similarity" / f"{name}.txt"
        if f.exists():
            r = wv.evaluate_similarity(f)
            out[name] = (r.spearman, f"{r.pairs_used}/{r.pairs}")
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=NOVELS, help="file or folder of UTF-8 text")
    p.add_argument("--max-words", type=int, default=1_000_000, help="0 = the whole corpus")
    p.add_argument("--arch", nargs="+", default=["skipgram"], choices=["skipgram", "cbow"])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=None, help="lmlab pairs per update")
    p.add_argument("--device", default="cpu")
    p.add_argument("--no-gensim", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", type=int, default=1, help="repeat with seeds seed..seed+N-1 and average")
    p.add_argument("--world", type=int, metavar="N", help="train on N sentences of the embedded world "
                   "and score its analogies (settings: dim 50, window 5, sample 1e-4)")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    args = p.parse_args()
    if args.world:
        sentences, questions = world_data(args.world, args.seed)
        args.dim, args.window, args.sample = 50, 5, 1e-4
        name = f"world(seed={args.seed})"
    else:
        if not args.corpus.exists():
            print(f"skipped: {args.corpus} is absent")
            return 0
        sentences, questions, name = read_corpus(args.corpus, args.max_words), None, args.corpus.name

    from lmlab.vectors.word2vec import Word2Vec, Word2VecConfig

    n_words = sum(map(len, sentences))
    print(f"corpus: {name}, {len(sentences)} lines, {n_words} words; dim {args.dim}, window "
          f"{args.window}, sample {args.sample}, epochs {args.epochs}, workers {args.workers}, "
          f"device {args.device}")
    rows = []
    for arch, seed in ((a, s) for a in args.arch for s in range(args.seed, args.seed + args.seeds)):
        cfg = Word2VecConfig(architecture=arch, epochs=args.epochs, workers=args.workers, seed=seed,
                             vector_size=args.dim, window=args.window, sample=args.sample)
        if args.batch_size:
            cfg = cfg.replace(batch_size=args.batch_size)
        load0 = os.getloadavg()[0]
        model = Word2Vec(cfg, device=args.device).fit(sentences)
        ours = model.stats_.words_per_s
        rows.append((arch, "lmlab", ours, load0, evaluate(model.wv, questions)))
        print(f"{arch} seed {seed}: lmlab {ours:,.0f} words/s", flush=True)
        if not args.no_gensim:
            try:
                from gensim.models import Word2Vec as GensimWord2Vec
            except ImportError:
                print("gensim is not installed: pip install gensim (comparison skipped)")
                continue
            from lmlab.vectors.keyed import WordVectors

            g = GensimWord2Vec(vector_size=cfg.vector_size, window=cfg.window, negative=cfg.negative,
                               sample=cfg.sample, min_count=cfg.min_count, alpha=cfg.alpha,
                               min_alpha=cfg.min_alpha, sg=int(arch == "skipgram"), workers=args.workers,
                               seed=seed, epochs=args.epochs)
            g.build_vocab(sentences)
            load0 = os.getloadavg()[0]
            t0 = time.perf_counter()
            g.train(sentences, total_examples=len(sentences), epochs=args.epochs)
            theirs = n_words * args.epochs / (time.perf_counter() - t0)
            wv = WordVectors(g.wv.index_to_key, g.wv.vectors)
            rows.append((arch, "gensim", theirs, load0, evaluate(wv, questions)))
            print(f"{arch} seed {seed}: lmlab / gensim speed = {ours / theirs:.2f}x", flush=True)
    keys = list(rows[0][4]) if rows else []
    header = ["arch", "impl", "words/s", "load", *keys]
    print("\n| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for arch, impl, speed, load, ev in rows:
        print(f"| {arch} | {impl} | {speed:,.0f} | {load:.1f} | "
              + " | ".join(f"{ev[k][0]:.3f} ({ev[k][1]})" if k in ev else "-" for k in keys) + " |")
    if args.seeds > 1:
        print(f"\nmean ± standard deviation over {args.seeds} seeds:")
        for arch in args.arch:
            for impl in ("lmlab", "gensim"):
                sel = [r for r in rows if r[0] == arch and r[1] == impl]
                if sel:
                    speed = sum(r[2] for r in sel) / len(sel)
                    cells = [(statistics.mean(v), statistics.stdev(v)) for v in
                             ([r[4][k][0] for r in sel] for k in keys)]
                    print(f"| {arch} | {impl} | {speed:,.0f} | - | "
                          + " | ".join(f"{m:.3f} ± {sd:.3f}" for m, sd in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
