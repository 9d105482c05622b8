"""Clients wired to the embedded local server (``local_server`` comes from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from client_support import FAST

from wafer_grammar.client import Timeouts, WaferClient


@pytest.fixture
def client(local_server) -> Iterator[WaferClient]:  # type: ignore[no-untyped-def]
    with WaferClient(
        base_url=local_server.base_url,
        api_key=local_server.api_key,
        retry=FAST,
        timeout=Timeouts(connect=5, read=30, write=5, pool=5),
    ) as made:
        yield made
