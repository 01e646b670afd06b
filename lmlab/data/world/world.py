"""`World`: the embedded synthetic Spanish/English world, one object per seed.

    >>> w = World(seed=0)
    >>> s = w.lm_sentences(1)[0]
    >>> len(s.log_probs) == len(s.tokens) + 1      # the last entry is the end of sentence
    True

Each generator draws from its own named random stream (the seed and the stream name), so the
training split does not change when the test split grows, and every output is identical for a
seed on every platform (numpy PCG64 and IEEE arithmetic only).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from lmlab.data.world.analogies import RELATIONS, Analogy, analogies
from lmlab.data.world.grammar import Grammar, GrammarConfig
from lmlab.data.world.images import ImageCaption, image_captions
from lmlab.data.world.instruct import Instruction, Preference, instructions, preferences
from lmlab.data.world.ner import NerSentence, ner_sentences
from lmlab.data.world.pairs import SentencePair, sentence_pairs
from lmlab.data.world.parallel import ParallelPair, parallel
from lmlab.data.world.probes import ClozeProbe, long_range_probes
from lmlab.data.world.qa import Document, Fact, QAItem, knowledge_base, qa_items
from lmlab.data.world.reviews import Review, reviews
from lmlab.data.world.tables import Reader, Sampler
from lmlab.data.world.topics import TopicDocument, topic_documents
from lmlab.errors import ConfigError, DataError

LN2 = math.log(2.0)


@dataclass
class LMSentence:
    """One sentence of language-model text.

    Attributes:
        tokens: surface tokens (words and punctuation); `" ".join(tokens)` splits back exactly.
        log_probs: natural log of each token given its history, then of the end of sentence
            (length len(tokens) + 1).
        frame: which frame of the grammar produced it ("decl", "long", "fact", ...).
    """

    tokens: list[str]
    log_probs: list[float]
    frame: str

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    @property
    def log_prob(self) -> float:
        """Natural log of the probability of the whole sentence (end included)."""
        return math.fsum(self.log_probs)


@dataclass
class EntropyFloor:
    """The exact cross-entropy of the true distribution on a text: no model can do better on average.

    `bits_per_token` counts the end of each sentence as a token (as models that predict a newline
    or </s> do); `bits_per_word` divides by the words and punctuation only.
    """

    n_sentences: int
    n_tokens: int
    nats: float
    bits_per_token: float
    ppl: float
    bits_per_word: float
    ppl_per_word: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LMSplits:
    train: list[LMSentence]
    valid: list[LMSentence]
    test: list[LMSentence]


def _stream_id(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class World:
    """The world of a seed: the grammar's text and every task generator.

    Args:
        seed: random seed; every generator is deterministic for it.
        config: the grammar's sizes and probabilities (`GrammarConfig()` by default).
    """

    def __init__(self, seed: int = 0, config: GrammarConfig | None = None) -> None:
        if not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed={seed!r} is not valid", fix="use a non-negative integer")
        self.seed = seed
        self.config = config or GrammarConfig()
        self.grammar = Grammar(self.config)

    def rng(self, stream: str) -> np.random.Generator:
        """The random stream `stream` of this world (independent of every other stream)."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, _stream_id(stream)]))

    # -- language-model text -------------------------------------------------------------------
    def iter_lm_sentences(self, stream: str = "train") -> Iterator[LMSentence]:
        """An endless stream of sentences with their exact token log-probabilities."""
        src = Sampler(self.rng("lm/" + stream))
        sentence = self.grammar.sentence
        while True:
            src.reset()
            frame = sentence(src)
            src.log_probs.append(0.0)  # the end of sentence always follows the final punctuation
            yield LMSentence(src.tokens, src.log_probs, frame)

    def lm_sentences(self, n: int | None = None, *, n_tokens: int | None = None,
                     stream: str = "train") -> list[LMSentence]:
        """`n` sentences, or sentences until they hold at least `n_tokens` tokens (without ends)."""
        if (n is None) == (n_tokens is None):
            raise ConfigError("give exactly one of n (sentences) and n_tokens",
                              fix="e.g. lm_sentences(1000) or lm_sentences(n_tokens=100_000)")
        if (n if n is not None else n_tokens) < 0:
            raise ConfigError("the number of sentences/tokens must be >= 0", fix="use a count >= 0")
        out: list[LMSentence] = []
        it = self.iter_lm_sentences(stream)
        if n is not None:
            out = [next(it) for _ in range(n)]
        else:
            total = 0
            while total < n_tokens:
                s = next(it)
                out.append(s)
                total += len(s.tokens)
        return out

    def lm_splits(self, n_train: int, n_valid: int, n_test: int, *,
                  unit: str = "sentences") -> LMSplits:
        """Train/valid/test sentences from three independent streams ("train", "valid", "test").

        Args:
            unit: "sentences" or "tokens" (then each size is a minimum number of tokens).
        """
        if unit not in ("sentences", "tokens"):
            raise ConfigError(f"unit={unit!r} is not valid", fix="use 'sentences' or 'tokens'")
        key = "n" if unit == "sentences" else "n_tokens"
        return LMSplits(*(self.lm_sentences(**{key: size}, stream=name)
                          for name, size in (("train", n_train), ("valid", n_valid), ("test", n_test))))

    def score(self, tokens: Sequence[str], where: str = "text") -> LMSentence:
        """Parse one sentence with the grammar and return its exact token log-probabilities.

        Raises:
            DataError: the grammar cannot produce these tokens.
        """
        src = Reader(tokens, where)
        frame = self.grammar.sentence(src)
        src.log_probs.append(0.0)
        return LMSentence(src.tokens, src.log_probs, frame)

    def score_lines(self, lines: Iterable[str], where: str = "text") -> Iterator[LMSentence]:
        """Score text written one sentence per line (blank lines skipped)."""
        for i, line in enumerate(lines, 1):
            tokens = line.split()
            if tokens:
                yield self.score(tokens, f"{where}:{i}")

    @staticmethod
    def entropy_floor(sentences: Iterable[LMSentence], where: str | None = None) -> EntropyFloor:
        """Exact cross-entropy (bits/token incl. end of sentence, and perplexity) of the sentences.

        Raises:
            DataError: no sentences (`where` names the source in the message).
        """
        n_sent = n_tok = 0
        parts: list[float] = []
        for s in sentences:
            n_sent += 1
            n_tok += len(s.tokens)
            parts.append(s.log_prob)
        if n_sent == 0:
            raise DataError("no sentences to measure", where=where, fix="give at least one sentence")
        nats = -math.fsum(parts)
        bits = nats / LN2 / (n_tok + n_sent)
        bits_word = nats / LN2 / n_tok
        return EntropyFloor(n_sent, n_tok, nats, bits, 2.0 ** bits, bits_word, 2.0 ** bits_word)

    # -- probes and analogies ------------------------------------------------------------------
    def long_range_probes(self, distances: Sequence[int] = (0, 4, 8, 16, 32), n_per_distance: int = 50,
                          n_choices: int = 4) -> list[ClozeProbe]:
        """Cloze items "Crecí en X , <distance filler tokens> , por eso hablo ___" (see probes.py)."""
        return long_range_probes(self.grammar, self.rng("probes"), distances, n_per_distance, n_choices)

    def analogies(self, relations: Sequence[str] | None = None) -> list[Analogy]:
        """Analogy questions a:b::c:d with their relation (see analogies.py)."""
        return analogies(self.grammar, tuple(relations) if relations else RELATIONS)

    # -- task data -----------------------------------------------------------------------------
    def parallel(self, n: int) -> list[ParallelPair]:
        """Spanish-English sentence pairs with exact references (see parallel.py)."""
        return parallel(self.rng("parallel"), _count(n))

    def topic_documents(self, n: int) -> list[TopicDocument]:
        """Documents with exact topic labels and mixtures (see topics.py)."""
        return topic_documents(self.rng("topics"), _count(n))

    def sentence_pairs(self, n: int) -> list[SentencePair]:
        """Pairs with graded similarity 0-5 and next-sentence labels (see pairs.py)."""
        return sentence_pairs(self.rng("pairs"), _count(n))

    def reviews(self, n: int) -> list[Review]:
        """Reviews with sentiment labels, negations and order-only contrasts (see reviews.py)."""
        return reviews(self.rng("reviews"), _count(n))

    def ner_sentences(self, n: int) -> list[NerSentence]:
        """Sentences with PER/LOC/ORG/MISC entities and BIO tags (see ner.py)."""
        return ner_sentences(self.rng("ner"), _count(n))

    def documents(self, n_people: int = 100) -> list[Document]:
        """Country and person documents of the fact base (see qa.py)."""
        return knowledge_base(self.rng("knowledge"), n_people)[0]

    def facts(self, n_people: int = 100) -> list[Fact]:
        """The fact base, each fact with the id of the document stating it."""
        return knowledge_base(self.rng("knowledge"), n_people)[1]

    def qa(self, n: int, n_people: int = 100) -> list[QAItem]:
        """Questions about `documents(n_people)`, answers tagged with their document ids."""
        docs, facts = knowledge_base(self.rng("knowledge"), n_people)
        return qa_items(self.rng("qa"), docs, facts, _count(n))

    def instructions(self, n: int) -> list[Instruction]:
        """(instruction, input, output) examples of several tasks (see instruct.py)."""
        return instructions(self.rng("instructions"), _count(n))

    def preferences(self, n: int) -> list[Preference]:
        """(prompt, chosen, rejected) pairs decidable from the world (see instruct.py)."""
        return preferences(self.rng("preferences"), _count(n))

    def images(self, n: int, size: int = 48) -> list[ImageCaption]:
        """Rendered scenes (size, size, 3) uint8 with Spanish and English captions (see images.py)."""
        return image_captions(self.rng("images"), _count(n), size)


def _count(n: int) -> int:
    if not isinstance(n, int) or n < 0:
        raise ConfigError(f"n={n!r} is not a valid number of items", fix="use an integer >= 0")
    return n
