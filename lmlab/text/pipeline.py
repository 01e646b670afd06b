"""A composable preprocessing pipeline: text steps, one word splitter, token steps.

    text --[nfc, lower, social, strip_accents ...]--> text --[words]--> tokens --[stopwords, stem]--> tokens

Each step is a plain function (`str -> str` before the splitter, `list[str] -> list[str]` after
it), so any function of `lmlab.text` or of your own fits. Steps can also be named, which makes a
pipeline a short string that can be written in a config file or on the command line:

    >>> p = Pipeline.from_spec("nfc lower words alnum stopwords:es stem:es")
    >>> p("¿Qué hacían los niños en la biblioteca?")
    ['hac', 'niñ', 'bibliotec']
    >>> p.spec
    'nfc lower words alnum stopwords:es stem:es'

Named steps (`name:arg` passes a language code):

- text: `nfc`, `nfkc`, `lower` (case folding), `strip_accents` (ñ kept), `whitespace`, `social`
  (URLs, e-mails, @mentions, #hashtags, emoji -> tokens), `urls`, `mentions`, `hashtags`, `emoji`;
- splitter: `words` (`lmlab.text.words.tokenize`, the default) or `split` (on whitespace);
- tokens: `stopwords[:lang]`, `stem[:lang]`, `lemma[:lang]` (spaCy extra), `alnum` (drop tokens
  with no letter or digit, i.e. punctuation).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from lmlab.errors import ConfigError
from lmlab.text import normalize as nz
from lmlab.text.words import tokenize

TextStep = Callable[[str], str]
TokenStep = Callable[[list[str]], list[str]]
Splitter = Callable[[str], list[str]]


def _alnum(tokens: list[str]) -> list[str]:
    return [t for t in tokens if any(c.isalnum() for c in t)]


def _stopwords(lang: str) -> TokenStep:
    from lmlab.text.stopwords import remove_stopwords

    return functools.partial(remove_stopwords, lang=lang)


def _stem(lang: str) -> TokenStep:
    from lmlab.text.stem import stem

    return functools.partial(stem, lang=lang)


def _lemma(lang: str) -> TokenStep:
    from lmlab.text.lemma import lemmatize

    return functools.partial(lemmatize, lang=lang)


TEXT_STEPS: dict[str, TextStep] = {
    "nfc": functools.partial(nz.unicode_normalize, form="NFC"),
    "nfkc": functools.partial(nz.unicode_normalize, form="NFKC"),
    "lower": nz.casefold,
    "strip_accents": nz.strip_accents,
    "whitespace": nz.normalize_whitespace,
    "social": nz.replace_social,
    "urls": nz.replace_urls,
    "mentions": nz.replace_mentions,
    "hashtags": nz.replace_hashtags,
    "emoji": nz.replace_emoji,
}
SPLITTERS: dict[str, Splitter] = {"words": tokenize, "split": str.split}
TOKEN_STEPS: dict[str, Callable[[str], TokenStep]] = {
    "stopwords": _stopwords, "stem": _stem, "lemma": _lemma, "alnum": lambda _: _alnum,
}


@dataclass
class Pipeline:
    """Text steps, a splitter and token steps, applied in that order.

    Args:
        text_steps: functions `str -> str`.
        splitter: function `str -> list[str]` (default `lmlab.text.words.tokenize`).
        token_steps: functions `list[str] -> list[str]`.
        names: the spec names of the steps, when built with `from_spec` (for `spec`).
    """

    text_steps: Sequence[TextStep] = ()
    splitter: Splitter = tokenize
    token_steps: Sequence[TokenStep] = ()
    names: tuple[str, ...] = field(default=(), repr=True)

    @classmethod
    def from_spec(cls, spec: str | Sequence[str], *, lang: str = "es") -> Pipeline:
        """Build from step names separated by spaces or commas, in order (see module docstring).

        Args:
            spec: e.g. "nfc lower words stopwords stem" or a list of names.
            lang: language of `stopwords`, `stem` and `lemma` steps given without `:lang`.

        Raises:
            ConfigError: unknown step, two splitters, or a text step after the splitter.
        """
        names = spec.replace(",", " ").split() if isinstance(spec, str) else list(spec)
        text_steps: list[TextStep] = []
        token_steps: list[TokenStep] = []
        splitter: Splitter | None = None
        for name in names:
            base, _, arg = name.partition(":")
            if base in TEXT_STEPS:
                if splitter is not None or token_steps:
                    raise ConfigError(f"text step {name!r} comes after the word splitter",
                                      fix="put text steps (nfc, lower ...) before 'words'")
                text_steps.append(TEXT_STEPS[base])
            elif base in SPLITTERS:
                if splitter is not None or token_steps:
                    raise ConfigError(f"splitter {name!r} is not the only one or comes too late",
                                      fix="use one of 'words' or 'split', before token steps")
                splitter = SPLITTERS[base]
            elif base in TOKEN_STEPS:
                token_steps.append(TOKEN_STEPS[base](arg or lang))
            else:
                known = [*TEXT_STEPS, *SPLITTERS, *TOKEN_STEPS]
                raise ConfigError(f"unknown pipeline step {name!r}", fix=f"use one of {', '.join(known)}")
        if splitter is None:
            names.insert(len(text_steps), "words")
        return cls(text_steps, splitter or tokenize, token_steps, tuple(names))

    @property
    def spec(self) -> str:
        """The spec string this pipeline was built from ("" for hand-built pipelines)."""
        return " ".join(self.names)

    def normalize(self, text: str) -> str:
        """Apply only the text steps."""
        for step in self.text_steps:
            text = step(text)
        return text

    def __call__(self, text: str) -> list[str]:
        """Text in, processed tokens out."""
        tokens = self.splitter(self.normalize(text))
        for step in self.token_steps:
            tokens = step(tokens)
        return tokens

    def map(self, texts: Iterable[str]) -> Iterator[list[str]]:
        """Process a stream of texts lazily (e.g. `lmlab.data.corpus.iter_lines(path)`)."""
        for text in texts:
            yield self(text)
