"""Retry policy: which failures are retried, and how long to wait (sans-I/O: no sleeping here).

Both clients ask a :class:`RetryState` "retry this error?" and get back a delay
in seconds or None; only they sleep, with ``time.sleep`` or ``asyncio.sleep``.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from wafer_grammar.errors import (
    APIError,
    ConnectionFailed,
    RateLimited,
    RequestTimeout,
    ServerError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded, honouring ``Retry-After``.

    The n-th retry (n = 1, 2, ...) waits ``initial_delay * multiplier**(n-1)``,
    capped at ``max_delay``, scaled by a random factor in ``[1 - jitter, 1]``
    (jitter spreads out many clients that failed together). A ``Retry-After``
    from the server replaces the computed wait.
    """

    max_retries: int = 3
    """Retries after the first attempt; 0 disables retrying."""
    initial_delay: float = 0.5
    """Seconds before the first retry (before jitter)."""
    multiplier: float = 2.0
    """Growth of the wait per retry."""
    max_delay: float = 8.0
    """Cap on a computed wait."""
    jitter: float = 0.5
    """Fraction of the wait that is random: 0 is none, 1 is "full jitter"."""
    max_retry_after: float = 60.0
    """A ``Retry-After`` longer than this is not waited for: the error is raised at once."""
    retry_on: tuple[type[APIError], ...] = (
        RateLimited,
        ServerError,
        RequestTimeout,
        ConnectionFailed,
    )
    """Error types worth retrying (429, 5xx, timeouts, connection failures)."""

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_retries, bool)
            or not isinstance(self.max_retries, int)
            or (self.max_retries < 0)
        ):
            raise ValueError(f"max_retries must be an integer >= 0, not {self.max_retries!r}")
        for name in ("initial_delay", "max_delay", "max_retry_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, not {getattr(self, name)!r}")
        if self.multiplier < 1:
            raise ValueError(f"multiplier must be >= 1, not {self.multiplier!r}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be between 0 and 1, not {self.jitter!r}")

    def backoff(self, retry: int, rng: random.Random | None = None) -> float:
        """The wait before retry number ``retry`` (1-based) when the server names none."""
        base = min(self.max_delay, self.initial_delay * self.multiplier ** (retry - 1))
        draw = (rng or random).random()
        return base * (1 - self.jitter * draw)


class RetryState:
    """The retries of one call: ask :meth:`delay_for` after each failed attempt."""

    def __init__(self, policy: RetryPolicy, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.rng = rng
        self.retries = 0

    def delay_for(self, error: APIError) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to raise it."""
        policy = self.policy
        if not isinstance(error, policy.retry_on) or self.retries >= policy.max_retries:
            return None
        retry_after = error.retry_after
        if retry_after is not None and retry_after > policy.max_retry_after:
            return None  # the server asks for a longer pause than the caller allows
        self.retries += 1
        if retry_after is not None:
            return max(0.0, retry_after)
        return policy.backoff(self.retries, self.rng)


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, or ``Retry-After`` as
    seconds or an HTTP date; None when absent or unreadable."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
