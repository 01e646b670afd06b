"""Special token names and sentinels."""

from __future__ import annotations

import pytest

from lmlab.errors import ConfigError
from lmlab.text import special


def test_names_and_default_order():
    assert (special.PAD, special.UNK, special.CLS, special.SEP, special.MASK) == (
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
    assert (special.BOS, special.EOS) == ("<s>", "</s>")
    assert special.DEFAULT_SPECIALS[0] == special.PAD
    assert len(set(special.DEFAULT_SPECIALS)) == len(special.DEFAULT_SPECIALS)


def test_sentinels():
    assert special.sentinel_tokens(3) == ["<extra_id_0>", "<extra_id_1>", "<extra_id_2>"]
    assert special.sentinel_tokens(0) == []
    assert all(special.is_sentinel(t) for t in special.sentinel_tokens(3))
    assert not special.is_sentinel("<extra_id_x>") and not special.is_sentinel(special.MASK)
    with pytest.raises(ConfigError):
        special.sentinel(-1)
