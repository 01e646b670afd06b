"""`lmlab vectors bow|tfidf|cooc|similar`: count-based vector spaces from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from lmlab.cli.common import add_command, add_group, emit


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "vectors", common,
                    help="bag of words, TF-IDF, co-occurrence/PPMI/SVD word vectors, neighbours",
                    example="lmlab vectors tfidf reviews.txt --top 5")

    for name, helptext, example in (
        ("bow", "bag-of-words counts of each document (one per line)",
         "lmlab vectors bow docs.txt --top 5 --binary"),
        ("tfidf", "TF-IDF weights (course formula by default) of each document (one per line)",
         "lmlab vectors tfidf docs.txt --top 5 --tf raw --idf smooth --norm l2"),
    ):
        p = add_command(sub, name, common, help=helptext, example=example)
        p.add_argument("corpus", help="text file or folder: one document per line")
        p.add_argument("--top", type=int, default=5, help="show each document's top terms (default 5)")
        p.add_argument("--max-docs", type=int, default=10, help="documents to show (default 10)")
        p.add_argument("--min-df", type=int, default=1, help="keep words in >= this many documents")
        p.add_argument("--no-punctuation", action="store_true", help="drop punctuation tokens")
        p.add_argument("--output", help="save the matrix as a scipy .npz (+ .vocab.txt beside it)")
        if name == "bow":
            p.add_argument("--binary", action="store_true", help="presence (1) instead of counts")
        else:
            p.add_argument("--tf", choices=("log10", "raw", "binary", "sublinear"), default="log10")
            p.add_argument("--idf", choices=("log10", "smooth", "plain", "none"), default="log10")
            p.add_argument("--norm", choices=("l2", "l1"), default=None)
        p.set_defaults(func=run_docs, kind=name)

    p = add_command(sub, "cooc", common, help="word vectors from co-occurrence counts, PPMI and SVD",
                    example="lmlab vectors cooc quijote.txt -o models/ppmi --window 2 --dim 100")
    p.add_argument("corpus", help="text file or folder: one sentence (or document) per line")
    p.add_argument("-o", "--output", required=True, help="word-vectors folder to write")
    p.add_argument("--window", type=int, default=2, help="context window (default 2)")
    p.add_argument("--direction", choices=("both", "right", "left"), default="both")
    p.add_argument("--weighting", choices=("none", "harmonic"), default="none")
    p.add_argument("--min-count", type=int, default=2, help="rarer words are dropped (default 2)")
    p.add_argument("--max-words", type=int, default=20000, help="vocabulary size at most")
    p.add_argument("--no-ppmi", action="store_true", help="raw counts instead of PPMI")
    p.add_argument("--dim", type=int, default=100, help="SVD dimensions (0 = keep the sparse rows)")
    p.set_defaults(func=run_cooc)

    p = add_command(sub, "similar", common, help="nearest neighbours of words by cosine",
                    example="lmlab vectors similar models/ppmi caballero escudero -k 5")
    p.add_argument("vectors", help="word-vectors folder or word2vec file")
    p.add_argument("words", nargs="+", help="query words")
    p.add_argument("-k", type=int, default=10, help="neighbours per word (default 10)")
    p.set_defaults(func=run_similar)


def _docs(path: str) -> list[str]:
    from lmlab.data.corpus import read_corpus_lines

    return read_corpus_lines(path)


def run_docs(args: argparse.Namespace) -> int:
    import numpy as np

    docs = _docs(args.corpus)
    if args.kind == "bow":
        from lmlab.vectors.bow import BagOfWords

        est = BagOfWords(binary=args.binary, min_df=args.min_df,
                         keep_punctuation=not args.no_punctuation)
    else:
        from lmlab.vectors.tfidf import TfidfVectorizer

        est = TfidfVectorizer(tf=args.tf, idf=args.idf, norm=args.norm, min_df=args.min_df,
                              keep_punctuation=not args.no_punctuation)
    X = est.fit_transform(docs)
    names = est.get_feature_names_out()
    shown = []
    for i in range(min(args.max_docs, X.shape[0])):
        row = X.getrow(i)
        order = np.argsort(-row.data, kind="stable")[: args.top]
        shown.append({"doc": i, "top": [(str(names[row.indices[j]]), float(row.data[j])) for j in order]})
    if args.output:
        import scipy.sparse as sp

        sp.save_npz(args.output, X)
        with open(f"{args.output}.vocab.txt", "w", encoding="utf-8") as fh:
            fh.write("\n".join(map(str, names)) + "\n")
    info = {"documents": X.shape[0], "vocabulary": X.shape[1], "nnz": int(X.nnz), "docs": shown}
    text = [f"{X.shape[0]} documents x {X.shape[1]} words, {X.nnz} non-zeros"]
    text += [f"{d['doc']:>4}  " + "  ".join(f"{w}:{v:.3g}" for w, v in d["top"]) for d in shown]
    emit(args, info, "\n".join(text))
    return 0


def run_cooc(args: argparse.Namespace) -> int:
    from lmlab.vectors.cooccurrence import LSA, PPMI, CooccurrenceVectorizer, to_word_vectors

    vec = CooccurrenceVectorizer(window=args.window, direction=args.direction,
                                 weighting=args.weighting, min_count=args.min_count,
                                 max_features=args.max_words)
    X = vec.fit_transform(_docs(args.corpus))
    if not args.no_ppmi:
        X = PPMI().fit_transform(X)
    rows = LSA(n_components=args.dim, random_state=args.seed).fit_transform(X) if args.dim else X
    words = to_word_vectors(vec.get_feature_names_out().tolist(), rows, vec.word_counts_)
    words.save(args.output)
    info = {"output": args.output, "words": len(words), "dim": words.vector_size}
    emit(args, info, f"wrote {args.output}: {len(words)} words x {words.vector_size} dimensions")
    return 0


def run_similar(args: argparse.Namespace) -> int:
    from lmlab.vectors.keyed import load_word_vectors

    wv = load_word_vectors(args.vectors)
    out = {w: wv.most_similar(w, topn=args.k) for w in args.words}
    text = "\n".join(f"{w}: " + ", ".join(f"{n} ({s:.3f})" for n, s in nb) for w, nb in out.items())
    emit(args, {w: [{"word": n, "cosine": s} for n, s in nb] for w, nb in out.items()}, text)
    return 0
