"""Clients wired to the embedded local server (``local_server`` comes from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wafer_grammar.client import RetryPolicy, Timeouts, WaferClient

FAST = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.05)


@pytest.fixture
def client(local_server) -> Iterator[WaferClient]:  # type: ignore[no-untyped-def]
    with WaferClient(
        base_url=local_server.base_url,
        api_key=local_server.api_key,
        retry=FAST,
        timeout=Timeouts(connect=5, read=60, write=5, pool=5),
    ) as made:
        yield made


@pytest.fixture
def server_env(local_server, monkeypatch):  # type: ignore[no-untyped-def]
    """The CLI pointed at the test server: ``--base-url`` plus its key in the environment."""
    monkeypatch.setenv("WAFER_API_KEY", local_server.api_key)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return local_server
