"""Word vocabularies for count models: frequency cut-off to `[UNK]`, sentence streams of ids.

Ids 0..3 are the language-model specials of `lmlab.text.special` (`[PAD]`, `[UNK]`, `<s>`,
`</s>`), then words by decreasing frequency (ties: first occurrence). The vocabulary is saved as a
word-level `tokenizers.Tokenizer` (whitespace split), the one tokenizer format of lmlab.

A training corpus is read in one pass: words get provisional ids as they appear, counts come from
`np.bincount`, and one remapping array applies the cut-off, so no Python object is kept per token.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence

import numpy as np

from lmlab.errors import DataError
from lmlab.text.special import BOS, EOS, LM_SPECIALS, PAD, UNK

__all__ = ["Vocabulary", "sentences_to_stream", "split_tokens"]

#: spellings of the unknown word in other toolkits' corpora (PTB, KenLM, SRILM) read as `[UNK]`.
UNK_ALIASES = ("<unk>", "<UNK>", UNK)


def split_tokens(sentence: str | Sequence[str]) -> Sequence[str]:
    """A sentence given as space-separated text or as a token list -> its tokens."""
    return sentence.split() if isinstance(sentence, str) else sentence


class Vocabulary:
    """Words <-> ids, specials first. `ids` of unknown words are `unk_id`."""

    def __init__(self, words: Sequence[str]) -> None:
        if tuple(words[: len(LM_SPECIALS)]) != LM_SPECIALS:
            raise DataError(f"a count-model vocabulary must start with {LM_SPECIALS}",
                            fix="build it with Vocabulary.build or from an lmlab model folder")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise DataError("the vocabulary lists a word twice", fix="remove the duplicates")
        for alias in UNK_ALIASES:
            self.index.setdefault(alias, self.unk_id)

    pad_id, unk_id, bos_id, eos_id = (LM_SPECIALS.index(t) for t in (PAD, UNK, BOS, EOS))

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        get, unk = self.index.get, self.unk_id
        return [get(t, unk) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.words[i] for i in ids]

    def to_tokenizer(self):
        """A word-level `tokenizers.Tokenizer` (whitespace split) with this vocabulary."""
        from tokenizers import Tokenizer
        from tokenizers.models import WordLevel
        from tokenizers.pre_tokenizers import WhitespaceSplit

        tok = Tokenizer(WordLevel({w: i for i, w in enumerate(self.words)}, unk_token=UNK))
        tok.pre_tokenizer = WhitespaceSplit()
        tok.add_special_tokens(list(LM_SPECIALS))
        return tok

    @classmethod
    def from_tokenizer(cls, tokenizer, *, where: str | None = None) -> Vocabulary:
        vocab = tokenizer.get_vocab(with_added_tokens=True)
        words = [""] * len(vocab)
        for w, i in vocab.items():
            if i >= len(words):
                raise DataError("tokenizer ids are not contiguous", where=where,
                                fix="save the model again with lmlab")
            words[i] = w
        return cls(words)

    @classmethod
    def build(cls, sentences: Iterable[str | Sequence[str]], *, min_count: int = 1,
              max_size: int | None = None) -> tuple[Vocabulary, np.ndarray, int]:
        """Read a corpus once: vocabulary with cut-off, and the id stream of its sentences.

        Args:
            sentences: token lists, or strings whose tokens are separated by spaces.
            min_count: words seen fewer times become `[UNK]`.
            max_size: keep at most this many words (specials included), most frequent first.
        Returns:
            (vocabulary, stream (L,) int32 of `<s> ... </s>` per sentence, number of sentences).
        """
        provisional: dict[str, int] = {t: i for i, t in enumerate(LM_SPECIALS)}
        for alias in UNK_ALIASES:
            provisional[alias] = LM_SPECIALS.index(UNK)
        setdefault = provisional.setdefault
        raw = array("i")
        bos, eos = LM_SPECIALS.index(BOS), LM_SPECIALS.index(EOS)
        n_sent = 0
        for sentence in sentences:
            toks = split_tokens(sentence)
            if not toks:
                continue
            raw.append(bos)
            raw.extend([setdefault(t, len(provisional)) for t in toks])
            raw.append(eos)
            n_sent += 1
        if n_sent == 0:
            raise DataError("the training corpus has no tokens", fix="pass non-empty sentences")
        raw_np = np.frombuffer(raw, dtype=np.int32)
        counts = np.bincount(raw_np, minlength=len(provisional) + 1)
        if counts[bos] != n_sent or counts[eos] != n_sent:
            raise DataError(f"the corpus contains the reserved tokens {BOS!r} or {EOS!r}",
                            fix="remove them: lmlab adds the sentence boundaries itself")
        names = [""] * (len(provisional) + 1)
        for w, i in provisional.items():
            if not names[i]:
                names[i] = w
        n_special = len(LM_SPECIALS)
        cand = np.arange(n_special, len(provisional) + 1)
        cand = cand[counts[cand] >= max(min_count, 1)]
        cand = cand[np.argsort(-counts[cand], kind="stable")]
        if max_size is not None:
            cand = cand[: max(max_size - n_special, 0)]
        remap = np.full(len(names), LM_SPECIALS.index(UNK), dtype=np.int32)
        remap[:n_special] = np.arange(n_special)
        remap[cand] = np.arange(n_special, n_special + len(cand), dtype=np.int32)
        vocab = cls(list(LM_SPECIALS) + [names[i] for i in cand])
        return vocab, remap[raw_np], n_sent


def sentences_to_stream(vocab: Vocabulary, sentences: Iterable[str | Sequence[str]]) -> np.ndarray:
    """Encode sentences with an existing vocabulary: `<s> ids </s>` each, concatenated, (L,) int64."""
    out = array("q")
    for sentence in sentences:
        toks = split_tokens(sentence)
        if not toks:
            continue
        out.append(vocab.bos_id)
        out.extend(vocab.encode(toks))
        out.append(vocab.eos_id)
    return np.frombuffer(out, dtype=np.int64).copy() if len(out) else np.zeros(0, dtype=np.int64)
