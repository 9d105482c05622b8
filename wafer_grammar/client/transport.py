"""What both clients share about httpx: timeouts, limits, and the retry decision per attempt.

``status_error`` and ``transport_error`` are the sans-I/O decisions: given what
one attempt produced (an answer's status, headers and what was read of its body,
or a transport exception), the typed error to retry or raise.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import httpx

from wafer_grammar.client.bounded import ErrorBody
from wafer_grammar.client.config import ClientConfig, Limits, Timeouts
from wafer_grammar.client.core import RequestSpec
from wafer_grammar.client.errmap import error_from_response, error_from_transport
from wafer_grammar.errors import APIError

logger = logging.getLogger("wafer_grammar.client")


def httpx_timeout(timeouts: Timeouts) -> httpx.Timeout:
    return httpx.Timeout(
        connect=timeouts.connect, read=timeouts.read, write=timeouts.write, pool=timeouts.pool
    )


def httpx_limits(limits: Limits) -> httpx.Limits:
    return httpx.Limits(
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
    )


def status_error(
    config: ClientConfig, status: int, headers: Mapping[str, str], body: bytes | ErrorBody
) -> APIError:
    """The typed error for a non-2xx answer (``body``: what was read of it)."""
    return error_from_response(
        status, headers, body, secret=config.api_key, base_url=config.base_url
    )


def transport_error(config: ClientConfig, spec: RequestSpec, exc: httpx.TransportError) -> APIError:
    timeouts = spec.timeouts or config.timeouts
    return error_from_transport(
        exc,
        url=config.base_url + spec.path,
        secret=config.api_key,
        timeouts={
            "connect": timeouts.connect,
            "read": timeouts.read,
            "write": timeouts.write,
            "pool": timeouts.pool,
        },
    )


def log_retry(
    spec: RequestSpec, error: APIError, attempt: int, delay: float, max_retries: int
) -> None:
    # The error's text is built from redacted server text and our own words: no key.
    logger.info(
        "retrying %s %s in %.2f s (attempt %d of %d) after %s: %s",
        spec.method,
        spec.path,
        delay,
        attempt + 1,
        max_retries + 1,
        type(error).__name__,
        error,
    )


def give_up(error: APIError, attempt: int) -> APIError:
    """``error`` marked with the number of attempts made, ready to raise."""
    error.attempts = attempt
    logger.debug("giving up after %d attempt(s): %s", attempt, error)
    return error
