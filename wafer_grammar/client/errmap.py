"""HTTP failures -> the package's typed errors (sans-I/O: takes statuses, headers, bytes).

Wafer's error envelope is ``{"error": {"type", "code", "message", "param",
"request_id"}}`` (Anthropic-style bodies wrap the same object); every answer
carries ``x-request-id``. All server text -- the message, the request id, the
code, the parameter, a redirect's host -- goes through
:mod:`wafer_grammar.client.bounded`: redacted, so a server that echoes the key
cannot leak it into our messages, and cut, so a huge body cannot make a huge
message or log line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import httpx

from wafer_grammar.client.bounded import (
    MAX_SERVER_TEXT,
    REDACTED,
    ErrorBody,
    clip,
    redact,
    server_field,
)
from wafer_grammar.client.retry import parse_retry_after
from wafer_grammar.errors import (
    APIError,
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    GrammarRejected,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestTimeout,
    ServerContextLengthExceeded,
    ServerError,
    UnexpectedRedirect,
)

__all__ = ["REDACTED", "error_from_response", "error_from_transport", "redact", "request_id_of"]

GRAMMAR_CODES = frozenset({"invalid_grammar", "grammar_error", "invalid_ebnf", "grammar_invalid"})
CONTEXT_CODES = frozenset({"context_length_exceeded", "context_length"})

# "prompt of 10 tokens plus max_tokens=20 exceeds the model's context of 16 tokens" (ours)
_OURS = re.compile(
    r"prompt of (\d+) tokens plus max_tokens=(\d+) exceeds the model's "
    r"context of (\d+)"
)
# "maximum context length is 16 tokens. However, you requested 30 tokens (10 in the
# messages, 20 in the completion)" (OpenAI / vLLM wording)
_OPENAI = re.compile(
    r"maximum context length is (\d+) tokens.*?\((\d+) in the \w+, (\d+) in "
    r"the completion\)",
    re.S,
)
# The message of an error body cut short (so no longer JSON): its string, up to where the
# cut fell. Linear: the two alternatives never match the same text.
_CUT_MESSAGE = re.compile(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)')
_PARTIAL_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{0,3})?$")


def request_id_of(
    headers: Mapping[str, str],
    envelope: Mapping[str, Any] | None = None,
    *,
    secret: str | None,
) -> str | None:
    """The request ID: the ``x-request-id`` header, else the envelope's ``request_id``;
    redacted and clipped like all server text (a server may echo the key in it)."""
    rid: Any = headers.get("x-request-id")
    if not rid and envelope is not None:
        rid = envelope.get("request_id")
    return server_field(rid, secret)


def envelope_of(body: bytes) -> dict[str, Any]:
    """The error object of a failure body (``{}`` when it has none)."""
    try:
        doc = json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        return {}
    if not isinstance(doc, dict):
        return {}
    error = doc.get("error")
    if isinstance(error, dict):
        return error
    if isinstance(error, str):  # {"error": "message"}
        return {"message": error}
    if isinstance(doc.get("detail"), str):  # FastAPI-style servers and proxies
        return {"message": doc["detail"]}
    if isinstance(doc.get("message"), str):
        return {k: v for k, v in doc.items() if isinstance(v, str)}
    return {}


def _salvage(text: str) -> str | None:
    """The ``message`` string of a JSON error body that was cut short, as far as it goes."""
    found = _CUT_MESSAGE.search(text)
    if found is None:
        return None
    literal = _PARTIAL_ESCAPE.sub("", found.group(1))  # an escape the cut split in two
    try:
        value = json.loads(f'"{literal}"')
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _shown(raw: str, secret: str | None, body: ErrorBody) -> str:
    """Server text as a message shows it: redacted, then cut, saying how much there was."""
    text = redact(raw, secret, truncated=body.truncated)
    size = body.size()
    if size is not None:
        return f"{clip(text, MAX_SERVER_TEXT)} [the error body is {size}]"
    if len(text) > MAX_SERVER_TEXT:
        return f"{clip(text, MAX_SERVER_TEXT)} [cut from {len(text)} characters]"
    return text


def _location(headers: Mapping[str, str], base_url: str | None, secret: str | None) -> str | None:
    """The host (and port) a redirect points to; a relative one stays on ``base_url``'s."""
    location = headers.get("location")
    if not location:
        return None
    try:
        parts = urlsplit(location.strip())
        if not parts.hostname and base_url:
            parts = urlsplit(base_url)
        host, port = parts.hostname, parts.port
    except ValueError:  # a malformed port or IPv6 address
        return None
    if not host:
        return None
    # the host only: a location's user:password@ part, path and query are never shown
    return server_field(f"{host}:{port}" if port else host, secret)


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes | ErrorBody,
    *,
    secret: str | None,
    base_url: str | None = None,
) -> APIError:
    """The typed error for a failed HTTP answer (a 3xx, or status >= 400).

    ``body`` is the answer's body, or as much of it as was read (an :class:`ErrorBody`);
    bytes beyond :data:`~wafer_grammar.client.bounded.MAX_ERROR_BODY` are ignored.
    ``base_url`` places a relative redirect.
    """
    read = body if isinstance(body, ErrorBody) else ErrorBody.of(body)
    data = read.data
    env = envelope_of(data)
    text = data.decode("utf-8", errors="replace")
    raw = env.get("message")
    if not isinstance(raw, str) and read.truncated:
        raw = _salvage(text)
    if not isinstance(raw, str) or not raw.strip():
        stripped = text.strip()
        raw = stripped if stripped and not stripped.startswith(("{", "<")) else _phrase(status)
    message = _shown(raw, secret, read)
    code = server_field(env.get("code"), secret)
    param = server_field(env.get("param"), secret)
    fields: dict[str, Any] = {
        "status": status,
        "request_id": request_id_of(headers, env, secret=secret),
        "code": code,
        "param": param,
        "server_message": message,
    }
    if 300 <= status < 400:
        host = _location(headers, base_url, secret)
        if host is None:
            return UnexpectedRedirect(
                "the server answered with a redirect that names no location; redirects are "
                "not followed",
                **fields,
            )
        return UnexpectedRedirect(
            f"the server redirected the request to {host}; redirects are not followed, so the "
            f"API key is not sent there: if {host} is the right server, use its address as "
            "base_url",
            location_host=host,
            **fields,
        )
    if status == 401:
        return AuthenticationFailed(
            f"authentication failed: {message}; set WAFER_API_KEY or pass api_key=", **fields
        )
    if status == 403:
        return PermissionDenied(f"permission denied: {message}", **fields)
    if status == 404:
        return NotFound(f"not found: {message}", **fields)
    if status == 429:
        wait = parse_retry_after(headers)
        after = f"; retry after {wait:g} s" if wait is not None else ""
        return RateLimited(f"rate limited: {message}{after}", retry_after=wait, **fields)
    if status == 408:
        return RequestTimeout(f"the server timed out the request: {message}", **fields)
    if status >= 500:
        error = ServerError(f"server error: {message}", **fields)
        error.retry_after = parse_retry_after(headers)  # a 503 may say when to come back
        return error
    if (
        code in CONTEXT_CODES
        or "context length" in message.lower()
        or ("context" in message.lower() and "exceed" in message.lower())
    ):
        return ServerContextLengthExceeded(
            f"context length exceeded: {message}", **_context_counts(message), **fields
        )
    if code in GRAMMAR_CODES or param == "ebnf":
        return GrammarRejected(f"the server rejected the grammar: {message}", **fields)
    if 400 <= status < 500:
        where = f" (parameter {param!r})" if param else ""
        return BadRequest(f"invalid request{where}: {message}", **fields)
    return APIError(f"unexpected answer: {message}", **fields)


