"""Experiment: a small GPT against an LSTM on the embedded world, both trained by the shared Trainer.

The world's grammar gives the exact probability of every test token, so each model's perplexity
is compared with the entropy floor (the perplexity of the true distribution). Word-level vocabulary
from the training sentences ([UNK] for unseen test words, whose share is printed); every sentence
is scored from <s> through </s>, as the floor counts it.

    python benchmarks/exp_transformer_world.py                 # ~15 min on a busy 2-core CPU
    python benchmarks/exp_transformer_world.py --steps 300 --train 5000

Both models see the same random windows of the concatenated training stream, the same number of
optimiser steps, batch and sequence length; each has its own learning rate (the usual one for its
family). Prints a table: parameters, valid/test perplexity, gap to the floor, training seconds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def build_vocab(sentences) -> dict[str, int]:
    vocab = {"[PAD]": 0, "[UNK]": 1, "<s>": 2, "</s>": 3}
    for s in sentences:
        for t in s.tokens:
            vocab.setdefault(t, len(vocab))
    return vocab


def encode(sentences, vocab) -> list[list[int]]:
    return [[2, *(vocab.get(t, 1) for t in s.tokens), 3] for s in sentences]


@torch.no_grad()
def probe_accuracy(model, probes, vocab) -> dict[int, float]:
    """Share of cloze probes whose answer gets the highest score among the choices, per distance."""
    hits: dict[int, list[bool]] = {}
    for p in probes:
        ids = torch.tensor([[2, *(vocab.get(t, 1) for t in p.prompt)]])
        _, logits = model.start(ids)
        scores = {c: logits[0, vocab.get(c, 1)].item() for c in p.choices}
        hits.setdefault(p.distance, []).append(max(scores, key=scores.get) == p.answer)
    return {d: sum(h) / len(h) for d, h in sorted(hits.items())}


def main() -> int:
    from lmlab.data.tokens import RandomWindows
    from lmlab.data.world import World
    from lmlab.models.base import perplexity
    from lmlab.models.rnn.lm import RNNLanguageModel, RNNLMConfig
    from lmlab.models.transformer.gpt import GPT, GPTConfig
    from lmlab.train import TrainConfig, Trainer
    from lmlab.train.objectives import causal_lm

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", type=int, default=20000, help="training sentences")
    p.add_argument("--test", type=int, default=1000, help="valid and test sentences each")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", default="lstm,gpt", help="comma-separated: lstm, gpt")
    p.add_argument("--pos", default="learned", choices=("learned", "rotary", "sinusoidal"),
                   help="GPT position encoding")
    p.add_argument("--gpt-lr", type=float, default=1e-3)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: much faster than 2 when other jobs share the CPU)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    world = World(seed=args.seed)
    splits = world.lm_splits(args.train, args.test, args.test)
    vocab = build_vocab(splits.train)
    train_ids = encode(splits.train, vocab)
    stream = np.array([i for s in train_ids for i in s], dtype=np.int64)
    valid, test = encode(splits.valid, vocab), encode(splits.test, vocab)
    oov = sum(i == 1 for s in test for i in s) / sum(len(s) - 1 for s in test)
    floor = World.entropy_floor(splits.test)
    probes = world.long_range_probes(n_per_distance=50)
    print(f"world seed {args.seed}: {len(stream):,} training tokens, vocabulary {len(vocab)}, "
          f"test OOV {100 * oov:.2f}%, entropy floor ppl {floor.ppl:.3f} ({floor.bits_per_token:.3f} bits)")

    windows = RandomWindows(stream, args.seq_len, args.batch, seed=args.seed, n_batches=args.steps)
    v = len(vocab)
    wanted = args.models.split(",")
    models = {}
    if "lstm" in wanted:
        models["LSTM (2x256)"] = (RNNLanguageModel(RNNLMConfig(
            vocab_size=v, d_embed=128, d_hidden=256, n_layers=2, dropout=args.dropout)), 3e-3)
    if "gpt" in wanted:
        models[f"GPT (4x128, {args.pos})"] = (GPT(GPTConfig(
            vocab_size=v, max_seq_len=args.seq_len, d_model=128, n_layers=4, n_heads=4,
            dropout=args.dropout, pos=args.pos)), args.gpt_lr)
    rows = []
    for name, (model, lr) in models.items():
        torch.manual_seed(args.seed)
        cfg = TrainConfig(max_steps=args.steps, lr=lr, warmup_steps=args.steps // 20,
                          weight_decay=0.1, device="cpu", seed=args.seed, log_every=50,
                          tensorboard=False)
        t0 = time.perf_counter()
        Trainer(model, causal_lm, windows, None, cfg).fit()
        seconds = time.perf_counter() - t0
        model.eval()
        pv = perplexity(model, valid, batch_size=64).ppl
        pt = perplexity(model, test, batch_size=64).ppl
        n_params = sum(p.numel() for p in model.parameters())
        rows.append((name, n_params, pv, pt, seconds))
        print(f"{name:14s} params {n_params:>9,}  valid ppl {pv:7.3f}  test ppl {pt:7.3f}  "
              f"(floor {floor.ppl:.3f}, x{pt / floor.ppl:.3f})  {seconds:6.0f} s", flush=True)
        acc = probe_accuracy(model, probes, vocab)
        print("    long-range probes (accuracy by filler distance, chance 0.25): "
              + "  ".join(f"{d}: {a:.2f}" for d, a in acc.items()), flush=True)
    best = min(rows, key=lambda r: r[3])
    print(f"best test perplexity: {best[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
