"""The world grammar: exact probabilities, unambiguity, agreement, determinism, parsing."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

from lmlab.data.world import Grammar, GrammarConfig, World
from lmlab.data.world import lexicon as lx
from lmlab.data.world.grammar import DETERMINERS, PRONOUNS
from lmlab.data.world.tables import Table, enumerate_derivations
from lmlab.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def tiny_derivations():
    grammar = Grammar(GrammarConfig.tiny())
    return grammar, enumerate_derivations(grammar.sentence, 200_000)


def test_tiny_grammar_probabilities_sum_to_one(tiny_derivations):
    _, derivations = tiny_derivations
    assert len(derivations) > 1000  # every frame and option is reached
    assert math.fsum(math.exp(lp) for _, lp, _ in derivations) == pytest.approx(1.0, abs=1e-12)


def test_tiny_grammar_is_unambiguous(tiny_derivations):
    """No token sequence has two derivations, and parsing recovers the one it has."""
    _grammar, derivations = tiny_derivations
    by_tokens = defaultdict(list)
    for tokens, _, choices in derivations:
        by_tokens[tokens].append(choices)
    assert all(len(c) == 1 for c in by_tokens.values())
    world = World(0, GrammarConfig.tiny())
    for tokens, lp, _ in derivations[::37]:
        assert world.score(tokens).log_prob == pytest.approx(lp, abs=1e-12)


def test_recorded_token_probabilities_are_the_true_conditionals(tiny_derivations):
    """p(w_t | w_<t) recorded by the grammar == P(prefix + w_t) / P(prefix) over all sentences."""
    _, derivations = tiny_derivations
    prefix_mass = defaultdict(float)
    for tokens, lp, _ in derivations:
        p = math.exp(lp)
        for t in range(len(tokens) + 1):
            prefix_mass[tokens[:t]] += p
    world = World(0, GrammarConfig.tiny())
    for tokens, lp, _ in derivations[::11]:
        s = world.score(tokens)
        for t in range(len(tokens)):
            expected = math.log(prefix_mass[tokens[:t + 1]] / prefix_mass[tokens[:t]])
            assert s.log_probs[t] == pytest.approx(expected, abs=1e-9)
        # end of sentence: P(sentence) / P(sentence as a prefix of longer ones) = 1 here
        assert s.log_probs[-1] == pytest.approx(math.log(math.exp(lp) / prefix_mass[tokens]), abs=1e-9)


def test_generation_is_deterministic_and_streams_independent():
    a = World(3).lm_sentences(50)
    b = World(3).lm_sentences(50)
    assert [s.tokens for s in a] == [s.tokens for s in b]
    assert [s.log_probs for s in a] == [s.log_probs for s in b]
    assert [s.tokens for s in World(4).lm_sentences(50)] != [s.tokens for s in a]
    s1 = World(3).lm_splits(20, 5, 5)
    s2 = World(3).lm_splits(20, 50, 7)
    assert [s.tokens for s in s1.train] == [s.tokens for s in s2.train]
    assert [s.tokens for s in s1.train] != [s.tokens for s in s1.test[:5]]


def test_generated_sentences_parse_to_the_same_probabilities():
    world = World(0)
    for s in world.lm_sentences(300):
        assert len(s.log_probs) == len(s.tokens) + 1
        parsed = world.score(s.text.split())
        assert parsed.log_probs == s.log_probs and parsed.frame == s.frame


def _noun_features() -> dict[str, tuple[str, str]]:
    """Surface noun -> (gender, number) for people and animals."""
    out = {}
    for p in lx.PERSONS:
        out |= {p.m_sg: ("m", "sg"), p.m_pl: ("m", "pl"), p.f_sg: ("f", "sg"), p.f_pl: ("f", "pl")}
    for a in lx.ANIMALS:
        for n in (a.adult, a.young):
            out |= {n.sg: (n.gender, "sg"), n.pl: (n.gender, "pl")}
    return out


def test_agreement_and_long_range_language():
    """Determiner-noun and subject-verb agreement across clauses, pronouns after "porque", and
    "Crecí en X ... por eso hablo <language of X>" at any distance."""
    world = World(1)
    features = _noun_features()
    plural_verbs = {v.pl for v in lx.VERBS} | {a.sound[1] for a in lx.ANIMALS} | {"cuidan", "siguen"}
    singular_verbs = {v.sg for v in lx.VERBS} | {a.sound[0] for a in lx.ANIMALS} | {"cuida", "sigue"}
    det_features = {d: (gs, n) for d, gs, n, _ in DETERMINERS}
    language = {c.name: c.language for c in lx.COUNTRIES}
    n_long = n_because = 0
    for s in world.lm_sentences(2000):
        t = s.tokens
        if s.frame in ("decl", "animal"):
            g, n = features[t[1]]
            genders, det_n = det_features[t[0].lower()]
            assert g in genders and det_n == n, s.text
            if t[2] == "y":  # "La vaca y su ternero viven ...": a compound subject is plural
                assert t[5] == "viven" and t[3] == ("su" if n == "sg" else "sus"), s.text
                continue
            verb = next(w for w in t[2:] if w in plural_verbs or w in singular_verbs)
            assert (verb in plural_verbs) == (n == "pl"), s.text
            if "porque" in t:
                n_because += 1
                assert t[t.index("porque") + 1] == PRONOUNS[g, n], s.text
        if s.frame == "long":
            n_long += 1
            assert t[-2] == language[t[2]] and t[-4:-2] == ["eso", "hablo"]
    assert n_long > 100 and n_because > 50


def test_floor_and_sentence_lengths_are_in_the_designed_range():
    world = World(0)
    sentences = world.lm_sentences(n_tokens=30_000)
    floor = world.entropy_floor(sentences)
    assert sum(len(s.tokens) for s in sentences) == floor.n_tokens >= 30_000
    assert 1.5 < floor.bits_per_token < 3.0 and floor.ppl == pytest.approx(2 ** floor.bits_per_token)
    assert all(s.tokens[-1] in ".?!" and s.tokens[-2] not in ".?!," for s in sentences)
    lengths = sorted(len(s.tokens) for s in sentences)
    assert lengths[0] >= 4 and lengths[-1] >= 25
    assert len({w for s in sentences for w in s.tokens}) > 500


def test_entropy_floor_arithmetic():
    s = World(0).lm_sentences(1)[0]
    floor = World.entropy_floor([s, s])
    assert floor.nats == pytest.approx(-2 * s.log_prob)
    assert floor.bits_per_token == pytest.approx(floor.nats / math.log(2) / (2 * len(s.tokens) + 2))
    with pytest.raises(DataError):
        World.entropy_floor([])


def test_score_rejects_text_outside_the_grammar():
    world = World(0)
    with pytest.raises(DataError, match=r"cannot follow|forces"):
        world.score(["El", "perro", "vuela", "."])
    with pytest.raises(DataError, match="ends early"):
        world.score(["El"])
    with pytest.raises(DataError, match="goes on"):
        world.score(["En", "Francia", "se", "habla", "francés", ".", "más"])


def test_tables_refuse_duplicate_tokens_and_bad_configs():
    with pytest.raises(ValueError, match="ambiguous"):
        Table([("el", 1.0, 0), ("el", 1.0, 1)])
    with pytest.raises(ConfigError):
        GrammarConfig(p_adjective=1.5)
    with pytest.raises(ConfigError):
        GrammarConfig(topics=("astrología",))
    with pytest.raises(ConfigError):
        World(0).lm_sentences(5, n_tokens=5)
