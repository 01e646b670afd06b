"""Train and load tokenizers: word, character, byte-level BPE, WordPiece and Unigram.

Every tokenizer is a Hugging Face `tokenizers.Tokenizer` (one fast Rust implementation, saved as
`tokenizer.json`, readable by transformers and the wider ecosystem). This module only chooses the
parts of each kind, the way the papers describe them:

| kind        | pre-tokeniser                         | model      | reference                     |
|-------------|---------------------------------------|------------|-------------------------------|
| "word"      | spaces, then `words.WORD_PATTERN`     | WordLevel  | a closed vocabulary + [UNK]   |
| "char"      | every character (spaces included)     | WordLevel  | character-level LMs           |
| "bpe"       | GPT-2 byte-level (bytes -> symbols)   | BPE        | Sennrich et al. 2016; GPT-2   |
| "wordpiece" | BERT (spaces and punctuation)         | WordPiece  | Schuster & Nakajima 2012; BERT|
| "unigram"   | SentencePiece metaspace (▁)           | Unigram    | Kudo 2018                     |

Notable choices:
- Special tokens take the first ids in the order given (default `special.LM_SPECIALS`, so [PAD]
  is 0; `special.BERT_SPECIALS` for WordPiece). Kinds that can meet unknown symbols ("word", "char", "wordpiece", "unigram") always get
  [UNK]: it is appended when the list lacks it. Byte-level BPE never needs it.
- No normalisation by default, so byte-level BPE round-trips any Unicode text exactly:
  `decode(encode(x)) == x`. Pass `normalization="NFC"`/`"NFKC"` and `lowercase=True` to add it.
- The "word" kind splits with the same pattern as `lmlab.text.words.tokenize` (¿ ¡ and punctuation
  apart, numbers, e-mails and URLs whole) after splitting on whitespace, so text that is already
  tokenised and joined with single spaces gives back exactly its tokens.
- Templates: "cls_sep" wraps encodings as `[CLS] A [SEP]` (`[CLS] A [SEP] B [SEP]` for pairs, the
  BERT layout); "bos_eos" as `<s> A </s>`. WordPiece defaults to "cls_sep", the rest to none.

    >>> tok = train_tokenizer("word", ["¿Qué tal?", "¡Muy bien!"], vocab_size=100)
    >>> tok.encode("¿Qué tal?").tokens
    ['¿', 'Qué', 'tal', '?']
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from lmlab.errors import ConfigError, DataError, ModelFormatError, check_choice, check_range
from lmlab.text import special
from lmlab.text.words import WORD_PATTERN

if TYPE_CHECKING:
    from tokenizers import Tokenizer

logger = logging.getLogger("lmlab")

Kind = Literal["word", "char", "bpe", "wordpiece", "unigram"]
Template = Literal["none", "cls_sep", "bos_eos"]
KINDS: tuple[str, ...] = ("word", "char", "bpe", "wordpiece", "unigram")
TEMPLATES: tuple[str, ...] = ("none", "cls_sep", "bos_eos")
NORMALIZATIONS: tuple[str | None, ...] = (None, "NFC", "NFKC")
_NEEDS_UNK = frozenset({"word", "char", "wordpiece", "unigram"})
_BATCH_LINES = 1000
_NO_LIMIT = 1 << 30

TextSource = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


def train_tokenizer(
    kind: Kind,
    texts: TextSource,
    *,
    vocab_size: int | None = None,
    special_tokens: Sequence[str] | None = None,
    min_frequency: int = 1,
    template: Template | None = None,
    normalization: Literal["NFC", "NFKC"] | None = None,
    lowercase: bool = False,
    errors: Literal["strict", "replace"] = "strict",
    progress: bool = False,
) -> Tokenizer:
    """Train a tokenizer of the given kind on a corpus.

    Args:
        kind: "word", "char", "bpe" (byte-level), "wordpiece" or "unigram".
        texts: a path (UTF-8 file or folder of .txt files), or an iterable whose items are texts
            (str) or file paths (`pathlib.Path`). Lines stream; nothing is read whole.
        vocab_size: size of the vocabulary, special tokens included. None keeps every symbol seen
            `min_frequency` times for "word"/"char" and means 30,000 for the subword kinds.
            Byte-level BPE always keeps its 256 byte symbols, so it never has fewer tokens.
        special_tokens: tokens never split, given the first ids in this order
            (default `special.LM_SPECIALS`, `special.BERT_SPECIALS` for "wordpiece";
            `special.sentinel_tokens(n)` gives T5 sentinels). Byte-level BPE needs no [UNK] but
            keeps it when listed, so ids agree across kinds.
        min_frequency: symbols (words, characters, merges) seen fewer times are left out
            (ignored by "unigram", whose trainer prunes by likelihood instead).
        template: post-processing added by `encode` (see the module docstring); default
            "cls_sep" for "wordpiece" when [CLS] and [SEP] are special tokens, else "none".
        normalization: Unicode normal form applied before splitting, or None.
        lowercase: lowercase the text before splitting.
        errors: "strict" raises DataError at the first non-UTF-8 byte of a file (naming the file
            and the byte offset); "replace" substitutes U+FFFD.
        progress: show the trainer's progress bar.

    Returns:
        The trained `tokenizers.Tokenizer`.

    Raises:
        ConfigError: unknown kind, template or normal form, or a bad size.
        DataError: missing or non-UTF-8 files, or a corpus with no text.
    """
    check_choice("kind", kind, KINDS)
    check_choice("normalization", normalization, NORMALIZATIONS)
    check_range("min_frequency", min_frequency, 1)
    if vocab_size is not None:
        check_range("vocab_size", vocab_size, 1)
    specials = _special_list(kind, special_tokens)
    if vocab_size is not None and vocab_size <= len(specials):
        raise ConfigError(f"vocab_size={vocab_size} leaves no room beside the {len(specials)} special tokens",
                          fix=f"use a vocab_size above {len(specials)}")
    if template is None:
        bert = kind == "wordpiece" and special.CLS in specials and special.SEP in specials
        template = "cls_sep" if bert else "none"
    check_choice("template", template, TEMPLATES)

    tokenizer, trainer = _build(kind, specials, vocab_size, min_frequency, progress)
    _set_normalizer(tokenizer, kind, normalization, lowercase)
    batches = _nonempty(_line_batches(texts, errors=errors), texts)
    tokenizer.train_from_iterator(batches, trainer=trainer)
    _set_template(tokenizer, template, kind)
    logger.info("trained a %s tokenizer with %d tokens", kind, tokenizer.get_vocab_size())
    return tokenizer


def _special_list(kind: str, special_tokens: Sequence[str] | None) -> list[str]:
    if special_tokens is None:
        special_tokens = special.BERT_SPECIALS if kind == "wordpiece" else special.LM_SPECIALS
    specials = list(special_tokens)
    if len(set(specials)) != len(specials):
        raise ConfigError(f"special_tokens has duplicates: {specials}", fix="list each token once")
    if any(not isinstance(t, str) or not t for t in specials):
        raise ConfigError("special_tokens must be non-empty strings", fix=f"got {specials!r}")
    if kind in _NEEDS_UNK and special.UNK not in specials:
        specials.append(special.UNK)
    return specials


def _build(kind: str, specials: list[str], vocab_size: int | None, min_frequency: int,
           progress: bool):
    """The untrained tokenizer of a kind and its trainer."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    common = {"special_tokens": specials, "show_progress": progress}
    if kind in ("word", "char"):
        tokenizer = Tokenizer(models.WordLevel(unk_token=special.UNK))
        if kind == "word":
            tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.WhitespaceSplit(),
                pre_tokenizers.Split(Regex(WORD_PATTERN), behavior="isolated")])
        else:
            tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
            tokenizer.decoder = decoders.Fuse()
        trainer = trainers.WordLevelTrainer(vocab_size=vocab_size or _NO_LIMIT,
                                            min_frequency=min_frequency, **common)
    elif kind == "bpe":
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size or 30000, min_frequency=min_frequency,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), **common)
    elif kind == "wordpiece":
        tokenizer = Tokenizer(models.WordPiece(unk_token=special.UNK, continuing_subword_prefix="##"))
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tokenizer.decoder = decoders.WordPiece(prefix="##")
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size or 30000,
                                            min_frequency=min_frequency,
                                            continuing_subword_prefix="##", **common)
    else:  # unigram
        tokenizer = Tokenizer(models.Unigram())
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
        tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
        trainer = trainers.UnigramTrainer(vocab_size=vocab_size or 30000, unk_token=special.UNK,
                                          **common)
    return tokenizer, trainer


