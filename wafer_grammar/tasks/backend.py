"""Which server a task talks to, chosen once, explicitly, and said out loud.

The rule (the same for the Python API and the CLI):

1. a ``base_url`` given by the caller: that server (any Wafer-compatible one),
   with ``api_key`` or ``$WAFER_API_KEY`` when set;
2. else ``$WAFER_API_KEY`` set: the Wafer API (``$WAFER_BASE_URL`` or its default);
3. else the embedded engine behind a loopback server (no key, no network),
   started on first use and shared by every later call in the process (loading
   the model takes seconds; it is stopped when the process exits).

A block that ends in Ctrl-C cuts the embedded engine's generations in flight at
once (the whole process is being interrupted); at exit the server is stopped
without waiting, which also cuts what an interrupted asyncio run left behind.

Both clients go through the same HTTP path, so the embedded engine exercises
exactly what Wafer would be sent.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wafer_grammar.client.aio import AsyncWaferClient
    from wafer_grammar.client.sync import WaferClient
    from wafer_grammar.local.server import LocalServer

KEY_VARIABLE = "WAFER_API_KEY"


@dataclass(frozen=True)
class Backend:
    """Where requests go: ``kind`` is ``"wafer"``, ``"server"`` or ``"embedded"``."""

    kind: str
    base_url: str
    embedded_model: str | None = None
    """The embedded engine's model ID (only for ``"embedded"``)."""

    def describe(self) -> str:
        """One line for stderr; never the key (it is not even held here)."""
        if self.kind == "wafer":
            return f"backend: Wafer API at {self.base_url} ({KEY_VARIABLE} is set)"
        if self.kind == "server":
            return f"backend: server at {self.base_url}"
        return (
            f"backend: embedded engine ({self.embedded_model}, {KEY_VARIABLE} is not set)"
            f" at {self.base_url}"
        )


def choose(base_url: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The backend kind the rule above picks (no server is started)."""
    env = os.environ if env is None else env
    if base_url:
        return "server"
    if env.get(KEY_VARIABLE):
        return "wafer"
    return "embedded"


@contextmanager
def _endpoint(
    base_url: str | None, api_key: str | None
) -> Iterator[tuple[Backend, str | None, str | None]]:
    """``(backend, base_url to pass, api_key to pass)``; the embedded server lives inside."""
    kind = choose(base_url)
    if kind == "server":
        assert base_url is not None
        yield Backend("server", base_url.rstrip("/")), base_url, api_key
        return
    if kind == "wafer":
        from wafer_grammar.client.config import resolve_config

        config = resolve_config(api_key=api_key)
        yield Backend("wafer", config.base_url), None, api_key
        return
    server = shared_embedded_server()
    backend = Backend("embedded", server.base_url, server.engine.config.model_id)
    try:
        # the local server was started without a key: send none
        yield backend, server.base_url, None
    except KeyboardInterrupt:
        # Ctrl-C ends every caller in the process: cut all the generations in flight.
        # (One caller's own error must not cut the others sharing this server.)
        server.cancel_running()
        raise


_shared_server: LocalServer | None = None
_shared_lock = threading.Lock()
_announced: set[str] = set()


def shared_embedded_server() -> LocalServer:
    """The process's embedded server, started on first use, stopped at exit."""
    global _shared_server
    with _shared_lock:
        if _shared_server is None:
            from wafer_grammar.local.server import LocalServer

            # port 0: a free loopback port, so two processes side by side never collide
            server = LocalServer(port=0).start()
            atexit.register(server.stop, 0.0)
            _shared_server = server
        return _shared_server


def announce_once(backend: Backend) -> None:
    """Name ``backend`` on stderr the first time this process uses it."""
    line = backend.describe()
    with _shared_lock:
        if line in _announced:
            return
        _announced.add(line)
    print(line, file=sys.stderr, flush=True)


@contextmanager
def open_client(
    base_url: str | None = None, api_key: str | None = None, *, announce: bool = False
) -> Iterator[tuple[WaferClient, Backend]]:
    """A blocking client for the backend the rule picks, and that backend.

    ``announce``: name the backend on stderr, once per process (the Python API's
    calls do; the CLI prints it itself).
    """
    from wafer_grammar.client.sync import WaferClient

    with (
        _endpoint(base_url, api_key) as (backend, url, key),
        WaferClient(base_url=url, api_key=key) as client,
    ):
        if announce:
            announce_once(backend)
        yield client, backend


@asynccontextmanager
async def open_async_client(
    base_url: str | None = None,
    api_key: str | None = None,
    *,
    announce: bool = False,
) -> AsyncIterator[tuple[AsyncWaferClient, Backend]]:
    """As :func:`open_client`, with an asyncio client (the embedded server runs in a thread)."""
    from wafer_grammar.client.aio import AsyncWaferClient

    with _endpoint(base_url, api_key) as (backend, url, key):
        async with AsyncWaferClient(base_url=url, api_key=key) as client:
            if announce:
                announce_once(backend)
            yield client, backend
