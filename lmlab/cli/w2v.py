"""`lmlab w2v`: train word2vec and use word vectors (neighbours, analogies, evaluation, plots).

Vectors are read from an lmlab folder (what `w2v train` writes) or a word2vec text/binary file
(gensim, word2vec.c, fastText .vec), so the tools work on pretrained vectors too.
"""

from __future__ import annotations

import argparse
from typing import Any

from lmlab.cli.common import add_command, add_group, emit, show_progress


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "w2v", common, help="word2vec: train, neighbours, analogies, evaluation, plots",
                    description="Skip-gram/CBOW word vectors and the tools around them.",
                    example="lmlab w2v train novelas/ -o vectores && lmlab w2v similar vectores rey")

    p = add_command(sub, "train", common, help="train skip-gram or CBOW with negative sampling",
                    example="lmlab w2v train novelas/ --arch skipgram --epochs 5 -o vectores")
    p.add_argument("corpus", help="UTF-8 text file or folder (one sentence/paragraph per line), "
                   "or 'world' for the embedded world")
    p.add_argument("-o", "--output", required=True, help="output folder (or .txt/.bin with --format)")
    p.add_argument("--format", choices=["folder", "text", "binary"], default="folder",
                   help="lmlab folder (default), word2vec text or word2vec binary")
    p.add_argument("--arch", choices=["skipgram", "cbow"], default="skipgram")
    p.add_argument("--dim", type=int, default=100, help="vector size (100)")
    p.add_argument("--window", type=int, default=5, help="maximum window (5)")
    p.add_argument("--negative", type=int, default=5, help="negative samples per pair (5)")
    p.add_argument("--min-count", type=int, default=5, help="ignore rarer words (5)")
    p.add_argument("--sample", type=float, default=1e-3, help="subsampling threshold (1e-3; 0 = off)")
    p.add_argument("--alpha", type=float, default=0.025, help="initial learning rate (0.025)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=None,
                   help="pairs per update (default on CPU: corpus words / 64, within 512..2048 "
                        "for skip-gram and 2048..8192 for CBOW; 16384 on GPU)")
    p.add_argument("--workers", type=int, default=2, help="CPU threads (2)")
    p.add_argument("--keep-case", action="store_true", help="do not lower-case the text")
    p.add_argument("--world-sentences", type=int, default=50_000,
                   help="sentences generated when corpus is 'world' (50000)")
    p.set_defaults(func=run_train)

    p = add_command(sub, "similar", common, help="nearest words by cosine (with optional negatives)",
                    example="lmlab w2v similar vectores rey --topn 5")
    p.add_argument("vectors", help="vectors folder or word2vec file")
    p.add_argument("words", nargs="+", help="positive words")
    p.add_argument("--negative", nargs="*", default=[], help="words to subtract")
    p.add_argument("--topn", type=int, default=10)
    p.set_defaults(func=run_similar)

    p = add_command(sub, "analogy", common, help="a is to b as c is to ? (3CosAdd or 3CosMul)",
                    example="lmlab w2v analogy vectores hombre mujer rey")
    p.add_argument("vectors", help="vectors folder or word2vec file")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("c")
    p.add_argument("--method", choices=["3cosadd", "3cosmul"], default="3cosadd")
    p.add_argument("--topn", type=int, default=5)
    p.set_defaults(func=run_analogy)

    p = add_command(sub, "eval", common, help="analogy accuracy and word-similarity Spearman, with coverage",
                    example="lmlab w2v eval vectores --analogies questions-words-ES.txt --similarity WS353.txt")
    p.add_argument("vectors", help="vectors folder or word2vec file")
    p.add_argument("--analogies", nargs="*", default=[], help="questions-words files")
    p.add_argument("--similarity", nargs="*", default=[], help="word-pair files (w1 w2 score)")
    p.add_argument("--method", choices=["3cosadd", "3cosmul"], default="3cosadd")
    p.add_argument("--case-sensitive", action="store_true")
    p.add_argument("--encoding", default="utf-8", help="encoding of the files (utf-8; e.g. latin-1)")
    p.set_defaults(func=run_eval)

    p = add_command(sub, "project", common, help="2-D map of words (PCA, t-SNE, UMAP) as a labelled PNG",
                    example="lmlab w2v project vectores --top 200 --method tsne -o mapa.png")
    p.add_argument("vectors", help="vectors folder or word2vec file")
    p.add_argument("-o", "--output", required=True, help="PNG file")
    p.add_argument("--words", nargs="*", help="words to show (default: the most frequent --top)")
    p.add_argument("--top", type=int, default=200, help="how many frequent words (200)")
    p.add_argument("--method", choices=["pca", "tsne", "umap"], default="pca")
    p.set_defaults(func=run_project)

    p = add_command(sub, "export", common, help="TensorBoard projector TSVs or word2vec text/binary",
                    example="lmlab w2v export vectores --format projector -o proyector/")
    p.add_argument("vectors", help="vectors folder or word2vec file")
    p.add_argument("-o", "--output", required=True, help="folder (projector) or file (text/binary)")
    p.add_argument("--format", choices=["projector", "text", "binary"], default="projector")
    p.add_argument("--top", type=int, help="export only the N most frequent words")
    p.set_defaults(func=run_export)

    p = add_command(sub, "bias", common, help="WEAT: association of target sets with attribute sets",
                    example="lmlab w2v bias vectores --x él hombre padre --y ella mujer madre "
                            "--a trabajo oficina dinero --b casa familia hogar")
    p.add_argument("vectors", help="vectors folder or word2vec file")
    for name, what in (("x", "first target set"), ("y", "second target set"),
                       ("a", "first attribute set"), ("b", "second attribute set")):
        p.add_argument(f"--{name}", nargs="+", required=True, help=what)
    p.add_argument("--permutations", type=int, default=10_000)
    p.set_defaults(func=run_bias)


