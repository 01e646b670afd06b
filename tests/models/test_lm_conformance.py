"""One conformance suite over every language-model family of lmlab.

Each family is built tiny from the same small Spanish corpus (accents, ñ, ¿¡) and checked against
the one protocol of `lmlab.models.base`: normalised next-token distributions, start/step equal to
teacher forcing, batched equal to one row at a time, a save/load round trip, text prompts read as
`[bos_id] + tokenizer ids` by `lmlab.generate` and by `lmlab generate`, `lmlab.perplexity` equal
to summed `token_log_probs`, and the declared parts (`tokenizer`, `bos_id`, `eos_id`,
`max_seq_len`, `start(ids, capacity=...)`).

Encoder-decoders (RNN seq2seq, T5) are checked through `model.condition(src_ids)`, the language
model over targets given a source; the encoder-decoder itself is what is saved and what
`generate` and the command line receive (the prompt text is then the source).

Random initialisation is enough: conformance is about the protocol, not about quality.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch

import lmlab
from lmlab.errors import ConfigError, DataError
from lmlab.generate.api import Generation, is_encoder_decoder
from lmlab.models.base import LanguageModel, token_log_probs
from lmlab.models.ngram.model import NGramLM
from lmlab.models.rnn.lm import RNNLanguageModel, RNNLMConfig
from lmlab.models.rnn.seq2seq import Seq2Seq, Seq2SeqConfig
from lmlab.models.transformer.gpt import GPT, GPTConfig
from lmlab.models.transformer.llama import Llama, LlamaConfig
from lmlab.models.transformer.t5 import T5, T5Config
from lmlab.text.special import BOS, EOS, PAD, UNK
from lmlab.train.recipes import fit_tokenizer

# Punctuation is written apart so that the n-gram models (whitespace split) and the word-level
# tokenizer (which also splits punctuation off) see the same words.
CORPUS = [
    "el perro come carne .",
    "¿ dónde está el niño ?",
    "la niña canta una canción .",
    "el perro y la niña juegan en el jardín .",
    "¡ qué día tan bonito !",
    "el niño come pan con mantequilla .",
    "mañana la niña irá al campo con el perro .",
    "¿ está lloviendo en la montaña ?",
    "el pequeño búho duerme de día .",
    "¡ ojalá que el año próximo sea mejor !",
]
#: scored texts: sentences of the corpus, so that MLE gives every token a nonzero probability.
EVAL_TEXTS = [CORPUS[0], CORPUS[1], CORPUS[6], CORPUS[9]]
PROMPT = "el perro"
#: sources of the encoder-decoders: equal token counts, so that they batch without padding.
SOURCES = ["¿ dónde está el perro ?", "la niña come pan con mantequilla"]
MAX_NEW = 4
ENDOFTEXT = "<|endoftext|>"
ATOL = 1e-5


# ---- the families ------------------------------------------------------------------------


@dataclass
class Case:
    """One family, built tiny.

    model: what is saved, loaded and given to `generate` (the encoder-decoder for seq2seq/T5).
    kind: "ngram", "rnn", "gpt", "hf", "seq2seq" or "t5".
    encode: text -> token ids computed without the model (the tokenizer it was built with, or
        the n-gram vocabulary), the independent reading of a text.
    bos, eos: the ids the family must declare, from its tokenizer or its checkpoint config.
    normalised: False for stupid backoff (scores, not probabilities).
    """

    name: str
    model: Any
    kind: str
    encode: Callable[[str], list[int]]
    bos: int | None
    eos: int | None
    normalised: bool = True
    folder: Any = None  # the Hugging Face folder an imported model came from

    @property
    def conditioned(self) -> bool:
        return self.kind in ("seq2seq", "t5")

    def lm_for(self, model: Any = None, rows: int = 1) -> Any:
        """The LanguageModel under test, for a batch of `rows` (conditioned on SOURCES[:rows])."""
        model = self.model if model is None else model
        if not self.conditioned:
            return model
        src = model.source_ids(SOURCES[:rows])
        assert len({len(s) for s in src}) == 1, "SOURCES must have equal token counts"
        return model.condition(torch.tensor(src, dtype=torch.long))

    def lm_row(self, i: int) -> Any:
        """The LanguageModel of row i alone (conditioned on SOURCES[i] only)."""
        if not self.conditioned:
            return self.model
        return self.model.condition(torch.tensor(self.model.source_ids([SOURCES[i]])))

    def sequence(self, text: str) -> list[int]:
        """`[bos] + ids + [eos]` of a text, read independently of the model."""
        head = [] if self.bos is None else [self.bos]
        return head + self.encode(text) + [self.eos]


def _spread(module: torch.nn.Module, std: float, seed: int) -> None:
    """Larger random weights than the default init: sharper distributions, so that a protocol
    mistake (an off-by-one position, a lost cache entry) shows far above the tolerances."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * std)


