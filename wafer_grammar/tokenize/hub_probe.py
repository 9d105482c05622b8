"""Is the Hugging Face hub reachable? Asked once, quickly, before any hub download.

``huggingface_hub`` retries a failed connection five times with back-off (about
70 s for the files a chat tokenizer needs) and has no setting to stop it. One TCP
connection to the endpoint with a short deadline answers the question first: when
it fails, the loaders read the local cache only (as with ``HF_HUB_OFFLINE=1``) and
the error says the hub was unreachable. Name resolution runs in a daemon thread so
that a resolver that hangs cannot hold the caller past the deadline.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from urllib.parse import urlsplit

PROBE_SECONDS = 1.5
"""How long to wait for the connection; a reachable hub answers in well under it."""

REMEMBER_SECONDS = 60.0
"""A verdict is reused this long, so one command asks at most once per endpoint."""

_verdicts: dict[str, tuple[float, str | None]] = {}
_lock = threading.Lock()


def hub_endpoint() -> str:
    """The hub's base URL (``HF_ENDPOINT``, as huggingface_hub reads it)."""
    return os.environ.get("HF_ENDPOINT", "").strip() or "https://huggingface.co"


def hub_unreachable_reason(endpoint: str | None = None) -> str | None:
    """Why the hub cannot be reached (a short phrase), or None when it answers."""
    endpoint = endpoint or hub_endpoint()
    now = time.monotonic()
    with _lock:
        known = _verdicts.get(endpoint)
        if known is not None and now - known[0] < REMEMBER_SECONDS:
            return known[1]
    reason = _probe(endpoint)
    with _lock:
        _verdicts[endpoint] = (time.monotonic(), reason)
    return reason


def _probe(endpoint: str) -> str | None:
    parts = urlsplit(endpoint)
    host = parts.hostname
    if not host:
        return f"HF_ENDPOINT {endpoint!r} is not a URL"
    port = parts.port or (80 if parts.scheme == "http" else 443)
    outcome: list[str | None] = []

    def connect() -> None:
        try:
            with socket.create_connection((host, port), timeout=PROBE_SECONDS):
                outcome.append(None)
        except OSError as exc:
            outcome.append(f"{host}:{port}: {exc.strerror or exc}")

    worker = threading.Thread(target=connect, name="hub-probe", daemon=True)
    worker.start()
    worker.join(PROBE_SECONDS + 0.25)
    if not outcome:
        return f"{host}:{port}: no answer within {PROBE_SECONDS:g} s"
    return outcome[0]
