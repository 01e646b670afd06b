"""Continuation scores: exact normalisations, PMI as a difference, lm-eval's encoding, [MASK] scoring."""

from __future__ import annotations

import math

import pytest
import torch

from lmlab.errors import ConfigError, DataError
from lmlab.models.base import token_log_probs
from lmlab.prompting import Request, classify, score_answers, score_continuations
from lmlab.prompting.masked import masked_ids, score_masked
from lmlab.prompting.scoring import encode_pair, move_spaces


def test_per_char_per_byte_and_per_token_are_exact(bigram):
    s_buena, s_bacan, s_muy = score_continuations(
        bigram, [Request("la película fue", " buena", "buena"), Request("la película fue", " bacán", "bacán"),
                 Request("la película fue", " muy buena", "muy buena")])
    assert s_bacan.log_prob == pytest.approx(math.log(1 / 6), abs=1e-6)
    assert (s_bacan.n_chars, s_bacan.n_bytes, s_bacan.n_tokens) == (5, 6, 1)  # á is two bytes
    assert s_bacan.value("per_char") == pytest.approx(math.log(1 / 6) / 5, abs=1e-6)
    assert s_bacan.value("per_byte") == pytest.approx(math.log(1 / 6) / 6, abs=1e-6)
    assert s_buena.value("per_char") == pytest.approx(math.log(1 / 3) / 5, abs=1e-6)
    assert s_muy.n_tokens == 2 and s_muy.n_chars == 9
    assert s_muy.value("per_token") == pytest.approx(math.log(1 / 6) / 2, abs=1e-6)
    assert s_muy.value("per_char") == pytest.approx(math.log(1 / 6) / 9, abs=1e-6)
    # acc ranks "buena" first, acc_norm (per character, lm-eval's) "muy buena"
    assert s_buena.value("logprob") > s_muy.value("logprob")
    assert s_muy.value("per_char") > s_buena.value("per_char")


def _by_hand(lm, context: str, answer: str) -> float:
    """log p(answer | context) from the token ids and token_log_probs, without the scoring module."""
    ctx = lm.vocab.encode(context.split())
    ans = lm.vocab.encode(answer.split())
    lp = token_log_probs(lm, torch.tensor([[lm.bos_id, *ctx, *ans]]))[0]
    return float(lp[len(ctx):].double().sum())


def test_pmi_is_the_difference_of_two_independent_scores(trigram):
    null = "Respuesta :"
    scores = score_continuations(trigram, [("la película fue", " buena"), ("la comida fue", " muy buena")],
                                 null_context=null)
    for s, ctx, ans in zip(scores, ["la película fue", "la comida fue"], ["buena", "muy buena"], strict=True):
        cond, uncond = _by_hand(trigram, ctx, ans), _by_hand(trigram, null, ans)
        assert s.log_prob == pytest.approx(cond, abs=1e-5)
        assert s.null_log_prob == pytest.approx(uncond, abs=1e-5)
        assert s.value("pmi") == pytest.approx(cond - uncond, abs=1e-5)
    with pytest.raises(ConfigError, match="PMI"):
        score_continuations(trigram, [("la", " comida")])[0].value("pmi")


def test_batched_scores_equal_one_at_a_time(trigram):
    reqs = [("la película fue", " buena"), ("la", " comida fue mala"), ("la comida", " fue"),
            ("la película fue", " mala"), ("", "la música")]
    together = score_continuations(trigram, reqs, batch_size=2)
    alone = [score_continuations(trigram, [r])[0] for r in reqs]
    assert [s.log_prob for s in together] == pytest.approx([s.log_prob for s in alone], abs=1e-6)


def test_trailing_spaces_move_to_the_continuation_as_in_lm_eval(trigram):
    assert move_spaces("me pareció ", "buena") == ("me pareció", " buena")
    a = score_continuations(trigram, [("la película fue ", "buena")])[0]
    b = score_continuations(trigram, [("la película fue", " buena")])[0]
    assert a.log_prob == b.log_prob


