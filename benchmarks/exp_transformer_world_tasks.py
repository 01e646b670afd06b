"""Experiment: BERT pre-training (MLM) then fine-tuning on world sentiment and NER; a T5-style model
on world translation (es -> en). Everything through the shared Trainer, on the CPU.

    python benchmarks/exp_transformer_world_tasks.py            # ~20 min on a busy 2-core CPU
    python benchmarks/exp_transformer_world_tasks.py --mlm-steps 100 --t5-steps 100   # smoke run

1. A word-level vocabulary over all the world texts used below (the world's words are few).
2. MLM: a 4-layer, 128-wide BERT learns to fill 15% masked tokens (80/10/10) in world sentences.
3. Sentiment: `BertClassifier` on world reviews (negations, order-only contrasts), accuracy on a
   held-out split; the same classifier from a random encoder is the baseline.
4. NER: `BertTagger` on world NER sentences, entity-level F1 on a held-out split; same baseline.
5. Translation as text to text: one 2+2-layer T5-style model learns es->en and en->es, each
   source prefixed with its task ("translate Spanish to English: ..."); greedy decoding through
   `condition()`/`start`/`step`, chrF (sacrebleu) on held-out pairs in each direction.
"""

from __future__ import annotations

import argparse
import time
from typing import ClassVar

import torch


class Vocab:
    SPECIAL: ClassVar[list[str]] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "</s>"]

    def __init__(self, texts) -> None:
        self.ids = {t: i for i, t in enumerate(self.SPECIAL)}
        for text in texts:
            for w in text.split():
                self.ids.setdefault(w, len(self.ids))
        self.words = list(self.ids)

    def __call__(self, words) -> list[int]:
        return [self.ids.get(w, 1) for w in words]

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, texts) -> None:
        for text in texts:
            for w in text.split():
                if w not in self.ids:
                    self.ids[w] = len(self.ids)
                    self.words.append(w)


