"""RNN language models against the Kneser-Ney trigram on the embedded world (perplexity, probes).

    python benchmarks/bench_rnn_world.py --train-sentences 20000 --steps 1500 --cells lstm gru elman

Trains a modified Kneser-Ney trigram (`lmlab.models.ngram`) and one RNN LM per cell on the same
world sentences, and prints each model's test perplexity (per token, end of sentence included)
beside the world's exact entropy floor, with training times, then each RNN's accuracy on the
world's long-range cloze probes by distance ("Crecí en Francia , <k filler tokens> , por eso hablo
___": the answer is decided k + 4 tokens back, beyond any trigram's reach; chance = 1/4). Uses the
world's train/valid/test streams; the machine is shared, so the load average is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def probe_accuracy(model, probes) -> dict[int, float]:
    """Share of probes whose answer has the highest next-token logit among the choices, by distance."""
    import torch

    tok = model.tokenizer
    bos = tok.token_to_id("<s>")
    hits: dict[int, list[bool]] = {}
    with torch.no_grad():
        for p in probes:
            ids = torch.tensor([[bos, *tok.encode(" ".join(p.prompt), add_special_tokens=False).ids]])
            _, logits = model.start(ids)
            choice_ids = [tok.encode(c, add_special_tokens=False).ids[0] for c in p.choices]
            best = p.choices[int(logits[0, choice_ids].argmax())]
            hits.setdefault(p.distance, []).append(best == p.answer)
    return {d: sum(h) / len(h) for d, h in sorted(hits.items())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train-sentences", type=int, default=20_000)
    ap.add_argument("--test-sentences", type=int, default=2_000)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--cells", nargs="+", default=["lstm", "gru", "elman"])
    ap.add_argument("--d-hidden", type=int, default=256)
    ap.add_argument("--d-embed", type=int, default=128)
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: on a busy shared CPU, more threads spin and slow down)")
    ap.add_argument("--probes", type=int, default=100, help="probes per distance")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args()

    import torch

    from lmlab.data.world import World
    from lmlab.models.base import perplexity
    from lmlab.models.ngram import NGramLM
    from lmlab.models.rnn.lm import RNNLMConfig
    from lmlab.train import TrainConfig
    from lmlab.train.recipes import train_rnn_lm

    torch.set_num_threads(args.threads)
    world = World(seed=args.seed)
    splits = world.lm_splits(args.train_sentences, args.test_sentences // 2, args.test_sentences)
    train, valid, test = ([s.text for s in part] for part in (splits.train, splits.valid, splits.test))
    floor = world.entropy_floor(splits.test)
    n_train_tokens = sum(len(s.tokens) + 1 for s in splits.train)
    rows = {"entropy floor": {"ppl": floor.ppl, "seconds": 0.0}}
    probes = world.long_range_probes(distances=(0, 4, 8, 16, 32), n_per_distance=args.probes)

    t0 = time.perf_counter()
    kn = NGramLM(order=3, smoothing="kneser_ney").fit(train)
    rows["KN trigram"] = {"ppl": kn.perplexity(test).ppl, "seconds": time.perf_counter() - t0}

    for cell in args.cells:
        cfg = RNNLMConfig(cell=cell, d_embed=args.d_embed, d_hidden=args.d_hidden, dropout=0.1)
        tc = TrainConfig(max_steps=args.steps, lr=args.lr, warmup_steps=min(100, args.steps // 10),
                         eval_every=max(1, args.steps // 5), seed=args.seed, device="cpu", tensorboard=False)
        t0 = time.perf_counter()
        model, _ = train_rnn_lm(train, valid, cfg, tc, seq_len=args.seq_len, batch_size=args.batch_size)
        seconds = time.perf_counter() - t0
        rows[f"{cell.upper()} LM"] = {"ppl": perplexity(model, test).ppl, "seconds": seconds,
                                      "tokens_seen": args.steps * args.batch_size * args.seq_len,
                                      "probes": probe_accuracy(model, probes)}
    print(f"world seed {args.seed}: {args.train_sentences} train sentences ({n_train_tokens} tokens), "
          f"{args.test_sentences} test sentences; load average {os.getloadavg()[0]:.1f}")
    print(f"{'model':16} {'test ppl':>9} {'train s':>8}")
    for name, r in rows.items():
        print(f"{name:16} {r['ppl']:9.2f} {r['seconds']:8.1f}")
    print("long-range probe accuracy by filler distance (chance 0.25):")
    for name, r in rows.items():
        if "probes" in r:
            print(f"{name:16} " + "  ".join(f"{d:>2}: {a:.2f}" for d, a in r["probes"].items()))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"args": vars(args), "results": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
