"""Log records of the HTTP stack made safe: no API key, no line over 2 KB.

Our own records hold only redacted, bounded server text, but httpx and
httpcore log what the server sent: at DEBUG, httpcore logs every response
header, so a server that echoes the key in ``x-request-id`` would put it in the
log, and a 16 KB header would make a 16 KB line. A filter on their loggers (and
on ours, as a second guard) redacts every key a client of this process holds
and cuts each record to :data:`MAX_LOG_LINE` bytes. Filters run only for
records that are logged, so this costs nothing while DEBUG is off.
"""

from __future__ import annotations

import logging
import threading

from wafer_grammar.client.bounded import REDACTED

MAX_LOG_LINE = 2000
"""Bytes (UTF-8) of one log record's message, at most."""
MIN_SECRET = 6
"""Shorter keys are not real keys; redacting them would garble every line of the log."""
LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "wafer_grammar.client",
)
"""The loggers filtered (a logger's filter does not see its children's records)."""

_lock = threading.Lock()
_secrets: set[str] = set()
_installed = False


def clip_bytes(text: str, limit: int = MAX_LOG_LINE) -> str:
    """``text``, or as much of it as fits ``limit`` UTF-8 bytes with a note of its size."""
    data = text.encode("utf-8", errors="surrogatepass")
    if len(data) <= limit:
        return text
    note = f"... [{len(data)} bytes in all]"
    head = data[: limit - len(note)].decode("utf-8", errors="ignore")
    return head + note


class SafeRecords(logging.Filter):
    """Redacts the process's API keys from a record's message and cuts it to size."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging itself reports it
            return True
        with _lock:
            secrets = tuple(_secrets)
        clean = message
        for secret in secrets:
            if secret in clean:
                clean = clean.replace(secret, REDACTED)
        clean = clip_bytes(clean)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def protect(secret: str | None) -> None:
    """Keep ``secret`` out of every record of :data:`LOGGERS` from now on (idempotent)."""
    global _installed
    with _lock:
        if secret and len(secret) >= MIN_SECRET:
            _secrets.add(secret)
        if _installed:
            return
        _installed = True
    guard = SafeRecords()
    for name in LOGGERS:
        logging.getLogger(name).addFilter(guard)
