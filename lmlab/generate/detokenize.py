"""Incremental detokenisation: text pieces for tokens as they arrive, for streaming.

Decoding tokens one at a time and concatenating is wrong for most tokenizers: word-level ones join
tokens with spaces, byte-level BPE splits one UTF-8 character (ñ, ¿, an emoji) over several tokens,
WordPiece glues `##` pieces. So each new piece is the difference between the decoding of a short
window of recent ids with the new ones and without them; when the window ends inside an incomplete
UTF-8 character (the decoder then yields U+FFFD) the piece waits for the next token. This is the
scheme of Hugging Face's text-generation-inference (`prefix_offset` / `read_offset`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_WINDOW = 5  # ids of left context kept for decoding; enough for spaces and merges at the join
_REPLACEMENT = "\ufffd"


class IncrementalDecoder:
    """Feed generated ids one by one; get back the new text each one adds (maybe "").

    Args:
        tokenizer: a `tokenizers.Tokenizer`.
        context: the prompt ids; only the last few are decoded, as left context for spacing.
    """

    def __init__(self, tokenizer: Any, context: Sequence[int] = ()) -> None:
        self.tokenizer = tokenizer
        self.ids: list[int] = list(context[-_WINDOW:])
        self.prefix_offset = 0
        self.read_offset = len(self.ids)

    def _decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=False) if ids else ""

    def add(self, token_id: int) -> str:
        """Append one id; return the text it completes (empty while a character is incomplete)."""
        self.ids.append(token_id)
        prefix = self._decode(self.ids[self.prefix_offset : self.read_offset])
        full = self._decode(self.ids[self.prefix_offset :])
        if len(full) > len(prefix) and not full.endswith(_REPLACEMENT):
            piece = full[len(prefix):]
            self.prefix_offset, self.read_offset = self.read_offset, len(self.ids)
            return piece
        return ""

    def flush(self) -> str:
        """Text still held back (an incomplete character at the very end), decoded as is."""
        if self.read_offset == len(self.ids):
            return ""
        prefix = self._decode(self.ids[self.prefix_offset : self.read_offset])
        full = self._decode(self.ids[self.prefix_offset :])
        self.prefix_offset, self.read_offset = self.read_offset, len(self.ids)
        return full[len(prefix):]
