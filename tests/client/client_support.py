"""Shared constants for the client tests (imported by name: tests/ is not a package)."""

from __future__ import annotations

from typing import Any

from wafer_grammar.client import RetryPolicy

# Fast retries: the policy's arithmetic is tested without a server; here only the behaviour.
FAST = RetryPolicy(max_retries=3, initial_delay=0.01, max_delay=0.05)
GRAMMAR = 'root ::= "yes" | "no"'
QUESTION = [{"role": "user", "content": "Is the sky blue? Answer yes or no."}]


def fresh_log(server: Any) -> None:
    """Start the server's request log afresh.

    No wait is needed: the server logs a request before its answer goes out, so every
    request a client has had its answer to is already in the log when it is cleared.
    """
    server.clear()


def paths(server: Any) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in server.requests()]
