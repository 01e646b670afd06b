"""Seq2seq GRU with attention on Tatoeba es<->en: chrF and BLEU (sacrebleu) after a short CPU budget.

    python benchmarks/bench_rnn_translate.py --pairs 30000 --steps 1500 --direction es-en en-es

`spa.txt` (English<TAB>Spanish, 118,964 pairs sorted by length) is shuffled with the seed; the first
`--valid` pairs are held out and `--pairs` of the rest train one model per direction. Prints corpus
chrF/BLEU of greedy (and, with --beam N, beam) decoding on the held-out pairs, training time and
the load average. Data path: --data or LMLAB_TATOEBA; skips with a message when absent.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "spa_eng_tatoeba" / "spa.txt"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.environ.get("LMLAB_TATOEBA", str(DEFAULT)))
    ap.add_argument("--pairs", type=int, default=30_000)
    ap.add_argument("--valid", type=int, default=500)
    ap.add_argument("--direction", nargs="+", default=["es-en"], choices=("es-en", "en-es"))
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--d-embed", type=int, default=128)
    ap.add_argument("--d-hidden", type=int, default=256)
    ap.add_argument("--attention", choices=("bahdanau", "luong"), default="luong")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--beam", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: on a busy shared CPU, more threads spin and slow down)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if not Path(args.data).exists():
        print(f"skipped: {args.data} not found (set LMLAB_TATOEBA or --data)")
        return

    import torch

    from lmlab.apps.translate import translate
    from lmlab.data.corpus import iter_lines
    from lmlab.metrics.translation import corpus_scores
    from lmlab.models.rnn.seq2seq import Seq2SeqConfig
    from lmlab.train import TrainConfig
    from lmlab.train.translation import train_seq2seq

    torch.set_num_threads(args.threads)
    pairs = [line.split("\t")[:2] for line in iter_lines(args.data) if "\t" in line]
    random.Random(args.seed).shuffle(pairs)
    held, train = pairs[: args.valid], pairs[args.valid : args.valid + args.pairs]
    results = {}
    for direction in args.direction:
        s, t = (1, 0) if direction == "es-en" else (0, 1)
        cfg = Seq2SeqConfig(d_embed=args.d_embed, d_hidden=args.d_hidden, attention=args.attention,
                            dropout=0.1, max_len=40)
        tc = TrainConfig(max_steps=args.steps, lr=args.lr, warmup_steps=100, seed=args.seed, device="cpu",
                         tensorboard=False, log_every=100)
        t0 = time.perf_counter()
        model, _ = train_seq2seq([p[s] for p in train], [p[t] for p in train], model_config=cfg,
                                 train_config=tc, vocab_size=16_000, min_frequency=2,
                                 batch_size=args.batch_size)
        seconds = time.perf_counter() - t0
        src, ref = [p[s] for p in held], [p[t] for p in held]
        row = {"seconds": seconds, "greedy": corpus_scores(translate(model, src), ref)}
        if args.beam > 1:
            row[f"beam{args.beam}"] = corpus_scores(translate(model, src, strategy="beam", num_beams=args.beam), ref)
        row["examples"] = list(zip(src[:5], translate(model, src[:5]), ref[:5], strict=True))
        results[direction] = row
    print(f"Tatoeba: {len(train)} training pairs, {len(held)} held out (seed {args.seed}); GRU "
          f"{args.d_hidden} + {args.attention} attention, {args.steps} steps x {args.batch_size}; "
          f"load average {os.getloadavg()[0]:.1f}")
    for direction, row in results.items():
        for key in [k for k in row if k.startswith(("greedy", "beam"))]:
            print(f"{direction} {key:7} chrF {row[key]['chrf']:5.1f}  BLEU {row[key]['bleu']:5.1f}"
                  f"   train {row['seconds']:.0f} s")
        for src, hyp, ref in row["examples"]:
            print(f"   {src}  ->  {hyp}   (ref: {ref})")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"args": vars(args), "results": results}, fh, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
