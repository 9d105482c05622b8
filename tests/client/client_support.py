"""Shared constants for the client tests (imported by name: tests/ is not a package)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from wafer_grammar.client import RetryPolicy

# Fast retries: the policy's arithmetic is tested without a server; here only the behaviour.
FAST = RetryPolicy(max_retries=3, initial_delay=0.01, max_delay=0.05)
GRAMMAR = 'root ::= "yes" | "no"'
QUESTION = [{"role": "user", "content": "Is the sky blue? Answer yes or no."}]


def fresh_log(server: Any) -> None:
    """Start the server's request log afresh.

    No pause is needed: clearing waits for the requests in flight to be logged (a client
    can see its answer before the server's handler logs it).
    """
    server.clear()


def paths(server: Any) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in server.requests()]


def uncached(usage: Any) -> Any:
    """``usage`` with ``cached_tokens`` zeroed: how much of a prompt the server's prefix
    cache held depends on the requests before it, not on the request."""
    return replace(usage, cached_tokens=0) if usage is not None else None