def _context_counts(message: str) -> dict[str, int]:
    found = _OURS.search(message)
    if found:
        prompt, out, limit = (int(g) for g in found.groups())
        return {"prompt_tokens": prompt, "max_tokens": out, "max_model_len": limit}
    found = _OPENAI.search(message)
    if found:
        limit, prompt, out = (int(g) for g in found.groups())
        return {"prompt_tokens": prompt, "max_tokens": out, "max_model_len": limit}
    return {}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return f"HTTP status {status}"


_PHASES: tuple[tuple[type[httpx.TimeoutException], str], ...] = (
    (httpx.ConnectTimeout, "connect"),
    (httpx.ReadTimeout, "read"),
    (httpx.WriteTimeout, "write"),
    (httpx.PoolTimeout, "pool"),
)


def error_from_transport(
    exc: httpx.TransportError,
    *,
    url: str,
    secret: str | None,
    timeouts: Mapping[str, float | None] | None = None,
) -> APIError:
    """The typed error for an httpx transport failure (no HTTP answer, or a cut one)."""
    # httpx's words may quote what the server sent (a malformed status line, a header)
    detail = clip(redact(str(exc) or type(exc).__name__, secret), MAX_SERVER_TEXT)
    if isinstance(exc, httpx.TimeoutException):
        phase = next((name for kind, name in _PHASES if isinstance(exc, kind)), "read")
        limit = (timeouts or {}).get(phase)
        within = f" within the {phase} timeout of {limit:g} s" if limit is not None else ""
        return RequestTimeout(f"no answer from {url}{within}")
    if isinstance(exc, httpx.ConnectError):
        return ConnectionFailed(f"cannot connect to {url}: {detail}")
    return ConnectionFailed(f"the connection to {url} failed mid-answer: {detail}")