def _word_tokenizer():
    return fit_tokenizer(CORPUS, "word")


def _tok_encode(tok) -> Callable[[str], list[int]]:
    return lambda text: tok.encode(text, add_special_tokens=False).ids


def _ngram(order: int, smoothing: str) -> Callable[[Any], Case]:
    def build(_tmp) -> Case:
        model = NGramLM(order, smoothing).fit(CORPUS)
        vocab = model.vocab
        return Case("", model, "ngram", lambda t: vocab.encode(t.split()),
                    vocab.index[BOS], vocab.index[EOS], normalised=smoothing != "stupid_backoff")
    return build


def _rnn(cell: str) -> Callable[[Any], Case]:
    def build(_tmp) -> Case:
        tok = _word_tokenizer()
        torch.manual_seed(0)
        cfg = RNNLMConfig(vocab_size=tok.get_vocab_size(), d_embed=16, d_hidden=24, n_layers=2,
                          cell=cell)
        model = RNNLanguageModel(cfg, tok).eval()
        return Case("", model, "rnn", _tok_encode(tok), tok.token_to_id(BOS), tok.token_to_id(EOS))
    return build


def _gpt(kind: str = "word", **cfg: Any) -> Callable[[Any], Case]:
    def build(_tmp) -> Case:
        tok = _word_tokenizer() if kind == "word" else fit_tokenizer(CORPUS, "bpe", vocab_size=300)
        torch.manual_seed(0)
        config = GPTConfig(vocab_size=tok.get_vocab_size(), max_seq_len=32, d_model=32, n_layers=2,
                           n_heads=4, **cfg)
        model = GPT(config, tok).eval()
        _spread(model, 0.2, seed=1)
        return Case("", model, "gpt", _tok_encode(tok), tok.token_to_id(BOS), tok.token_to_id(EOS))
    return build


def _llama(preset: str, **cfg: Any) -> Callable[[Any], Case]:
    """A Llama-family decoder (GQA, rotary, SwiGLU; a sliding window; experts) on the word
    tokenizer; kind "gpt" since it is lmlab's GPT network with a Llama config."""
    def build(_tmp) -> Case:
        tok = _word_tokenizer()
        torch.manual_seed(0)
        config = LlamaConfig.preset(preset, vocab_size=tok.get_vocab_size(), max_seq_len=32,
                                    d_model=32, n_heads=4, n_kv_heads=2, d_ff=48, **cfg)
        model = Llama(config, tok).eval()
        _spread(model, 0.2, seed=1)
        return Case("", model, "gpt", _tok_encode(tok), tok.token_to_id(BOS), tok.token_to_id(EOS))
    return build


def _gpt2_style_tokenizer():
    """A lmlab word tokenizer with GPT-2's one special, <|endoftext|>, beside [PAD] and [UNK]."""
    return fit_tokenizer(CORPUS, "word", specials=(PAD, UNK, ENDOFTEXT))


