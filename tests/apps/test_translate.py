"""Translation app (`lmlab.apps.translate`): decoding a seq2seq model in input order, and scoring."""

from __future__ import annotations

import sacrebleu  # noqa: F401  (a hard dependency: an import error must fail)
import torch

from lmlab.apps.translate import evaluate_translation, translate
from lmlab.models.rnn.seq2seq import Seq2Seq, Seq2SeqConfig
from lmlab.train.recipes import fit_tokenizer, special_ids

SOURCES = ["el gato", "el perro come pan", "hola"]
TARGETS = ["the cat", "the dog eats bread", "hello"]


def _model() -> Seq2Seq:
    tokenizer = fit_tokenizer(SOURCES + TARGETS, "word", None, 1)
    pad, bos, eos = special_ids(tokenizer)
    torch.manual_seed(0)
    cfg = Seq2SeqConfig(vocab_size=tokenizer.get_vocab_size(), d_embed=8, d_hidden=8, pad_id=pad,
                        bos_id=bos, eos_id=eos, max_len=6)
    return Seq2Seq(cfg, tokenizer).eval()


def test_translate_keeps_input_order_and_batching_changes_nothing():
    model = _model()
    one_by_one = [translate(model, [s])[0] for s in SOURCES]
    assert translate(model, SOURCES, batch_size=2) == one_by_one
    beams = translate(model, SOURCES, strategy="beam", num_beams=2)
    assert len(beams) == len(SOURCES) and all(isinstance(b, str) for b in beams)


def test_evaluate_translation_scores_the_outputs():
    model = _model()
    result = evaluate_translation(model, SOURCES, TARGETS)
    assert result.hypotheses == translate(model, SOURCES)
    assert set(result.scores) == {"chrf", "bleu"} and all(0 <= v <= 100 for v in result.scores.values())
    rows = result.examples(SOURCES, TARGETS, n=2)
    assert rows[0] == {"source": SOURCES[0], "reference": TARGETS[0], "output": result.hypotheses[0]}
    assert len(rows) == 2
