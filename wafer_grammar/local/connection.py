"""A connection's limits: how long it may idle or take over its headers and body, and
what its ``Content-Length`` may say; all checked before a byte of the body is read.

:class:`DeadlineIO` is the socket reader under the handler's ``rfile``: each read
waits only until the current phase's deadline (idle between requests, the request
line and headers from their first byte, the body), so a client sending one byte at
a time cannot hold a thread past it; a read past the deadline raises TimeoutError.
"""

from __future__ import annotations

import io
import re
import socket
import time
from dataclasses import dataclass
from email.message import Message
from typing import TYPE_CHECKING

from wafer_grammar.errors import InvalidRequest

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MAX_BODY = 16 * 1024 * 1024
_DIGITS = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class Timeouts:
    """Seconds a connection may take; see :class:`~wafer_grammar.local.server.LocalServer`."""

    idle: float = 60.0
    """A kept-alive connection waiting for its next request (or a new one for its first).
    Longer than clients keep idle connections (wafer_grammar.client: 30 s, httpx: 5 s),
    so a client never reuses one that the server is closing."""
    headers: float = 10.0
    """The request line and headers, from their first byte."""
    body: float = 30.0
    """The whole body, from the end of the headers."""
    write: float = 30.0
    """Each write of an answer or stream event to a client that does not read it."""
    linger: float = 2.0
    """Discarding an unread body after an early refusal (so the client sees the answer)."""

    def __post_init__(self) -> None:
        for name in ("idle", "headers", "body", "write", "linger"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"the {name} timeout must be positive, not {value!r}")


def content_length(headers: Message, *, needs_body: bool) -> int:
    """The body's declared length: 0 when none is sent (and none is needed).

    Raises:
        InvalidRequest: A malformed, negative or repeated-and-different length (400),
            a Transfer-Encoding, or no length where a body is needed (411), a length
            over :data:`MAX_BODY` (413).
    """
    if headers.get("Transfer-Encoding") is not None:
        raise InvalidRequest(
            "Transfer-Encoding is not supported: send the body with a Content-Length",
            code="length_required",
            status=411,
        )
    values = {v.strip() for v in headers.get_all("Content-Length") or []}
    if not values:
        if needs_body:
            raise InvalidRequest(
                "the request needs a Content-Length header", code="length_required", status=411
            )
        return 0
    if len(values) > 1:
        raise InvalidRequest("the request has several different Content-Length headers")
    (value,) = values
    if value.isdigit() and value.isascii() and len(value) > 18:
        size = MAX_BODY + 1
    elif _DIGITS.fullmatch(value):
        size = int(value)
    else:
        raise InvalidRequest(
            f"Content-Length must be a number of bytes (0 or more), not {value[:40]!r}"
        )
    if size > MAX_BODY:
        raise InvalidRequest(
            f"the request body is larger than {MAX_BODY} bytes",
            code="request_too_large",
            status=413,
        )
    return size


class DeadlineIO(socket.SocketIO):
    """A socket's reading side whose reads end at the current phase's deadline.

    :meth:`await_request` starts the idle phase; its first byte starts the headers
    phase; :meth:`expect` sets any other (the body, a linger). Writes (through the
    handler's own writer) keep the ``write`` timeout, which each read restores.
    """

    def __init__(self, sock: socket.socket, timeouts: Timeouts) -> None:
        super().__init__(sock, "rb")
        self._socket = sock
        self.timeouts = timeouts
        self._deadline = 0.0
        self._idle = False
        sock.settimeout(timeouts.write)

    def await_request(self) -> None:
        """The connection now waits for a request: idle until its first byte."""
        self._idle = True
        self._deadline = time.monotonic() + self.timeouts.idle

    def expect(self, seconds: float) -> None:
        """What is read next must arrive within ``seconds``."""
        self._idle = False
        self._deadline = time.monotonic() + seconds

    def readinto(self, b: WriteableBuffer) -> int | None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the client took too long")
        self._socket.settimeout(remaining)
        try:
            n = super().readinto(b)
        finally:
            self._socket.settimeout(self.timeouts.write)
        if n and self._idle:
            self.expect(self.timeouts.headers)
        return n


def read_body(rfile: io.BufferedIOBase, raw: DeadlineIO, size: int, seconds: float) -> bytearray:
    """The ``size`` bytes of a body, read as they arrive (1 MiB at a time) within ``seconds``.

    Raises:
        InvalidRequest: The body ended early (400) or was too slow (408); either way
            the connection's framing is lost.
    """
    raw.expect(seconds)
    body = bytearray()
    try:
        while len(body) < size:
            chunk = rfile.read1(min(1 << 20, size - len(body)))
            if not chunk:
                raise InvalidRequest(
                    f"the request body ended after {len(body)} of its {size} bytes"
                )
            body += chunk
    except TimeoutError:
        raise InvalidRequest(
            f"the request body did not arrive within {seconds:g} s",
            code="request_timeout",
            status=408,
        ) from None
    return body


def linger(
    sock: socket.socket, rfile: io.BufferedIOBase, raw: DeadlineIO, unread: int, seconds: float
) -> None:
    """After an answer that left ``unread`` bytes of body unread (-1: unknown), before
    the connection closes: say so (a client that reads the answer then closes its end),
    and drop what comes meanwhile (see :func:`discard`)."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        return
    discard(rfile, raw, unread if unread > 0 else MAX_BODY, seconds)


def discard(rfile: io.BufferedIOBase, raw: DeadlineIO, limit: int, seconds: float) -> int:
    """Read and drop up to ``limit`` bytes (64 KiB at a time) for at most ``seconds``,
    or until the client closes; returns the bytes dropped.

    After an answer that left the body unread: closing a socket with unread input
    resets the connection, and a reset can reach the client before it has read the
    answer; a client that sent its whole body with the headers then sees the answer.
    """
    raw.expect(seconds)
    dropped = 0
    try:
        while dropped < limit:
            chunk = rfile.read1(min(65536, limit - dropped))
            if not chunk:
                break
            dropped += len(chunk)
    except OSError:  # TimeoutError (the linger is over) or the client reset
        pass
    return dropped
