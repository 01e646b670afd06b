"""lmlab's answer scores against the reference: a tiny random GPT-2 folder (byte-level BPE), scored
with transformers the way lm-evaluation-harness's HFLM does, and with lm_eval itself when installed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lmlab
from lmlab.prompting import score_continuations

transformers = pytest.importorskip("transformers")

CORPUS = ["la película fue buena", "la película fue mala", "la comida fue muy buena",
          "el precio era carísimo", "Pregunta: ¿qué tal? Respuesta: bacán"] * 30
# (context, choices): trailing spaces, merged " buena" tokens, accents, an empty context
ITEMS = [("la película fue", ["buena", "mala", "muy buena", "carísimo"]),
         ("la comida fue ", ["buena", "mala", "terrible"]),
         ("Pregunta: ¿qué tal? Respuesta:", ["bacán", "fue buena"]),
         ("", ["la película", "el precio"])]


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=320, special_tokens=["<|endoftext|>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    hf_tok = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                                                  eos_token="<|endoftext|>")
    folder = tmp_path_factory.mktemp("gpt2") / "tiny-gpt2"
    hf_tok.save_pretrained(folder)
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=64, n_embd=32, n_layer=2,
                                  n_head=4, bos_token_id=0, eos_token_id=0)
    ref = transformers.GPT2LMHeadModel(cfg).eval()
    ref.save_pretrained(folder)
    return folder, ref, hf_tok


def _hflm_loglikelihood(model, tok, context: str, continuation: str) -> float:
    """lm-eval's HFLM.loglikelihood for one request, written out (`_encode_pair`, prefix token)."""
    if context == "":
        ctx, cont = [tok.eos_token_id], tok(continuation, add_special_tokens=False).input_ids
    else:
        n = len(context) - len(context.rstrip())
        if n:
            context, continuation = context[:-n], context[-n:] + continuation
        whole = tok(context + continuation, add_special_tokens=False).input_ids
        ctx = tok(context, add_special_tokens=False).input_ids
        cont = whole[len(ctx):]
    inp = torch.tensor([(ctx + cont)[:-1]])
    with torch.no_grad():
        logp = torch.log_softmax(model(inp).logits[0].double(), dim=-1)
    return float(sum(logp[len(ctx) - 1 + j, t] for j, t in enumerate(cont)))


def _requests():
    return [(ctx, " " + c if ctx and not ctx.endswith(" ") else c, c) for ctx, choices in ITEMS for c in choices]


def test_scores_acc_and_acc_norm_equal_lm_eval_on_a_hugging_face_gpt2(gpt2):
    folder, ref, tok = gpt2
    ours = lmlab.load(folder)
    assert ours.bos_id is None and ours.eos_id == 0  # GPT-2: no start token, <|endoftext|> ends
    reqs = _requests()
    mine = [s.log_prob for s in score_continuations(ours, [(c, k) for c, k, _ in reqs])]
    theirs = [_hflm_loglikelihood(ref, tok, c, k) for c, k, _ in reqs]
    np.testing.assert_allclose(mine, theirs, atol=1e-4)
    start = 0
    for _, choices in ITEMS:  # acc and acc_norm (lm-eval's: divide by len(choice)) pick the same
        m, t = np.array(mine[start : start + len(choices)]), np.array(theirs[start : start + len(choices)])
        lengths = np.array([len(c) for c in choices], float)
        assert m.argmax() == t.argmax() and (m / lengths).argmax() == (t / lengths).argmax()
        start += len(choices)


def test_equal_to_lm_eval_itself(gpt2):
    pytest.importorskip("lm_eval")
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    folder, _, _ = gpt2
    lm = HFLM(pretrained=str(folder), batch_size=1, device="cpu")
    reqs = _requests()
    instances = [Instance(request_type="loglikelihood", doc={}, arguments=(c, k), idx=i)
                 for i, (c, k, _) in enumerate(reqs)]
    theirs = [ll for ll, _ in lm.loglikelihood(instances)]
    mine = [s.log_prob for s in score_continuations(lmlab.load(folder), [(c, k) for c, k, _ in reqs])]
    np.testing.assert_allclose(mine, theirs, atol=1e-4)
