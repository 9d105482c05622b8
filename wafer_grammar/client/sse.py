"""Server-sent events, sans-I/O: feed bytes as they arrive, get each event's data back.

Only what the OpenAI stream format uses: ``data:`` lines (joined by newlines
when an event has several), blank-line dispatch, ``:`` comments ignored, any of
``\\n``, ``\\r\\n``, ``\\r`` as line ends, UTF-8 split across reads.
"""

from __future__ import annotations

import codecs

DONE = "[DONE]"


class SSEDecoder:
    """Incremental decoder: :meth:`feed` bytes, get complete events' ``data`` strings."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        """The data of every event completed by ``chunk``."""
        self._buffer += self._text.decode(chunk)
        return self._drain(final=False)

    def close(self) -> list[str]:
        """Events left when the stream ends (an unterminated last event counts)."""
        self._buffer += self._text.decode(b"", final=True)
        events = self._drain(final=True)
        if self._data:
            events.append("\n".join(self._data))
            self._data = []
        return events

    def _drain(self, *, final: bool) -> list[str]:
        events: list[str] = []
        text = self._buffer
        start = 0
        while True:
            cut = _line_end(text, start)
            if cut is None:
                break
            end, after = cut
            # A trailing "\r" may be the first half of "\r\n": wait for the next read.
            if text[end] == "\r" and after == len(text) and not final:
                break
            self._line(text[start:end], events)
            start = after
        self._buffer = text[start:]
        if final and self._buffer:
            self._line(self._buffer, events)
            self._buffer = ""
        return events

    def _line(self, line: str, events: list[str]) -> None:
        if line == "":
            if self._data:
                events.append("\n".join(self._data))
                self._data = []
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        # event:, id:, retry: carry nothing the OpenAI format uses.


def _line_end(text: str, start: int) -> tuple[int, int] | None:
    """(end of the line, start of the next) for the first line end at or after ``start``."""
    n = text.find("\n", start)
    r = text.find("\r", start)
    if n < 0 and r < 0:
        return None
    if r < 0 or (0 <= n < r):
        return n, n + 1
    if r + 1 < len(text) and text[r + 1] == "\n":
        return r, r + 2
    return r, r + 1