def _set_normalizer(tokenizer: Tokenizer, kind: str, normalization: str | None,
                    lowercase: bool) -> None:
    from tokenizers import normalizers

    steps = []
    if kind == "wordpiece":  # BERT's cleaning: control characters out, CJK characters apart
        steps.append(normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=False, lowercase=False))
    if normalization:
        steps.append(getattr(normalizers, normalization)())
    if lowercase:
        steps.append(normalizers.Lowercase())
    if steps:
        tokenizer.normalizer = steps[0] if len(steps) == 1 else normalizers.Sequence(steps)


def _set_template(tokenizer: Tokenizer, template: str, kind: str) -> None:
    from tokenizers import processors

    if template == "none":
        if kind == "bpe":  # GPT-2's post-processor: offsets of byte-level tokens, nothing added
            tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
        return
    first, last = (special.CLS, special.SEP) if template == "cls_sep" else (special.BOS, special.EOS)
    ids = {t: tokenizer.token_to_id(t) for t in (first, last)}
    missing = [t for t, i in ids.items() if i is None]
    if missing:
        raise ConfigError(f"template={template!r} needs the special tokens {missing}",
                          fix="add them to special_tokens or choose template='none'")
    tokenizer.post_processor = _wrap_template(first, ids[first], last, ids[last])