def test_continuation_tokens_are_the_tail_of_the_whole_encoding():
    """A byte-level BPE merges the space into the answer's first token: the continuation's ids
    come from encoding context + continuation, not the continuation alone."""
    from lmlab.text.tokenizers import train_tokenizer

    corpus = ["la película fue buena", "la película fue mala", "fue buena buena buena"] * 20
    tok = train_tokenizer("bpe", corpus, vocab_size=300)

    class Reader:
        tokenizer, bos_id, eos_id = tok, None, None

    ctx, cont = encode_pair(Reader(), "la película fue", " buena")
    whole = tok.encode("la película fue buena", add_special_tokens=False).ids
    assert ctx + cont == whole and cont == whole[len(ctx):]
    assert cont != tok.encode("buena", add_special_tokens=False).ids  # "Ġbuena" is not "buena"


def test_a_prompt_longer_than_the_context_is_a_one_line_error(trigram, limited, single_line):
    short = limited(trigram, 3)
    with pytest.raises(DataError, match="context of 3") as info:
        score_continuations(short, [("la película fue", " buena")])
    assert single_line(info.value)
    assert score_continuations(short, [("la", " película")])[0].n_tokens == 1


def test_empty_answer_space_and_empty_continuation_are_errors(trigram):
    with pytest.raises(DataError, match="empty"):
        score_answers(trigram, "[X] fue [Z]", ["la comida"], [])
    with pytest.raises(DataError, match="no tokens"):
        score_continuations(trigram, [("la comida", " ")])


# ---------------------------------------------------------------- masked LMs (PET-style)
@pytest.fixture(scope="module")
def tiny_bert():
    from lmlab.models.transformer.bert import BERTConfig, BertForPreTraining
    from lmlab.text.tokenizers import train_tokenizer

    tok = train_tokenizer("wordpiece", ["la película fue muy buena", "la comida fue mala ."] * 10,
                          vocab_size=80)
    torch.manual_seed(0)
    cfg = BERTConfig.preset("bert-tiny", vocab_size=tok.get_vocab_size(), max_seq_len=32, dropout=0.0)
    return BertForPreTraining(cfg, tokenizer=tok).eval()


def test_mask_scoring_sums_the_answer_tokens_at_the_masks(tiny_bert):
    req = Request("la película fue", " muy buena", "muy buena", " .")
    ids, where, answer = masked_ids(tiny_bert, req)
    tok = tiny_bert.tokenizer
    mask, cls, sep = (tok.token_to_id(t) for t in ("[MASK]", "[CLS]", "[SEP]"))
    assert len(answer) == 2 and ids[0] == cls and ids[-1] == sep
    assert [ids[p] for p in where] == [mask, mask]
    (score,) = score_masked(tiny_bert, [req])
    with torch.no_grad():
        logp = torch.log_softmax(tiny_bert(torch.tensor([ids]))[0][0].double(), dim=-1)
    assert score.log_prob == pytest.approx(float(logp[where[0], answer[0]] + logp[where[1], answer[1]]), abs=1e-5)
    assert score.n_tokens == 2


def test_cloze_templates_work_for_masked_lms_only(tiny_bert, trigram):
    from lmlab.prompting import Verbalizer

    v = Verbalizer({"+": ["buena"], "-": ["mala"]})
    (pred,) = classify(tiny_bert, "[X] fue [Z] .", v, ["la película"], score="pmi")
    assert set(pred.scores) == {"+", "-"} and all(math.isfinite(s) for s in pred.scores.values())
    with pytest.raises(ConfigError, match="must end the template"):
        classify(trigram, "[X] fue [Z] .", v, ["la película"])


def test_pairs_normalise_by_the_answer_without_the_delimiter(bigram):
    (s,) = score_continuations(bigram, [("la música fue", " bacán")])
    assert s.answer == "bacán" and s.n_chars == 5 and s.n_bytes == 6
