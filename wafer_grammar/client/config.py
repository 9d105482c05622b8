"""Client configuration: frozen dataclasses, each field documented beside its default.

Values come from three places, strongest first: keyword arguments to the
client, the environment (``WAFER_BASE_URL``, ``WAFER_API_KEY``), these defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from wafer_grammar.client.retry import RetryPolicy

DEFAULT_BASE_URL = "https://pass.wafer.ai/v1"
BASE_URL_ENV = "WAFER_BASE_URL"
API_KEY_ENV = "WAFER_API_KEY"
USER_AGENT = "wafer-grammar/0.1"


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed per phase of one HTTP attempt (None: wait forever).

    ``read`` bounds the gap between two received bytes, not the whole answer:
    a streaming completion may run longer as long as tokens keep arriving.
    """

    connect: float | None = 10.0
    """Establishing the TCP/TLS connection."""
    read: float | None = 120.0
    """Waiting for the next bytes of the answer (a long generation needs it generous)."""
    write: float | None = 30.0
    """Sending the request body."""
    pool: float | None = 10.0
    """Waiting for a free pooled connection (with many concurrent requests)."""

    @classmethod
    def of(cls, value: Timeouts | float | None) -> Timeouts:
        """``value`` as Timeouts: a number (or None) sets every phase."""
        if isinstance(value, Timeouts):
            return value
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise TypeError(f"timeout must be a number of seconds or Timeouts, not {value!r}")
        if value is not None and value <= 0:
            raise ValueError(f"timeout must be positive, not {value!r}")
        return cls(connect=value, read=value, write=value, pool=value)


@dataclass(frozen=True)
class Limits:
    """Connection pooling (one pool per client; reuse the client to reuse connections)."""

    max_connections: int = 100
    """Open connections at most; more concurrent requests wait for ``Timeouts.pool``."""
    max_keepalive_connections: int = 20
    """Idle connections kept open for reuse."""
    keepalive_expiry: float = 30.0
    """Seconds an idle connection is kept."""


@dataclass(frozen=True)
class ClientConfig:
    """Everything a client needs besides its transport. Build with :func:`resolve_config`.

    The API key is kept out of ``repr`` (shown as ``api_key=<set>``), and out
    of every message, log record and exception the client produces.
    """

    base_url: str = DEFAULT_BASE_URL
    """The API root, ending in ``/v1`` (``$WAFER_BASE_URL`` overrides the default)."""
    api_key: str | None = field(default=None, repr=False)
    """Sent as ``Authorization: Bearer``; None sends no header (a local server may not need one)."""
    timeouts: Timeouts = field(default_factory=Timeouts)
    """Per-phase timeouts of each attempt."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    """How 429, 5xx, timeouts and connection errors are retried."""
    limits: Limits = field(default_factory=Limits)
    """Connection pool sizes."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra headers sent with every request (not for the key: use ``api_key``)."""
    zdr: bool = False
    """Send ``Wafer-ZDR: required`` on every inference request (per call: ``zdr=``)."""
    tokenize_text: bool = True
    """Encode a text prompt locally with the model's own tokenizer (Wafer's
    ``/v1/completions`` takes token IDs only); False sends the text as is."""
    server: str = "wafer"
    """The server's profile (:mod:`wafer_grammar.client.profiles`): ``wafer``,
    ``sglang``, ``vllm``, ``llamacpp``, or ``auto`` (asked of ``/v1/models``)."""

    def __repr__(self) -> str:
        key = "<set>" if self.api_key else "None"
        return (
            f"ClientConfig(base_url={self.base_url!r}, api_key={key}, "
            f"timeouts={self.timeouts!r}, retry={self.retry!r}, zdr={self.zdr!r}, "
            f"server={self.server!r})"
        )

    def with_changes(self, **changes: object) -> ClientConfig:
        """A copy with ``changes`` applied (``dataclasses.replace``)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def resolve_config(
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout: Timeouts | float | None = None,
    retry: RetryPolicy | None = None,
    limits: Limits | None = None,
    headers: Mapping[str, str] | None = None,
    zdr: bool = False,
    tokenize_text: bool = True,
    server: str = "wafer",
    environ: Mapping[str, str] | None = None,
) -> ClientConfig:
    """The client's configuration from keywords, then the environment, then defaults.

    Raises:
        ValueError: ``base_url`` is not an http(s) URL, a header tries to
            carry the key (``Authorization``), or ``server`` names no profile.
    """
    from wafer_grammar.client.profiles import SERVERS

    if server not in SERVERS:
        raise ValueError(f"server must be one of {', '.join(SERVERS)}, not {server!r}")
    env = os.environ if environ is None else environ
    url = (base_url or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must start with http:// or https://, not {url!r}")
    key = api_key if api_key is not None else (env.get(API_KEY_ENV) or None)
    extra = dict(headers or {})
    if any(name.lower() == "authorization" for name in extra):
        # Keeping the key in one field is what lets us keep it out of reprs and errors.
        raise ValueError("pass the key as api_key=, not as an Authorization header")
    return ClientConfig(
        base_url=url,
        api_key=key,
        timeouts=Timeouts() if timeout is None else Timeouts.of(timeout),
        retry=retry or RetryPolicy(),
        limits=limits or Limits(),
        headers=extra,
        zdr=zdr,
        tokenize_text=tokenize_text,
        server=server,
    )
