"""When a sequence stops: a stop token, a stop string, or `max_new_tokens`.

Stop tokens (e.g. `</s>`) end a sequence as soon as they are chosen; they are kept in the ids and
left out of the text. Stop strings are matched on the generated text, which may cross token
boundaries ("\\n\\n" made of two "\\n" tokens, "Fin." of "Fin" + "."): the text is cut before the
first match, which is never emitted. While streaming, a tail of text that could still grow into a
stop string is held back until it either completes one or cannot any more (the behaviour of the
OpenAI API's `stop`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

FinishReason = Literal["length", "stop_token", "stop_string"]


class StopStringMatcher:
    """Streams text pieces through, holding back what could be the start of a stop string.

    >>> m = StopStringMatcher(["FIN"])
    >>> m.feed("hola F"), m.feed("I"), m.feed("N y más")
    (('hola ', False), ('', False), ('', True))
    """

    def __init__(self, stop_strings: Sequence[str]) -> None:
        self.stops = [s for s in stop_strings if s]
        self.pending = ""

    def feed(self, piece: str) -> tuple[str, bool]:
        """Add a piece; return (text safe to emit now, whether a stop string was reached)."""
        if not self.stops:
            return piece, False
        text = self.pending + piece
        cut = min((i for i in (text.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.pending = ""
            return text[:cut], True
        hold = self._held_tail(text)
        self.pending = text[len(text) - hold:] if hold else ""
        return text[: len(text) - hold], False

    def flush(self) -> str:
        """The held-back tail, at the end of the sequence (it did not become a stop string)."""
        out, self.pending = self.pending, ""
        return out

    def _held_tail(self, text: str) -> int:
        """Length of the longest suffix of `text` that is a proper prefix of some stop string."""
        best = 0
        for stop in self.stops:
            for n in range(min(len(stop) - 1, len(text)), best, -1):
                if text.endswith(stop[:n]):
                    best = n
                    break
        return best
