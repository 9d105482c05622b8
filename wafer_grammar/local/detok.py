"""Generated tokens -> text deltas: whole characters only, stop strings cut off (pure)."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Collection


class TextStream:
    """The text of one choice, released as it becomes certain.

    Bytes that do not yet make a whole UTF-8 character wait for the next token,
    and text that could be the start of a stop string waits until it is known
    not to be one, so a streamed delta never has to be taken back.
    """

    def __init__(
        self,
        token_bytes: Callable[[int], bytes],
        *,
        skip_ids: Collection[int] = (),
        stop: tuple[str, ...] = (),
    ) -> None:
        self._token_bytes = token_bytes
        self._skip = skip_ids
        self._stop = stop
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self.text = ""
        """Everything released so far."""
        self.matched: str | None = None
        """The stop string that ended the text, once one has."""

    @property
    def position(self) -> int:
        """Characters decoded so far (released or held back): where the next token starts."""
        return len(self.text) + len(self._pending)

    def push(self, token_id: int) -> str:
        """Add a token; returns the newly released text (possibly empty).

        After a stop string is found, :attr:`matched` is set and the text ends
        just before it; later tokens are ignored.
        """
        if self.matched is not None:
            return ""
        if token_id in self._skip:
            return ""  # control tokens are not text (skip_special_tokens, as servers do)
        self._pending += self._decoder.decode(self._token_bytes(token_id))
        return self._release()

    def finish(self) -> str:
        """Release whatever is held back (the generation ended without a stop string)."""
        if self.matched is not None:
            return ""
        self._pending += self._decoder.decode(b"", final=True)
        out, self._pending = self._pending, ""
        self.text += out
        return out

    def _release(self) -> str:
        pending = self._pending
        if self._stop:
            found = [(i, s) for s in self._stop if (i := pending.find(s)) >= 0]
            if found:
                index, self.matched = min(found, key=lambda f: (f[0], -len(f[1])))
                out, self._pending = pending[:index], ""
                self.text += out
                return out
        keep = self._held_back(pending)
        out = pending[: len(pending) - keep]
        self._pending = pending[len(pending) - keep :]
        self.text += out
        return out

    def _held_back(self, pending: str) -> int:
        """Length of the longest tail of ``pending`` that a stop string starts with."""
        best = 0
        for s in self._stop:
            for k in range(min(len(s) - 1, len(pending)), best, -1):
                if s.startswith(pending[-k:]):
                    best = k
                    break
        return best