def _corpus(args: argparse.Namespace) -> list[list[str]]:
    from lmlab.data.corpus import iter_corpus_lines
    from lmlab.errors import DataError
    from lmlab.text.words import tokenize

    if args.corpus == "world":
        from lmlab.data.world import World

        sentences = [s.tokens for s in World(args.seed).lm_sentences(args.world_sentences)]
    else:
        sentences = [tokenize(line) for line in iter_corpus_lines(args.corpus)]
    out = []
    for toks in sentences:
        words = [t if args.keep_case else t.lower() for t in toks if any(ch.isalnum() for ch in t)]
        if words:
            out.append(words)
    if not out:
        raise DataError("the corpus has no words", where=args.corpus, fix="pass UTF-8 text with words")
    return out


def run_train(args: argparse.Namespace) -> int:
    from lmlab.cli.common import torch_device
    from lmlab.vectors.word2vec import Word2Vec, Word2VecConfig

    device = torch_device(args)
    cfg = Word2VecConfig(architecture=args.arch, vector_size=args.dim, window=args.window,
                         negative=args.negative, min_count=args.min_count, sample=args.sample,
                         alpha=args.alpha, min_alpha=min(1e-4, args.alpha), epochs=args.epochs,
                         batch_size=args.batch_size, workers=args.workers, seed=args.seed)
    model = Word2Vec(cfg, device=str(device), progress=show_progress(args)).fit(_corpus(args))
    if args.format == "folder":
        model.wv.save(args.output)
    else:
        model.wv.save_word2vec_format(args.output, binary=args.format == "binary")
    st = model.stats_
    data = {"output": args.output, "config": cfg.to_dict(), "stats": st.__dict__}
    emit(args, data, f"{st.vocab_size} words x {cfg.vector_size} dims, {st.corpus_words} corpus words x "
                     f"{st.epochs} epochs in {st.seconds:.1f} s ({st.words_per_s:,.0f} words/s), "
                     f"loss {st.loss:.3f} -> {args.output}")
    return 0


def _load(path: str):
    from lmlab.vectors.keyed import load_word_vectors

    return load_word_vectors(path)


def _table(pairs: list[tuple[str, float]]) -> str:
    return "\n".join(f"{s:7.4f}  {w}" for w, s in pairs)