def _hf_gpt2(tmp) -> Case:
    """A random transformers GPT2LMHeadModel saved with a lmlab tokenizer, opened by lmlab.load."""
    transformers = pytest.importorskip("transformers")
    tok = _gpt2_style_tokenizer()
    eos = tok.token_to_id(ENDOFTEXT)
    torch.manual_seed(0)
    hf_cfg = transformers.GPT2Config(vocab_size=tok.get_vocab_size() + 3, n_positions=32, n_embd=16,
                                     n_layer=2, n_head=2, resid_pdrop=0.0, embd_pdrop=0.0,
                                     attn_pdrop=0.0, bos_token_id=eos, eos_token_id=eos)
    ref = transformers.GPT2LMHeadModel(hf_cfg).eval()
    _spread(ref, 0.2, seed=2)
    folder = tmp / "hf-gpt2"
    ref.save_pretrained(folder)
    tok.save(str(folder / "tokenizer.json"))
    model = lmlab.load(folder)
    assert isinstance(model, GPT)
    ids = torch.tensor([[5, 7, 9, 11, 4]])
    with torch.no_grad():  # the import is the checkpoint: same logits as transformers
        torch.testing.assert_close(model.teacher_forced_logits(ids), ref(ids).logits,
                                   atol=1e-4, rtol=1e-4)
    # GPT-2 reads no start token; it ends texts with the config's eos_token_id.
    return Case("", model, "hf", _tok_encode(tok), None, eos, folder=folder)


def _seq2seq(cell: str, attention: str) -> Callable[[Any], Case]:
    def build(_tmp) -> Case:
        tok = _word_tokenizer()
        torch.manual_seed(0)
        cfg = Seq2SeqConfig(vocab_size=tok.get_vocab_size(), d_embed=16, d_hidden=16, cell=cell,
                            attention=attention, pad_id=tok.token_to_id("[PAD]"),
                            bos_id=tok.token_to_id(BOS), eos_id=tok.token_to_id(EOS), max_len=16)
        model = Seq2Seq(cfg, tok).eval()
        return Case("", model, "seq2seq", _tok_encode(tok), cfg.bos_id, cfg.eos_id)
    return build


def _t5(_tmp) -> Case:
    tok = _word_tokenizer()
    torch.manual_seed(0)
    cfg = T5Config(vocab_size=tok.get_vocab_size(), max_seq_len=32, d_model=32, n_layers=2,
                   n_heads=4, d_ff=64, dropout=0.0, rel_buckets=8, rel_max_distance=16)
    model = T5(cfg, tok).eval()
    # T5 starts every target with decoder_start_id (its pad, id 0) and ends it with </s>.
    return Case("", model, "t5", _tok_encode(tok), cfg.decoder_start_id, tok.token_to_id(EOS))


BUILDERS: dict[str, Callable[[Any], Case]] = {
    "ngram1-add_k": _ngram(1, "add_k"),
    "ngram2-kneser_ney": _ngram(2, "kneser_ney"),
    "ngram3-kneser_ney": _ngram(3, "kneser_ney"),
    "ngram3-add_k": _ngram(3, "add_k"),
    "ngram2-mle": _ngram(2, "mle"),
    "ngram3-stupid_backoff": _ngram(3, "stupid_backoff"),
    "rnn-elman": _rnn("elman"),
    "rnn-lstm": _rnn("lstm"),
    "rnn-gru": _rnn("gru"),
    "gpt-learned-layernorm-gelu_tanh-bias-tied": _gpt(
        pos="learned", norm="layernorm", activation="gelu_tanh", bias=True, tie_embeddings=True),
    "gpt-sinusoidal-rmsnorm-swiglu-nobias-untied": _gpt(
        pos="sinusoidal", norm="rmsnorm", activation="swiglu", bias=False, tie_embeddings=False),
    "gpt-rotary-rmsnorm-gelu-bias-untied-math": _gpt(
        pos="rotary", norm="rmsnorm", activation="gelu", bias=True, tie_embeddings=False,
        attention="math"),
    "gpt-nopos-layernorm-relu-nobias-tied": _gpt(
        pos="none", norm="layernorm", activation="relu", bias=False, tie_embeddings=True),
    "gpt-bpe-rotary-layernorm-swiglu": _gpt(
        "bpe", pos="rotary", norm="layernorm", activation="swiglu", bias=True, tie_embeddings=True),
    "llama-gqa": _llama("llama-tiny", rope_theta=500000.0),
    "mistral-window": _llama("llama-tiny", sliding_window=3),
    "qwen2-qkv-bias-tied": _llama("llama-tiny", qkv_bias=True, tie_embeddings=True),
    "mixtral-experts": _llama("mixtral-tiny"),
    "hf-gpt2": _hf_gpt2,
    "seq2seq-gru-luong": _seq2seq("gru", "luong"),
    "seq2seq-lstm-bahdanau": _seq2seq("lstm", "bahdanau"),
    "t5": _t5,
}
FAMILIES = list(BUILDERS)
#: stupid backoff is not normalised: it is left out of the checks that need a distribution.
DISTRIBUTIONS = [f for f in FAMILIES if "stupid_backoff" not in f]


