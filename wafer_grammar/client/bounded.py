"""Bounds on what a server can make the client hold, say or log (sans-I/O).

A server, or anything in between, decides what its error bodies and headers
hold: a 200 MB error page, a request id that echoes the API key. So the client
reads an error body only up to :data:`MAX_ERROR_BODY`, puts at most
:data:`MAX_SERVER_TEXT` characters of server text into a message (saying how
much there was), at most :data:`MAX_FIELD` of a request id, code, parameter or
host, and redacts the key from every piece before it is cut (cutting first
could leave a prefix of the key behind).
"""

from __future__ import annotations

from collections.abc import Mapping

REDACTED = "[redacted]"
MAX_ERROR_BODY = 64 * 1024
"""Bytes of an error body read; the rest is not downloaded."""
MAX_SERVER_TEXT = 300
"""Characters of a server's message shown in an exception."""
MAX_FIELD = 100
"""Characters of a request id, error code, parameter name or host shown."""
_MIN_PARTIAL = 4
"""A cut-off tail this long that starts the key is redacted too (shorter ones say nothing)."""


def redact(text: str, secret: str | None, *, truncated: bool = False) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``[redacted]``.

    With ``truncated`` (``text`` was cut from something longer), a tail that is the
    start of ``secret`` is replaced too: the rest of the key was only cut away.
    """
    if not secret:
        return text
    if secret in text:
        text = text.replace(secret, REDACTED)
    if truncated:
        for size in range(min(len(secret) - 1, len(text)), _MIN_PARTIAL - 1, -1):
            if text.endswith(secret[:size]):
                return text[:-size] + REDACTED
    return text


def clip(text: str, limit: int) -> str:
    """``text``, or its first ``limit`` characters and ``...``."""
    return text if len(text) <= limit else text[:limit] + "..."


def server_field(value: object, secret: str | None) -> str | None:
    """A short server-provided string (request id, code, param, host), redacted and clipped;
    None when ``value`` is not a non-empty string."""
    if not isinstance(value, str) or not value:
        return None
    return clip(redact(value, secret), MAX_FIELD)


class ErrorBody:
    """An error body read up to ``limit`` bytes: :meth:`feed` chunks until it says stop.

    ``declared`` is the ``Content-Length`` (the whole size, when the server sent one).
    """

    def __init__(self, headers: Mapping[str, str] | None = None, limit: int = MAX_ERROR_BODY):
        self.limit = limit
        self.received = 0
        self.truncated = False
        self._parts: list[bytes] = []
        length = (headers or {}).get("content-length", "")
        self.declared = int(length) if length.isdigit() else None

    @classmethod
    def of(cls, body: bytes, limit: int = MAX_ERROR_BODY) -> ErrorBody:
        """A body already in memory (a stream's error event, a test), bounded the same way."""
        made = cls(limit=limit)
        made.feed(body)
        return made

    def feed(self, chunk: bytes) -> bool:
        """Keep what fits of ``chunk``; True once a byte beyond the bound came (stop reading).

        Exactly ``limit`` bytes is not yet "too long": the next chunk (or the end) tells.
        """
        room = self.limit - self.received
        if len(chunk) > room:
            chunk = chunk[:room]
            self.truncated = True
        self._parts.append(chunk)
        self.received += len(chunk)
        return self.truncated

    @property
    def data(self) -> bytes:
        return b"".join(self._parts)

    def size(self) -> str | None:
        """The whole body's size in words when it was not all read, else None."""
        if not self.truncated:
            return None
        if self.declared is not None and self.declared > self.received:
            return f"{self.declared} bytes"
        return f"more than {self.limit} bytes"