def _wrap_template(first: str, first_id: int, last: str, last_id: int):
    """`first A last` for one text, `first A last B last` (B with type id 1) for a pair."""
    from tokenizers import processors

    return processors.TemplateProcessing(
        single=f"{first} $A {last}", pair=f"{first} $A {last} $B:1 {last}:1",
        special_tokens=[(first, first_id), (last, last_id)])


def iter_texts(texts: TextSource, *, errors: Literal["strict", "replace"] = "strict") -> Iterator[str]:
    """The lines of a text source: a path (file or folder), or an iterable of texts and paths."""
    from lmlab.data.corpus import iter_corpus_lines

    if isinstance(texts, (str, os.PathLike)):
        path = Path(texts)
        if not path.exists():
            shown = str(texts)[:60] + ("..." if len(str(texts)) > 60 else "")
            raise DataError(f"{shown!r} is neither a file nor a folder",
                            fix="pass an existing path, or a list of strings to use them as text")
        yield from iter_corpus_lines(path, errors=errors)
        return
    if isinstance(texts, bytes):
        raise DataError("got bytes instead of text", fix="decode them to str first")
    for item in texts:
        if isinstance(item, str):
            yield item
        elif isinstance(item, os.PathLike):
            yield from iter_corpus_lines(item, errors=errors)
        else:
            raise DataError(f"cannot read text from a {type(item).__name__}",
                            fix="pass strings (texts) or pathlib.Path objects (files)")


def _line_batches(texts: TextSource, *, errors: Literal["strict", "replace"]) -> Iterator[list[str]]:
    """Lines in lists of `_BATCH_LINES`: fewer Python -> Rust calls while training."""
    lines = iter_texts(texts, errors=errors)
    while batch := list(itertools.islice(lines, _BATCH_LINES)):
        yield batch


def _nonempty(batches: Iterator[list[str]], texts: TextSource) -> Iterator[list[str]]:
    """Pass the batches through, raising DataError before training when there is no text at all."""
    pending = []
    for batch in batches:
        pending.append(batch)
        if any(line.strip() for line in batch):
            break
    else:
        where = str(texts) if isinstance(texts, (str, os.PathLike)) else None
        raise DataError("no text to train the tokenizer on (the input is empty)", where=where,
                        fix="pass a non-empty file, folder or list of strings")
    yield from pending
    yield from batches


