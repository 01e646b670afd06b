"""`lmlab ngram train|eval|next|generate|export|import`: count-based n-gram language models."""

from __future__ import annotations

import argparse
from typing import Any

from lmlab.cli.common import add_command, add_group, emit, load_lm
from lmlab.data.corpus import sentences

SMOOTHING_CHOICES = ("kneser_ney", "mle", "add_k", "stupid_backoff")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sub = add_group(subparsers, "ngram", common, help="count-based n-gram language models",
                    example="lmlab ngram train corpus.txt -o models/trigram --order 3")

    p = add_command(sub, "train", common, help="count a corpus (one sentence per line) into a model",
                    example="lmlab ngram train quijote.txt -o models/kn5 --order 5 --min-count 2")
    _corpus_args(p)
    p.add_argument("-o", "--output", required=True, help="model folder to write")
    p.add_argument("--order", type=int, default=3, help="n (default 3)")
    p.add_argument("--smoothing", choices=SMOOTHING_CHOICES, default="kneser_ney",
                   help="default kneser_ney (interpolated modified KN); stupid_backoff gives scores")
    p.add_argument("--k", type=float, default=1.0, help="add-k pseudo-count (default 1: Laplace)")
    p.add_argument("--alpha", type=float, default=0.4, help="stupid-backoff factor (default 0.4)")
    p.add_argument("--min-count", type=int, default=1, help="rarer words become [UNK] (default 1)")
    p.add_argument("--max-vocab", type=int, default=None, help="keep the most frequent words only")
    p.set_defaults(func=run_train)

    p = add_command(sub, "eval", common, help="perplexity of a model (folder or .arpa) on a corpus",
                    example="lmlab ngram eval models/kn5 test.txt --json")
    p.add_argument("model", help="model folder or ARPA file")
    _corpus_args(p)
    p.set_defaults(func=run_eval)

    p = add_command(sub, "next", common, help="most probable next words after a context",
                    example='lmlab ngram next models/trigram "New York has amazing" -k 5')
    p.add_argument("model", help="model folder or ARPA file")
    p.add_argument("context", help="the words so far (a sentence start <s> is prepended)")
    p.add_argument("-k", type=int, default=10, help="how many words (default 10)")
    p.add_argument("--pretokenized", action="store_true", help="split the context on spaces only")
    p.set_defaults(func=run_next)

    p = add_command(sub, "generate", common, help="sample sentences from the model",
                    example='lmlab ngram generate models/kn5 --prompt "el caballero" -n 3 --seed 1')
    p.add_argument("model", help="model folder or ARPA file")
    p.add_argument("--prompt", default="", help="start of the sentence (default: empty)")
    p.add_argument("-n", type=int, default=1, help="how many sentences (default 1)")
    p.add_argument("--max-tokens", type=int, default=40, help="tokens per sentence at most")
    p.add_argument("--temperature", type=float, default=1.0, help="0 = greedy (default 1)")
    p.add_argument("--top-k", type=int, default=0, help="sample among the k best only (0 = all)")
    p.set_defaults(func=run_generate)

    p = add_command(sub, "export", common, help="write a model as an ARPA file (KenLM, SRILM)",
                    example="lmlab ngram export models/kn5 kn5.arpa")
    p.add_argument("model", help="model folder")
    p.add_argument("arpa", help="ARPA file to write")
    p.set_defaults(func=run_export)

    p = add_command(sub, "import", common, help="read an ARPA file (e.g. from KenLM lmplz) into a folder",
                    example="lmlab ngram import kenlm.arpa models/kenlm5")
    p.add_argument("arpa", help="ARPA file")
    p.add_argument("output", help="model folder to write")
    p.set_defaults(func=run_import)


def _corpus_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("corpus", help="text file or folder of .txt files, one sentence per line")
    p.add_argument("--pretokenized", action="store_true",
                   help="tokens are already separated by spaces (skip word tokenisation)")
    p.add_argument("--lower", action="store_true", help="lower-case the text")


def run_train(args: argparse.Namespace) -> int:
    import time

    from lmlab.models.ngram import NGramLM

    t0 = time.perf_counter()
    lm = NGramLM(order=args.order, smoothing=args.smoothing, k=args.k, alpha=args.alpha,
                 min_count=args.min_count, max_size=args.max_vocab)
    lm.fit(sentences(args.corpus, pretokenized=args.pretokenized, lower=args.lower))
    lm.save(args.output)
    info = {"output": args.output, "order": args.order, "smoothing": args.smoothing,
            "vocab_size": lm.vocab_size, "ngrams": lm.tables.sizes(),
            "discounts": lm.used_discounts, "seconds": round(time.perf_counter() - t0, 3)}
    emit(args, info, f"wrote {args.output}: order {args.order} {args.smoothing}, vocabulary "
                     f"{lm.vocab_size}, n-grams per order {info['ngrams']} ({info['seconds']} s)")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    lm = load_lm(args.model)
    result = lm.perplexity(sentences(args.corpus, pretokenized=args.pretokenized, lower=args.lower))
    data = result.to_dict()
    emit(args, data, f"perplexity {result.ppl:.3f} ({result.bits_per_token:.4f} bits/token) over "
                     f"{result.n_tokens} tokens (</s> included)")
    return 0


def run_next(args: argparse.Namespace) -> int:
    from lmlab.text.words import tokenize

    lm = load_lm(args.model)
    ctx = args.context.split() if args.pretokenized else tokenize(args.context)
    best = lm.next_words(ctx, k=args.k)
    emit(args, [{"word": w, "prob": p} for w, p in best],
         "\n".join(f"{p:.4f}  {w}" for w, p in best))
    return 0


def run_generate(args: argparse.Namespace) -> int:
    from lmlab.generate import GenerationConfig, generate
    from lmlab.text.words import tokenize

    lm = load_lm(args.model)
    vocab = lm.vocab
    prompt = [vocab.bos_id, *vocab.encode(tokenize(args.prompt))]
    config = GenerationConfig(strategy="greedy" if args.temperature == 0 else "sample",
                              max_new_tokens=args.max_tokens, temperature=args.temperature or 1.0,
                              top_k=args.top_k, stop_token_ids=(vocab.eos_id,), seed=args.seed)
    out = []
    for i in range(args.n):
        gen = generate(lm, [prompt], config.replace(seed=args.seed + i))[0]
        words = [w for w in vocab.decode(prompt[1:] + gen.ids) if w != "</s>"]
        out.append({"text": " ".join(words), "log_prob": gen.score, "finish_reason": gen.finish_reason})
    emit(args, out, "\n".join(o["text"] for o in out))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from lmlab.models.ngram.arpa import write_arpa

    path = write_arpa(load_lm(args.model), args.arpa)
    emit(args, {"arpa": str(path)}, f"wrote {path}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from lmlab.models.ngram.arpa import read_arpa

    lm = read_arpa(args.arpa)
    lm.save(args.output)
    emit(args, {"output": args.output, "order": lm.order, "vocab_size": lm.vocab_size},
         f"wrote {args.output}: order {lm.order}, vocabulary {lm.vocab_size}")
    return 0
