"""BiLSTM sentiment classifier on the IMDb training reviews, with a TF-IDF + logistic-regression peer.

    python benchmarks/bench_rnn_imdb.py --epochs 2            # data: ../shared/data/imdb/train.jsonl.gz

The 25,000 labelled training reviews (Maas et al. 2011) are shuffled with the seed and split into
train and a held-out validation part (`--valid-fraction`); the official test split is not used.
Prints validation accuracy and wall-clock training time on this CPU for the BiLSTM
(`lmlab.train.recipes.train_rnn_classifier`) and for scikit-learn's TF-IDF + logistic regression
on the same split, with the load average (the machine may be shared). The course quotes 81.99% test
accuracy for its LSTM classifier. Skips with a message when the data file is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "imdb" / "train.jsonl.gz"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("LMLAB_IMDB", str(DEFAULT)))
    ap.add_argument("--valid-fraction", type=float, default=0.1)
    ap.add_argument("--limit", type=int, default=None, help="use only N reviews (quick runs)")
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--max-len", type=int, default=256)
    ap.add_argument("--d-embed", type=int, default=128)
    ap.add_argument("--d-hidden", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--vocab-size", type=int, default=20_000)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: on a busy shared CPU, more threads spin and slow down)")
    ap.add_argument("--run-dir", default=None, help="write metrics.jsonl, checkpoints and loss.png here")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args()
    if not Path(args.data).exists():
        print(f"skipped: {args.data} not found (set LMLAB_IMDB or --data)")
        return

    import torch

    from lmlab.data.corpus import iter_jsonl
    from lmlab.models.rnn.classifier import RNNClassifierConfig
    from lmlab.train import TrainConfig
    from lmlab.train.recipes import classification_accuracy, train_rnn_classifier

    torch.set_num_threads(args.threads)
    tags = re.compile(r"<[^>]{1,20}>")
    records = list(iter_jsonl(args.data))[: args.limit]
    texts = [tags.sub(" ", r["text"]) for r in records]
    labels = ["pos" if int(r["label"]) == 1 else "neg" for r in records]
    g = torch.Generator().manual_seed(args.seed)
    order = torch.randperm(len(texts), generator=g).tolist()
    cut = int(len(order) * args.valid_fraction)
    valid_idx, train_idx = order[:cut], order[cut:]
    tr_x, tr_y = [texts[i] for i in train_idx], [labels[i] for i in train_idx]
    va_x, va_y = [texts[i] for i in valid_idx], [labels[i] for i in valid_idx]

    results = {}
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    t0 = time.perf_counter()
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    clf = LogisticRegression(max_iter=1000, C=4.0).fit(vec.fit_transform(tr_x), tr_y)
    acc = float((clf.predict(vec.transform(va_x)) == va_y).mean())
    results["TF-IDF + logistic regression (sklearn)"] = {"accuracy": acc, "seconds": time.perf_counter() - t0}

    cfg = RNNClassifierConfig(d_embed=args.d_embed, d_hidden=args.d_hidden, max_len=args.max_len, dropout=0.3)
    tc = TrainConfig(epochs=args.epochs, lr=args.lr, warmup_steps=50, seed=args.seed, device="cpu",
                     tensorboard=False, log_every=10, progress=sys.stderr.isatty(), out_dir=args.run_dir)
    t0 = time.perf_counter()
    model, history = train_rnn_classifier(tr_x, tr_y, (), (), cfg, tc, vocab_size=args.vocab_size,
                                          batch_size=args.batch_size)
    seconds = time.perf_counter() - t0
    acc = classification_accuracy(model, va_x, va_y)
    results["BiLSTM (lmlab)"] = {"accuracy": acc, "seconds": seconds, "steps": history.steps}

    print(f"IMDb train reviews: {len(tr_x)} train / {len(va_x)} validation (seed {args.seed}); "
          f"BiLSTM {args.epochs:g} epochs, max_len {args.max_len}; load average {os.getloadavg()[0]:.1f}")
    for name, r in results.items():
        print(f"{name:42} accuracy {r['accuracy']:.2%}   train {r['seconds']:.0f} s")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"args": vars(args), "results": results}, fh, indent=1)


if __name__ == "__main__":
    main()