def train(model, objective, data, steps: int, lr: float, seed: int) -> float:
    from lmlab.train import TrainConfig, Trainer

    cfg = TrainConfig(max_steps=steps, lr=lr, warmup_steps=max(1, steps // 20), weight_decay=0.01,
                      device="cpu", seed=seed, log_every=50, tensorboard=False)
    t0 = time.perf_counter()
    Trainer(model, objective, data, None, cfg).fit()
    return time.perf_counter() - t0


def main() -> int:

    from lmlab.data.world import World

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mlm-steps", type=int, default=600)
    p.add_argument("--task-steps", type=int, default=250)
    p.add_argument("--t5-steps", type=int, default=800)
    p.add_argument("--only-t5", action="store_true", help="skip the BERT parts (1-4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    world = World(seed=args.seed)
    lm = world.lm_sentences(20000)
    reviews = world.reviews(5000)
    ner = world.ner_sentences(5000)
    pairs = world.parallel(5500)
    vocab = Vocab([s.text for s in lm] + [r.text for r in reviews] + [" ".join(s.tokens) for s in ner]
                  + [x.es for x in pairs] + [x.en for x in pairs])

    print(f"vocabulary {len(vocab)} words; {len(lm)} MLM sentences, {len(reviews)} reviews, "
          f"{len(ner)} NER sentences, {len(pairs)} translation pairs", flush=True)

    if not args.only_t5:
        bert_parts(args, world, lm, reviews, ner, vocab)
    translation(args, pairs, vocab)
    return 0


def bert_parts(args, world, lm, reviews, ner, vocab) -> None:
    """Steps 2-4: MLM pre-training, then sentiment and NER with and without it."""
    from lmlab.data.tokens import PaddedBatches
    from lmlab.metrics.ner import entity_f1
    from lmlab.models.transformer.bert import (
        BertClassifier,
        BERTConfig,
        BertForPreTraining,
        BertTagger,
    )
    from lmlab.train.objectives import classification
    from lmlab.train.pretraining import mask_tokens, mlm_nsp, token_tagging

    cls, sep, mask_id = 2, 3, 4
    # -- MLM pre-training ---------------------------------------------------------------------
    cfg = BERTConfig(vocab_size=len(vocab), max_seq_len=128, d_model=128, n_layers=4, n_heads=4,
                     d_ff=512, dropout=0.1, n_labels=2)
    torch.manual_seed(args.seed)
    pre = BertForPreTraining(cfg)
    mlm_data = PaddedBatches({"ids": [[cls, *vocab(s.tokens), sep] for s in lm]}, 64, max_len=128)

    def mlm_objective(model, batch):
        ids, keep = batch["ids"], batch["mask"]
        special = ~keep | (ids == cls) | (ids == sep)
        inputs, labels = mask_tokens(ids, mask_id=mask_id, vocab_size=len(vocab), special=special)
        return mlm_nsp(model, {"ids": inputs, "mask": keep, "labels": labels})

    s = train(pre, mlm_objective, mlm_data, args.mlm_steps, 1e-3, args.seed)
    pre.eval()
    with torch.no_grad():  # masked-token accuracy on held-out sentences
        g = torch.Generator().manual_seed(1)
        held = PaddedBatches({"ids": [[cls, *vocab(x.tokens), sep] for x in world.lm_sentences(
            500, stream="test")]}, 500, max_len=128)[0]
        special = ~held["mask"] | (held["ids"] == cls) | (held["ids"] == sep)
        inputs, labels = mask_tokens(held["ids"], mask_id=mask_id, vocab_size=len(vocab),
                                     special=special, generator=g)
        pred = pre(inputs, held["mask"])[0].argmax(-1)
        chosen = labels != -100
        acc = (pred[chosen] == labels[chosen]).float().mean().item()
    print(f"MLM: {args.mlm_steps} steps in {s:.0f} s; held-out masked-token accuracy {acc:.3f}", flush=True)

    # -- sentiment ------------------------------------------------------------------------------
    rv_train, rv_test = reviews[:4000], reviews[4000:]

    def rv_batches(items, bs):
        return PaddedBatches({"ids": [[cls, *vocab(r.text.split()), sep] for r in items],
                              "labels": [r.label for r in items]}, bs)

    test_b = rv_batches(rv_test, 1000)[0]
    for name, encoder in (("pre-trained", pre.bert), ("random init", None)):
        torch.manual_seed(args.seed)
        clf = BertClassifier(cfg, encoder=encoder)
        s = train(clf, classification, rv_batches(rv_train, 32), args.task_steps, 3e-4, args.seed)
        clf.eval()
        with torch.no_grad():
            acc = (clf(test_b["ids"], test_b["mask"]).argmax(-1) == test_b["labels"]).float().mean().item()
        print(f"sentiment ({name} encoder): test accuracy {acc:.3f} on {len(rv_test)} reviews "
              f"({args.task_steps} steps, {s:.0f} s)", flush=True)

    # -- NER ------------------------------------------------------------------------------------
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]
    ner_train, ner_test = ner[:4000], ner[4000:]

    def ner_batches(items, bs):
        b = PaddedBatches({"ids": [[cls, *vocab(x.tokens), sep] for x in items],
                           "label_ids": [[0, *(tags.index(t) for t in x.tags), 0] for x in items]},
                          bs, bucket=False)
        out = []
        for i in range(len(b)):
            x = b[i]
            labels = x.pop("label_ids").masked_fill(~x.pop("label_mask"), -100)
            labels[:, 0] = -100  # [CLS]
            labels[torch.arange(len(labels)), x["mask"].sum(1) - 1] = -100  # [SEP]
            out.append({**x, "labels": labels})
        return out

    test_b = ner_batches(ner_test, 1000)[0]
    ner_cfg = cfg.replace(n_labels=len(tags))
    for name, encoder in (("pre-trained", pre.bert), ("random init", None)):
        torch.manual_seed(args.seed)
        tagger = BertTagger(ner_cfg, encoder=encoder)
        s = train(tagger, token_tagging, ner_batches(ner_train, 32), args.task_steps, 1e-3, args.seed)
        tagger.eval()
        with torch.no_grad():
            pred = tagger(test_b["ids"], test_b["mask"]).argmax(-1)
        predicted = [[tags[int(t)] for t in pred[i, 1 : 1 + len(x.tokens)]] for i, x in enumerate(ner_test)]
        f1 = entity_f1([x.tags for x in ner_test], predicted)["f1"]
        print(f"NER ({name} encoder): entity-level F1 {f1:.3f} on {len(ner_test)} sentences "
              f"({args.task_steps} steps, {s:.0f} s)", flush=True)



def translation(args, pairs, vocab) -> None:
    """Step 5: one T5-style model, two translation directions told apart by their prefix."""
    import sacrebleu

    from lmlab.data.tokens import PaddedBatches
    from lmlab.models.transformer.t5 import T5, T5Config, task_input
    from lmlab.train.objectives import seq2seq

    eos = 5
    tr, te = pairs[:5000], pairs[5000:]
    tasks = {"translate_es_en": lambda x: (x.es, x.en), "translate_en_es": lambda x: (x.en, x.es)}
    vocab.add(task_input(t, "") for t in tasks)
    t5 = T5(T5Config(vocab_size=len(vocab), max_seq_len=128, d_model=128, n_layers=2, n_heads=4,
                     d_ff=512, dropout=0.1))
    srcs, tgts = [], []
    for x in tr:
        for task, pick in tasks.items():
            a, b = pick(x)
            srcs.append([*vocab(task_input(task, a).split()), eos])
            tgts.append([0, *vocab(b.split()), eos])
    s = train(t5, seq2seq, PaddedBatches({"src_ids": srcs, "tgt_ids": tgts}, 32), args.t5_steps, 3e-3,
              args.seed)
    t5.eval()
    print(f"T5-style text-to-text model ({sum(p.numel() for p in t5.parameters()):,} parameters), "
          f"{args.t5_steps} steps on both directions, {s:.0f} s", flush=True)
    for task, pick in tasks.items():
        src = PaddedBatches({"src_ids": [[*vocab(task_input(task, pick(x)[0]).split()), eos] for x in te]},
                            len(te), bucket=False)[0]
        lm_t = t5.condition(src["src_ids"], src["src_mask"])
        state, logits = lm_t.start(torch.zeros(len(te), 1, dtype=torch.long))
        out = []
        for _ in range(40):
            nxt = logits.argmax(-1)
            out.append(nxt)
            state, logits = lm_t.step(state, nxt)
        hyps = []
        for row in torch.stack(out, 1).tolist():
            words = []
            for i in row:
                if i == eos:
                    break
                words.append(vocab.words[i])
            hyps.append(" ".join(words))
        refs = [pick(x)[1] for x in te]
        chrf = sacrebleu.corpus_chrf(hyps, [refs]).score
        exact = sum(h == r for h, r in zip(hyps, refs, strict=True)) / len(te)
        print(f"  {task}: chrF {chrf:.1f}, exact match {exact:.3f} on {len(te)} held-out pairs; "
              f"e.g. {pick(te[0])[0]!r} -> {hyps[0]!r}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