@pytest.fixture(scope="module")
def _built(tmp_path_factory):
    cache: dict[str, Case] = {}

    def get(name: str) -> Case:
        if name not in cache:
            case = BUILDERS[name](tmp_path_factory.mktemp(name))
            case.name = name
            cache[name] = case
        return cache[name]
    return get


@pytest.fixture(scope="module", params=FAMILIES)
def case(request, _built) -> Case:
    return _built(request.param)


# ---- helpers -------------------------------------------------------------------------------


def _lsm(logits: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(logits.float(), dim=-1)


def _ids(rows: list[list[int]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.long)


def _same_length_rows(case: Case, n: int, length: int) -> torch.Tensor:
    """n different corpus sentences cut to `length` ids ([bos] first when declared)."""
    seqs = [case.sequence(t) for t in CORPUS]
    seqs = [s[:length] for s in seqs if len(s) >= length + 1]
    assert len(seqs) >= n
    return _ids(seqs[:n])


def _close(got: torch.Tensor, want: torch.Tensor, case: Case, atol: float = ATOL) -> None:
    if case.kind == "ngram":  # numpy tables: the same numbers whatever the batch
        assert torch.equal(got, want)
    else:
        torch.testing.assert_close(got, want, atol=atol, rtol=atol)


def _greedy_by_hand(lm: Any, prompt: list[int], n: int) -> list[int]:
    """Greedy decoding written directly on start/step (the oracle of `generate`)."""
    state, logits = lm.start(_ids([prompt]))
    out: list[int] = []
    for _ in range(n):
        nxt = int(torch.argmax(logits[0]))
        out.append(nxt)
        if nxt == lm.eos_id or len(out) == n:
            break
        state, logits = lm.step(state, _ids([[nxt]])[0])
    return out


# ---- 1. next-token distributions are normalised ------------------------------------------


@pytest.mark.parametrize("case", DISTRIBUTIONS, indirect=True)
def test_distributions_sum_to_one(case):
    lm = case.lm_for(rows=2)
    rows = _same_length_rows(case, 2, 3)
    state, logits = lm.start(rows)
    seen = [logits]
    for t in range(3):
        state, logits = lm.step(state, rows[:, (t + 1) % 3])
        seen.append(logits)
    for logits in seen:
        assert logits.shape == (2, lm.vocab_size)
        assert not torch.isnan(logits).any() and not (logits == math.inf).any()
        # log_softmax of finite scores always sums to 1; what this guards is the scores (no NaN,
        # no +inf, one row per prompt, one column per token).
        torch.testing.assert_close(torch.logsumexp(_lsm(logits), -1), torch.zeros(2),
                                   atol=1e-5, rtol=0)
        if case.kind == "ngram":
            # Count models return log-probabilities themselves: they must already sum to 1, and
            # never predict [PAD] or <s>.
            torch.testing.assert_close(torch.logsumexp(logits.double(), -1),
                                       torch.zeros(2, dtype=torch.float64), atol=1e-5, rtol=0)
            assert (logits[:, [0, case.bos]] == -math.inf).all()


# ---- 2. start/step equals teacher forcing --------------------------------------------------


def test_start_step_equals_teacher_forcing(case):
    lm = case.lm_for()
    assert hasattr(lm, "teacher_forced_logits")  # every lmlab family offers the one-pass form
    ids = _ids([case.sequence(CORPUS[6])])  # the longest sentence, </s> included
    T = ids.shape[1]
    full = _lsm(lm.teacher_forced_logits(ids))  # (1, T, V): after every prefix
    assert full.shape == (1, T, lm.vocab_size)
    for k in (1, 3):  # a one-token prompt, and a longer one
        state, logits = lm.start(ids[:, :k])
        stepped = [logits]
        for t in range(k, T):
            state, logits = lm.step(state, ids[:, t])
            stepped.append(logits)
        # stepped[j] follows the prefix ids[:, :k + j], which teacher forcing puts at k + j - 1
        torch.testing.assert_close(_lsm(torch.stack(stepped, 1)), full[:, k - 1 :],
                                   atol=ATOL, rtol=ATOL)


# ---- 3. batched equals one row at a time ---------------------------------------------------


def test_batched_equals_one_at_a_time(case):
    rows = _same_length_rows(case, 2, 4)
    nxt = _ids([[case.encode("perro")[0], case.encode("niña")[0]]])[0]
    lm2 = case.lm_for(rows=2)
    state, logits = lm2.start(rows)
    state, after = lm2.step(state, nxt)
    state, after2 = lm2.step(state, nxt.flip(0))
    for i in range(2):
        lm1 = case.lm_row(i)
        s1, l1 = lm1.start(rows[i : i + 1])
        _close(logits[i : i + 1], l1, case)
        s1, a1 = lm1.step(s1, nxt[i : i + 1])
        _close(after[i : i + 1], a1, case)
        s1, b1 = lm1.step(s1, nxt.flip(0)[i : i + 1])
        _close(after2[i : i + 1], b1, case)
    if not (case.kind == "ngram" and case.model.order == 1):  # a unigram ignores the context
        # the rows differ, so equality per row is not equality of everything with everything
        assert not torch.equal(logits[0], logits[1])


# ---- 4. save / load round trip -------------------------------------------------------------


def test_save_load_round_trip(case, tmp_path):
    folder = case.model.save(tmp_path / "m")
    back = lmlab.load(folder)
    assert type(back) is type(case.model)
    ids = _ids([case.sequence(CORPUS[3])[:6]])
    lm, lm_back = case.lm_for(), case.lm_for(back)
    s, a = lm.start(ids)
    sb, b = lm_back.start(ids)
    torch.testing.assert_close(b, a, atol=1e-6, rtol=0)
    for t in (case.encode("el")[0], case.encode("niño")[0]):
        s, a = lm.step(s, _ids([[t]])[0])
        sb, b = lm_back.step(sb, _ids([[t]])[0])
        torch.testing.assert_close(b, a, atol=1e-6, rtol=0)
    tok, tok_back = case.model.tokenizer, back.tokenizer
    assert tok_back is not None
    assert tok_back.get_vocab(with_added_tokens=True) == tok.get_vocab(with_added_tokens=True)
    for text in ("¿ dónde está el niño ?", "¡ qué día tan bonito !", "la cigüeña"):
        assert tok_back.encode(text, add_special_tokens=False).ids == case.encode(text)
    assert (lm_back.bos_id, lm_back.eos_id) == (case.bos, case.eos)
    assert lm_back.max_seq_len == lm.max_seq_len


# ---- 5. text prompts: Python and the command line read them alike ---------------------------


def test_text_prompt_generation_and_cli(case, tmp_path, capsys):
    from lmlab.cli.main import main

    model = case.model
    gen = lmlab.generate(model, PROMPT, max_new_tokens=MAX_NEW)
    assert isinstance(gen, Generation)
    assert isinstance(gen.text, str)
    assert 1 <= len(gen.ids) <= MAX_NEW
    if case.conditioned:
        # the prompt is the source: ids + </s>; the target starts from the decoder's bos_id
        src = model.source_ids([PROMPT])[0]
        assert src == [*case.encode(PROMPT), case.eos]
        lm = model.condition(_ids([src]))
        assert gen.prompt_ids == [case.bos] == [lm.bos_id]
    else:
        lm = model
        words = model.tokenizer.encode(PROMPT, add_special_tokens=False).ids
        assert words == case.encode(PROMPT)
        head = [] if model.bos_id is None else [model.bos_id]
        assert gen.prompt_ids == head + words
        assert gen.prompt_ids[: len(head)] == ([] if case.bos is None else [case.bos])
    assert gen.ids == _greedy_by_hand(lm, gen.prompt_ids, MAX_NEW)

    folder = model.save(tmp_path / "m")
    folders = [folder]
    if case.folder is not None:  # the Hugging Face folder opens the same way
        folders.append(case.folder)
    for f in folders:
        capsys.readouterr()
        assert main(["generate", str(f), PROMPT, "-n", str(MAX_NEW), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["prompt_ids"] == gen.prompt_ids
        assert out["ids"] == gen.ids
        assert out["text"] == gen.text


# ---- 6. perplexity ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", DISTRIBUTIONS, indirect=True)
def test_perplexity_agrees_with_token_log_probs(case):
    lm = case.lm_for()
    # A decoder conditioned on one source scores one target at a time here (batches of targets
    # against one source: test_one_source_scores_a_batch_of_targets).
    batch = 1 if case.conditioned else 32
    result = lmlab.perplexity(lm, EVAL_TEXTS, batch_size=batch)
    seqs = [case.sequence(t) for t in EVAL_TEXTS]
    want = sum(float(token_log_probs(lm, _ids([s])).double().sum()) for s in seqs)
    # every token and the end are scored, the start is conditioned on (without a start token,
    # as GPT-2's, the first word is the condition)
    n_words = sum(len(case.encode(t)) + 1 for t in EVAL_TEXTS)
    assert result.n_tokens == (n_words if case.bos is not None else n_words - len(EVAL_TEXTS))
    assert math.isfinite(result.log_prob) and result.log_prob < 0
    assert result.log_prob == pytest.approx(want, rel=1e-6)
    assert result.ppl == pytest.approx(math.exp(-want / result.n_tokens), rel=1e-6)
    # the same sequences as ids give the same figure
    again = lmlab.perplexity(lm, seqs, batch_size=batch)
    assert (again.n_tokens, again.log_prob) == pytest.approx((result.n_tokens, result.log_prob),
                                                             rel=1e-9)


@pytest.mark.parametrize("case", [
    "seq2seq-gru-luong", "t5"], indirect=True)
def test_one_source_scores_a_batch_of_targets(case):
    lm = case.lm_for()
    texts = ["el perro come carne .", "la niña come pan ."]  # equal lengths: one batch
    assert len(case.encode(texts[0])) == len(case.encode(texts[1]))
    together = lmlab.perplexity(lm, texts)
    alone = [lmlab.perplexity(lm, [t]) for t in texts]
    assert together.n_tokens == sum(a.n_tokens for a in alone)
    assert together.log_prob == pytest.approx(sum(a.log_prob for a in alone), rel=1e-6)


@pytest.mark.parametrize("case", [f for f in DISTRIBUTIONS if f.startswith("ngram")],
                         indirect=True)
def test_ngram_fast_path_equals_generic_path(case):
    model = case.model
    seqs = [case.sequence(t) for t in EVAL_TEXTS]
    fast = model.corpus_log_prob(seqs)  # the stream scorer, which lmlab.perplexity takes
    assert fast is not None
    assert lmlab.perplexity(model, EVAL_TEXTS) == fast
    # dense teacher forcing, position by position
    per_token = [token_log_probs(model, _ids([s]))[0].double() for s in seqs]
    assert fast.log_prob == pytest.approx(float(sum(p.sum() for p in per_token)), rel=1e-6)
    # without the final </s>, the fast path declines and the generic path scores the rest
    cut = [s[:-1] for s in seqs]
    assert model.corpus_log_prob(cut) is None
    generic = lmlab.perplexity(model, cut)
    assert generic.n_tokens == fast.n_tokens - len(seqs)
    assert generic.log_prob == pytest.approx(float(sum(p[:-1].sum() for p in per_token)), rel=1e-6)
    # and the model's own sentence perplexity is the fast figure
    own = model.perplexity(EVAL_TEXTS)
    assert own.n_tokens == fast.n_tokens
    assert own.log_prob == pytest.approx(fast.log_prob, rel=1e-9)


def _corpus_counts():
    sents = [["<s>", *s.split(), "</s>"] for s in CORPUS]
    uni = Counter(w for s in sents for w in s[1:])
    big = Counter((a, b) for s in sents for a, b in itertools.pairwise(s))
    ctx = Counter(a for s in sents for a in s[:-1])
    return sents, uni, big, ctx


def test_ngram_exact_figures_mle_bigram_and_laplace_unigram(_built):
    """Perplexity figures from counts made here, by hand."""
    _sents, uni, big, ctx = _corpus_counts()
    texts = EVAL_TEXTS
    words = [["<s>", *t.split(), "</s>"] for t in texts]

    mle = _built("ngram2-mle").model
    want = sum(math.log(big[a, b] / ctx[a]) for w in words for a, b in itertools.pairwise(w))
    got = lmlab.perplexity(mle, texts)
    assert got.n_tokens == sum(len(w) - 1 for w in words)
    assert got.log_prob == pytest.approx(want, rel=1e-9)
    # an unseen bigram has probability 0 under MLE: -inf on both paths (no NaN, no error)
    unseen = "perro el"
    assert lmlab.perplexity(mle, [unseen]).log_prob == -math.inf
    assert lmlab.perplexity(mle, [mle.tokenizer.encode(f"<s> {unseen}").ids]).log_prob == -math.inf

    lap = _built("ngram1-add_k").model  # k = 1; [PAD] and <s> are never predicted
    n, V = sum(uni.values()), lap.vocab_size - 2
    want = sum(math.log((uni[x] + 1) / (n + V)) for w in words for x in w[1:])
    assert lmlab.perplexity(lap, texts).log_prob == pytest.approx(want, rel=1e-9)


def test_stupid_backoff_is_no_perplexity(_built):
    sb = _built("ngram3-stupid_backoff").model
    assert not sb.normalised
    assert sb.corpus_log_prob([sb.tokenizer.encode("<s> el perro </s>").ids]) is None
    with pytest.raises(ConfigError, match="not probabilities"):
        sb.perplexity(EVAL_TEXTS)
    with pytest.raises(ConfigError, match="unnormalised scores has no perplexity"):
        lmlab.perplexity(sb, EVAL_TEXTS)


# ---- 7. declared parts -----------------------------------------------------------------------


def test_declared_parts_and_capacity(case):
    lm = case.lm_for()
    assert isinstance(lm, LanguageModel)
    if case.conditioned:
        assert is_encoder_decoder(case.model) and not isinstance(case.model, LanguageModel)
    assert lm.tokenizer is not None and lm.tokenizer.get_vocab_size() <= lm.vocab_size
    assert (lm.bos_id, lm.eos_id) == (case.bos, case.eos)
    assert lm.eos_id is not None and 0 <= lm.eos_id < lm.vocab_size
    if case.kind in ("gpt", "hf", "t5"):
        assert type(lm.max_seq_len) is int and lm.max_seq_len == case.model.config.max_seq_len
    else:
        assert lm.max_seq_len is None
    ids = _ids([case.sequence(CORPUS[2])[:3]])
    nxt = [case.encode(w)[0] for w in ("una", "canción", ".")]
    runs = []
    for capacity in (None, ids.shape[1] + len(nxt)):
        state, logits = lm.start(ids, capacity=capacity)
        out = [logits]
        for t in nxt:
            state, logits = lm.step(state, _ids([[t]])[0])
            out.append(logits)
        runs.append(torch.cat(out))
    torch.testing.assert_close(runs[1], runs[0], atol=ATOL, rtol=ATOL)


def _save_hf_gpt2(folder, tok, **cfg):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    hf_cfg = transformers.GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=16, n_embd=8,
                                     n_layer=1, n_head=2, **cfg)
    transformers.GPT2LMHeadModel(hf_cfg).save_pretrained(folder)
    tok.save(str(folder / "tokenizer.json"))
    return lmlab.load(folder)


def test_hf_gpt2_default_eos_outside_the_vocabulary_is_none(tmp_path):
    tok = _gpt2_style_tokenizer()
    model = _save_hf_gpt2(tmp_path, tok)  # eos_token_id 50256: past this vocabulary
    assert model.bos_id is None and model.eos_id is None
    assert model.tokenizer.get_vocab() == tok.get_vocab()
    gen = lmlab.generate(model, PROMPT, max_new_tokens=MAX_NEW)
    assert gen.prompt_ids == tok.encode(PROMPT, add_special_tokens=False).ids
    assert len(gen.ids) == MAX_NEW  # no stop token: every requested token comes


def test_hf_gpt2_with_an_lm_specials_tokenizer_reads_no_start_token(tmp_path):
    tok = _word_tokenizer()  # [PAD] [UNK] <s> </s>: lmlab's LM specials
    model = _save_hf_gpt2(tmp_path, tok, bos_token_id=tok.token_to_id(EOS),
                          eos_token_id=tok.token_to_id(EOS))
    assert model.eos_id == tok.token_to_id(EOS)  # declared within the vocabulary: kept
    gen = lmlab.generate(model, PROMPT, max_new_tokens=2)
    assert gen.prompt_ids == tok.encode(PROMPT, add_special_tokens=False).ids
    assert model.bos_id is None


# ---- error paths -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", DISTRIBUTIONS, indirect=True)
def test_perplexity_of_nothing_is_a_data_error(case):
    with pytest.raises(DataError, match="no sequence"):
        lmlab.perplexity(case.lm_for(), [])


def _untokenized():
    torch.manual_seed(0)
    return {
        "rnn": RNNLanguageModel(RNNLMConfig(vocab_size=20, d_embed=8, d_hidden=8)),
        "gpt": GPT(GPTConfig(vocab_size=20, max_seq_len=16, d_model=16, n_layers=1, n_heads=2)),
        "seq2seq": Seq2Seq(Seq2SeqConfig(vocab_size=20, d_embed=8, d_hidden=8)),
        "t5": T5(T5Config(vocab_size=20, max_seq_len=16, d_model=16, n_layers=1, n_heads=2,
                          d_ff=16, dropout=0.0)),
    }


@pytest.mark.parametrize("kind", ["rnn", "gpt", "seq2seq", "t5"])
def test_text_without_a_tokenizer_is_a_config_error(kind):
    model = _untokenized()[kind].eval()
    with pytest.raises(ConfigError, match="cannot read text"):
        lmlab.generate(model, PROMPT, max_new_tokens=2)
    if not is_encoder_decoder(model):
        with pytest.raises(ConfigError, match="cannot read text"):
            lmlab.perplexity(model, EVAL_TEXTS)
        # ids need no tokenizer
        gen = lmlab.generate(model, [2, 5, 7], max_new_tokens=2)
        assert gen.prompt_ids == [2, 5, 7] and gen.text is None and len(gen.ids) == 2
