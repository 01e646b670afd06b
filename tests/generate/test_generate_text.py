"""Text in and out: tokenizers, incremental decoding, stop strings, streaming, one-line errors."""

from __future__ import annotations

import pytest
import torch

from lmlab.errors import ConfigError, DataError
from lmlab.generate import GenerationConfig, generate, stream
from lmlab.generate.detokenize import IncrementalDecoder
from lmlab.generate.stopping import StopStringMatcher
from lmlab.text.tokenizers import train_tokenizer

SPANISH = ["¿Dónde está la estación? ¡Allí, señor!", "El niño come una manzana.",
           "La cigüeña vuela sobre el río.", "Mañana llueve 😀 en Logroño."]


@pytest.fixture(scope="module")
def word_tok():
    return train_tokenizer("word", SPANISH)


@pytest.fixture(scope="module")
def bpe_tok():
    return train_tokenizer("bpe", SPANISH * 3, vocab_size=300)


class ScriptLM:
    """Puts all its mass on a fixed script of ids, one per step, then repeats the last one."""

    def __init__(self, script, vocab_size):
        self.script, self.vocab_size = list(script), vocab_size

    def _logits(self, pos):
        out = torch.full((pos.shape[0], self.vocab_size), -10.0)
        nxt = torch.tensor([self.script[min(int(p), len(self.script) - 1)] for p in pos])
        out[torch.arange(pos.shape[0]), nxt] = 10.0
        return out

    def start(self, ids):
        pos = torch.zeros(ids.shape[0], dtype=torch.long)
        return pos, self._logits(pos)

    def step(self, state, ids):
        return state + 1, self._logits(state + 1)


def script_for(tok, text):
    return ScriptLM(tok.encode(text, add_special_tokens=False).ids, tok.get_vocab_size())


@pytest.mark.parametrize("text", SPANISH)
def test_incremental_pieces_join_to_the_decoded_text(bpe_tok, word_tok, text):
    for tok in (bpe_tok, word_tok):
        ids = tok.encode(text, add_special_tokens=False).ids
        dec = IncrementalDecoder(tok)
        pieces = [dec.add(i) for i in ids]
        assert "".join(pieces) + dec.flush() == tok.decode(ids)
        assert all("\ufffd" not in p for p in pieces)  # never half a UTF-8 character


def test_byte_bpe_holds_back_partial_characters(bpe_tok):
    ids = bpe_tok.encode("😀", add_special_tokens=False).ids
    assert len(ids) > 1  # an emoji is four bytes: several byte-level tokens
    dec = IncrementalDecoder(bpe_tok)
    assert [dec.add(i) for i in ids][:-1] == [""] * (len(ids) - 1)


def test_continuation_text_has_the_space_after_the_prompt(word_tok):
    prompt = word_tok.encode("El niño", add_special_tokens=False).ids
    lm = script_for(word_tok, "come una manzana")
    gen = generate(lm, prompt, max_new_tokens=3, tokenizer=word_tok)
    assert gen.text == " come una manzana"
    assert gen.finish_reason == "length"


def test_text_prompts_are_encoded_with_the_tokenizer(word_tok):
    lm = script_for(word_tok, "una manzana")
    gen = generate(lm, ["El niño come", "La"], max_new_tokens=2, tokenizer=word_tok)
    assert gen[0].prompt_ids == word_tok.encode("El niño come", add_special_tokens=False).ids
    assert [g.text for g in gen] == [" una manzana"] * 2


def test_stop_string_across_tokens_cuts_the_text(bpe_tok):
    lm = script_for(bpe_tok, " La cigüeña vuela sobre el río.")
    prompt = bpe_tok.encode("Mañana", add_special_tokens=False).ids
    gen = generate(lm, prompt, max_new_tokens=30, stop_strings=["vuela s", "zzz"], tokenizer=bpe_tok)
    assert gen.text == " La cigüeña "
    assert gen.finish_reason == "stop_string"
    assert bpe_tok.decode(gen.ids).startswith(" La cigüeña vuela s")  # ids up to the match
    events = list(stream(lm, prompt, max_new_tokens=30, stop_strings=["vuela s"], tokenizer=bpe_tok))
    assert "".join(e.text for e in events) == gen.text
    assert all("v" not in e.text for e in events)  # the held-back tail never leaks


def test_stop_string_matcher_releases_false_starts():
    m = StopStringMatcher(["Fin."])
    assert m.feed("Es el Fi") == ("Es el ", False)
    assert m.feed("nal") == ("Final", False)  # "Fin" + "a" cannot become "Fin." any more
    assert m.feed(" Fi") == (" ", False)
    assert m.flush() == "Fi"


