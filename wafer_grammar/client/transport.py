"""What both clients share about httpx: timeouts, limits, and the retry decision per attempt.

``attempt_error`` is the sans-I/O decision: given what one attempt produced
(an answer's status, headers and body, or a transport exception), the typed
error to retry or raise, or None for a usable answer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import httpx

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
    config: ClientConfig, status: int, headers: Mapping[str, str], body: bytes
) -> APIError:
    return error_from_response(status, headers, body, secret=config.api_key)


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
