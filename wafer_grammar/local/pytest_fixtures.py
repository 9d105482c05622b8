"""pytest fixtures: the embedded server on a free loopback port, once per session.

Load with ``pytest_plugins = ["wafer_grammar.local.pytest_fixtures"]`` in a
``conftest.py``. Tests then take ``local_server``::

    def test_retry(local_server):
        local_server.inject(Fault.rate_limit(retry_after=1))
        client = Client(base_url=local_server.base_url, api_key=local_server.api_key)
        ...
        assert [r.status for r in local_server.requests()] == [429, 200]

Faults and the request log are cleared before each test that uses the fixture.
The whole session runs with ``HF_HUB_OFFLINE=1``: nothing is downloaded.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from wafer_grammar.local.faults import Fault, FaultPlan, RequestRecord
from wafer_grammar.local.server import LocalServer


@dataclass
class LocalServerHandle:
    """What tests get: where the server is, its key, and its fault controls."""

    server: LocalServer = field(repr=False)
    api_key: str = field(repr=False)
    """The session's random key (send ``Authorization: Bearer <api_key>``)."""

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return self.server.base_url

    @property
    def model(self) -> str:
        """The model ID to send (``SmolLM2-135M-Instruct``)."""
        return self.server.engine.config.model_id

    @property
    def faults(self) -> FaultPlan:
        return self.server.faults

    def inject(self, *faults: Fault) -> None:
        """Queue faults: each later request to ``/v1/...`` takes the next one."""
        self.server.faults.add(*faults)

    def clear(self) -> None:
        """Drop pending faults and the request log."""
        self.server.faults.clear()

    def requests(self) -> list[RequestRecord]:
        """Requests served since the last :meth:`clear` (method, path, status, fault)."""
        return self.server.faults.requests

    def __repr__(self) -> str:
        return f"<LocalServerHandle {self.base_url}>"


@pytest.fixture(scope="session")
def local_server_session() -> Iterator[LocalServerHandle]:
    """The server itself, started once for the session (prefer ``local_server``)."""
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    api_key = "test-" + secrets.token_urlsafe(16)
    server = LocalServer(port=0, api_key=api_key, test_control=True)
    try:
        server.start()
        yield LocalServerHandle(server, api_key)
    finally:
        server.stop(grace=5.0)
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous


@pytest.fixture
def local_server(local_server_session: LocalServerHandle) -> Iterator[LocalServerHandle]:
    """The session's server, with no faults pending and an empty request log."""
    local_server_session.clear()
    yield local_server_session
    local_server_session.clear()