def test_stream_yields_before_the_end_and_folds_to_generate(bpe_tok):
    lm = script_for(bpe_tok, " El niño come una manzana.")
    prompt = bpe_tok.encode("¡Allí", add_special_tokens=False).ids
    it = stream(lm, prompt, max_new_tokens=6, tokenizer=bpe_tok, top_logprobs=2)
    first = next(it)
    assert first.row == 0 and first.finish_reason is None and len(first.top) == 2
    rest = list(it)
    assert rest[-1].finish_reason == "length"
    gen = generate(lm, prompt, max_new_tokens=6, tokenizer=bpe_tok, top_logprobs=2)
    assert [first.id] + [e.id for e in rest] == gen.ids
    assert "".join(e.text for e in [first, *rest]) == gen.text


def test_stop_token_is_kept_in_ids_not_in_text(word_tok):
    lm = script_for(word_tok, "come una manzana .")
    dot = word_tok.token_to_id(".")
    gen = generate(lm, [word_tok.token_to_id("niño")], max_new_tokens=10, stop_token_ids=[dot],
                   tokenizer=word_tok)
    assert gen.ids[-1] == dot and gen.text == " come una manzana"


def test_beam_results_carry_text(word_tok):
    lm = script_for(word_tok, "una manzana")
    gen = generate(lm, [word_tok.token_to_id("come")], strategy="beam", num_beams=2,
                   max_new_tokens=2, tokenizer=word_tok)
    assert gen.text == " una manzana" and gen.nbest[0].text == gen.text
    events = list(stream(lm, [word_tok.token_to_id("come")], strategy="beam", num_beams=2,
                         max_new_tokens=2, tokenizer=word_tok))
    assert "".join(e.text for e in events) == gen.text and events[-1].finish_reason == "length"


# ---- bad input: one-line errors -------------------------------------------------------------


@pytest.mark.parametrize(("settings", "name"), [
    ({"top_p": 0.0}, "top_p"), ({"top_p": 1.5}, "top_p"), ({"temperature": -0.1}, "temperature"),
    ({"top_k": -1}, "top_k"), ({"max_new_tokens": 0}, "max_new_tokens"),
    ({"strategy": "nucleus"}, "strategy"), ({"num_beams": 2, "n_best": 3}, "n_best"),
    ({"repetition_penalty": 0.0}, "repetition_penalty"),
])
def test_impossible_settings_are_one_line_config_errors(settings, name):
    kw = {"strategy": "sample", **settings} if "strategy" not in settings else settings
    with pytest.raises(ConfigError, match=name) as info:
        GenerationConfig(**kw)
    assert "\n" not in str(info.value)


def test_sampling_settings_with_greedy_are_refused():
    with pytest.raises(ConfigError, match="only applies to sampling"):
        GenerationConfig(strategy="greedy", top_k=5)


def test_empty_prompt_is_refused(tiny_lm):
    with pytest.raises(DataError, match=r"prompt 0 is empty.*<s>"):
        generate(tiny_lm, [])
    with pytest.raises(DataError, match="prompt 1 is empty"):
        generate(tiny_lm, [[1, 2], []])


def test_prompt_longer_than_the_context(tiny_lm):
    long_prompt = list(range(1, 11)) * 6  # 60 tokens; context 64
    with pytest.raises(DataError, match=r"context of 64.*truncate='left'"):
        generate(tiny_lm, long_prompt, max_new_tokens=8)
    gen = generate(tiny_lm, long_prompt, max_new_tokens=8, truncate="left")
    assert gen.prompt_ids == long_prompt[-56:] and len(gen.ids) == 8
    with pytest.raises(DataError, match="lower max_new_tokens"):
        generate(tiny_lm, [1], max_new_tokens=64, truncate="left")


def test_other_bad_inputs(tiny_lm, word_tok):
    with pytest.raises(DataError, match="outside the vocabulary"):
        generate(tiny_lm, [1, 99])
    with pytest.raises(ConfigError, match="without a tokenizer cannot read text"):
        generate(tiny_lm, "hola")
    with pytest.raises(ConfigError, match="stop_strings need a tokenizer"):
        generate(tiny_lm, [1], stop_strings=["."])
    with pytest.raises(ConfigError, match="top_logprobs"):
        generate(tiny_lm, [1], top_logprobs=100)


def test_leaving_a_stream_stops_the_model(word_tok):
    class Counting(ScriptLM):
        steps = 0

        def step(self, state, ids):
            Counting.steps += 1
            return super().step(state, ids)

    lm = Counting(word_tok.encode("una manzana come una", add_special_tokens=False).ids,
                  word_tok.get_vocab_size())
    events = stream(lm, [1], max_new_tokens=50, tokenizer=word_tok)
    taken = [next(events), next(events)]
    events.close()  # a client went away
    assert [e.text for e in taken] == [" una", " manzana"]
    assert Counting.steps <= 2