def load_tokenizer(path: str | os.PathLike[str]) -> Tokenizer:
    """Open a `tokenizer.json` file, or the one inside a model folder (lmlab or Hugging Face).

    A Hugging Face folder without tokenizer.json also works when it has GPT-2's `vocab.json` +
    `merges.txt` (byte-level BPE) or BERT's `vocab.txt` (WordPiece; `do_lower_case` is read from
    tokenizer_config.json, default true).

    Padding stored in a tokenizer.json (sentence-transformers files pad every text to 128) is
    switched off, as transformers does: `encode` gives the real tokens and
    `lmlab.text.batch.encode_batch` pads batches. Truncation settings are kept.

    Raises:
        ModelFormatError: the path is missing, holds no tokenizer.json, or the file is invalid.
    """
    from tokenizers import Tokenizer

    file = Path(path)
    if file.is_dir():
        folder, file = file, file / "tokenizer.json"
        if not file.exists():
            if (folder / "vocab.json").exists() and (folder / "merges.txt").exists():
                return _gpt2_from_files(folder)
            if (folder / "vocab.txt").exists():
                return _bert_from_files(folder)
            raise ModelFormatError("the folder has no tokenizer.json (nor vocab.json + merges.txt "
                                   "or vocab.txt)", where=str(path),
                                   fix="pass a tokenizer.json file or a folder that holds one")
    elif not file.exists():
        raise ModelFormatError("tokenizer not found", where=str(path),
                               fix="check the path; train one with `lmlab tokenize train`")
    try:
        tokenizer = Tokenizer.from_file(str(file))
    except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
        raise ModelFormatError(f"not a valid tokenizer.json ({str(exc).splitlines()[0][:120]})",
                               where=str(file), fix="restore the file or train the tokenizer again") from exc
    tokenizer.no_padding()  # padding belongs to batches (`lmlab.text.batch`), as in transformers
    return tokenizer


def save_tokenizer(tokenizer: Tokenizer, path: str | os.PathLike[str]) -> Path:
    """Save as `path` (a .json file) or as `path/tokenizer.json` (a folder); returns the file."""
    target = Path(path)
    if target.suffix != ".json":
        target.mkdir(parents=True, exist_ok=True)
        target = target / "tokenizer.json"
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(target))
    return target


def _gpt2_from_files(folder: Path) -> Tokenizer:
    """GPT-2's byte-level BPE from `vocab.json` and `merges.txt` (Radford et al. 2019)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    try:
        bpe = models.BPE.from_file(str(folder / "vocab.json"), str(folder / "merges.txt"))
    except Exception as exc:
        raise ModelFormatError(f"vocab.json/merges.txt cannot be read ({exc})", where=str(folder),
                               fix="restore the files from the original model") from exc
    tokenizer = Tokenizer(bpe)
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    return tokenizer


def _bert_from_files(folder: Path) -> Tokenizer:
    """BERT's WordPiece from `vocab.txt` (Devlin et al. 2019), with its [CLS] A [SEP] template."""
    import json

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    config_file = folder / "tokenizer_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.exists() else {}
    lower = bool(config.get("do_lower_case", True))
    strip = config.get("strip_accents")
    try:
        wordpiece = models.WordPiece.from_file(str(folder / "vocab.txt"), unk_token=special.UNK)
    except Exception as exc:
        raise ModelFormatError(f"vocab.txt cannot be read ({exc})", where=str(folder),
                               fix="restore the file from the original model") from exc
    tokenizer = Tokenizer(wordpiece)
    tokenizer.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=bool(config.get("tokenize_chinese_chars", True)),
        strip_accents=strip, lowercase=lower)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    cls, sep = (tokenizer.token_to_id(t) for t in (special.CLS, special.SEP))
    if cls is not None and sep is not None:
        tokenizer.post_processor = _wrap_template(special.CLS, cls, special.SEP, sep)
    return tokenizer