def run_similar(args: argparse.Namespace) -> int:
    wv = _load(args.vectors)
    res = wv.most_similar(args.words, args.negative, topn=args.topn)
    emit(args, [{"word": w, "similarity": s} for w, s in res], _table(res))
    return 0


def run_analogy(args: argparse.Namespace) -> int:
    wv = _load(args.vectors)
    res = wv.analogy(args.a, args.b, args.c, topn=args.topn, method=args.method)
    head = f"{args.a} : {args.b} :: {args.c} : {res[0][0] if res else '?'}"
    emit(args, [{"word": w, "score": s} for w, s in res], head + "\n" + _table(res))
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from lmlab.errors import ConfigError

    if not args.analogies and not args.similarity:
        raise ConfigError("nothing to evaluate", fix="pass --analogies FILE and/or --similarity FILE")
    wv = _load(args.vectors)
    ci = not args.case_sensitive
    data: dict[str, Any] = {"analogies": {}, "similarity": {}}
    lines = []
    for f in args.analogies:
        r = wv.evaluate_analogies(f, method=args.method, case_insensitive=ci, encoding=args.encoding)
        data["analogies"][f] = r.to_dict()
        lines.append(f"{f}: accuracy {r.accuracy:.3f} on {r.answered}/{r.questions} questions "
                     f"(coverage {r.coverage:.1%}, {r.skipped_oov} with unknown words, "
                     f"{r.malformed} malformed lines)")
    for f in args.similarity:
        r = wv.evaluate_similarity(f, case_insensitive=ci, encoding=args.encoding)
        data["similarity"][f] = r.to_dict()
        lines.append(f"{f}: Spearman {r.spearman:.3f} on {r.pairs_used}/{r.pairs} pairs "
                     f"(coverage {r.coverage:.1%}, {r.malformed} malformed lines)")
    emit(args, data, "\n".join(lines))
    return 0


def _selection(wv, words: list[str] | None, top: int | None) -> tuple[list[str], Any]:
    if words:
        known = [w for w in words if w in wv]
        if len(known) < len(words):
            import logging

            logging.getLogger("lmlab").warning("unknown words left out: %s",
                                               ", ".join(w for w in words if w not in wv))
        return known, wv.vectors[[wv.index[w] for w in known]]
    n = len(wv) if top is None else min(top, len(wv))
    return wv.words[:n], wv.vectors[:n]


def run_project(args: argparse.Namespace) -> int:
    from lmlab.vectors.projection import plot_words, project

    wv = _load(args.vectors)
    words, vectors = _selection(wv, args.words, args.top)
    coords = project(vectors, args.method, seed=args.seed)
    out = plot_words(words, coords, args.output, title=f"{args.method.upper()}: {len(words)} palabras")
    emit(args, {"output": str(out), "words": words, "coords": coords.tolist()},
         f"{len(words)} words ({args.method}) -> {out}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from lmlab.io.word2vec_format import write_word2vec
    from lmlab.vectors.projection import export_projector

    wv = _load(args.vectors)
    words, vectors = _selection(wv, None, args.top)
    if args.format == "projector":
        files = [str(f) for f in export_projector(words, vectors, args.output)]
    else:
        files = [str(write_word2vec(args.output, words, vectors, binary=args.format == "binary"))]
    emit(args, {"files": files, "words": len(words)}, f"{len(words)} words -> {', '.join(files)}")
    return 0


def run_bias(args: argparse.Namespace) -> int:
    from lmlab.vectors.bias import weat

    wv = _load(args.vectors)
    r = weat(wv, args.x, args.y, args.a, args.b, n_permutations=args.permutations, seed=args.seed)
    text = (f"WEAT effect size d = {r.effect_size:.3f}, p = {r.p_value:.4f} "
            f"({'exact' if r.exact else 'sampled'}, {r.n_permutations} partitions)")
    if r.unknown:
        text += f"; unknown words left out: {', '.join(r.unknown)}"
    emit(args, r.to_dict(), text)
    return 0
