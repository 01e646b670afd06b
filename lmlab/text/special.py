"""Special tokens shared by every tokenizer and model of lmlab.

The names follow the conventions of the models the course builds: BERT's `[PAD] [UNK] [CLS] [SEP]
[MASK]` (Devlin et al. 2019), the `<s> </s>` sentence boundaries of seq2seq models and GPT-style
language models, and T5's sentinel tokens `<extra_id_0>, <extra_id_1>, ...` that stand for the
masked spans of span corruption (Raffel et al. 2020, section 3.1.4).

When a tokenizer is trained, its special tokens take the first ids in the order given, so with
`DEFAULT_SPECIALS` the padding token is id 0.
"""

from __future__ import annotations

from lmlab.errors import check_range

PAD = "[PAD]"
UNK = "[UNK]"
CLS = "[CLS]"
SEP = "[SEP]"
MASK = "[MASK]"
BOS = "<s>"
EOS = "</s>"

SENTINEL_PREFIX = "<extra_id_"

#: What a language model needs: padding, unknown words, sentence start and end.
LM_SPECIALS: tuple[str, ...] = (PAD, UNK, BOS, EOS)
#: What a BERT-style encoder needs.
BERT_SPECIALS: tuple[str, ...] = (PAD, UNK, CLS, SEP, MASK)
#: All the named special tokens, padding first (id 0).
DEFAULT_SPECIALS: tuple[str, ...] = (PAD, UNK, CLS, SEP, MASK, BOS, EOS)


def sentinel(i: int) -> str:
    """The i-th span-corruption sentinel token.

    >>> sentinel(0), sentinel(12)
    ('<extra_id_0>', '<extra_id_12>')
    """
    check_range("sentinel index", i, 0)
    return f"{SENTINEL_PREFIX}{i}>"


def sentinel_tokens(n: int) -> list[str]:
    """The first `n` sentinel tokens, `<extra_id_0>` ... `<extra_id_{n-1}>`.

    >>> sentinel_tokens(2)
    ['<extra_id_0>', '<extra_id_1>']
    """
    check_range("number of sentinels", n, 0)
    return [sentinel(i) for i in range(n)]


def is_sentinel(token: str) -> bool:
    """True for `<extra_id_N>` tokens.

    >>> is_sentinel("<extra_id_3>"), is_sentinel("<s>")
    (True, False)
    """
    return (token.startswith(SENTINEL_PREFIX) and token.endswith(">")
            and token[len(SENTINEL_PREFIX):-1].isdigit())
