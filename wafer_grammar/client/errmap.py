"""HTTP failures -> the package's typed errors (sans-I/O: takes statuses, headers, bytes).

Wafer's error envelope is ``{"error": {"type", "code", "message", "param",
"request_id"}}`` (Anthropic-style bodies wrap the same object); every answer
carries ``x-request-id``. Server text is passed through :func:`redact` so a
server that echoes the key cannot leak it into our messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import httpx

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
)

REDACTED = "[redacted]"
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


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced."""
    if secret and secret in text:
        return text.replace(secret, REDACTED)
    return text


def request_id_of(
    headers: Mapping[str, str], envelope: Mapping[str, Any] | None = None
) -> str | None:
    """The request ID: the ``x-request-id`` header, else the envelope's ``request_id``."""
    rid = headers.get("x-request-id")
    if not rid and envelope is not None and isinstance(envelope.get("request_id"), str):
        rid = envelope["request_id"]
    return rid or None


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


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, *, secret: str | None
) -> APIError:
    """The typed error for a failed HTTP answer (status >= 400)."""
    env = envelope_of(body)
    raw = env.get("message")
    if not isinstance(raw, str) or not raw.strip():
        text = body.decode("utf-8", errors="replace").strip()
        raw = text[:200] if text and not text.startswith(("{", "<")) else _phrase(status)
    message = redact(raw, secret)
    code = env.get("code") if isinstance(env.get("code"), str) else None
    param = env.get("param") if isinstance(env.get("param"), str) else None
    fields: dict[str, Any] = {
        "status": status,
        "request_id": request_id_of(headers, env),
        "code": code,
        "param": param,
        "server_message": message,
    }
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
    detail = redact(str(exc) or type(exc).__name__, secret)
    if isinstance(exc, httpx.TimeoutException):
        phase = next((name for kind, name in _PHASES if isinstance(exc, kind)), "read")
        limit = (timeouts or {}).get(phase)
        within = f" within the {phase} timeout of {limit:g} s" if limit is not None else ""
        return RequestTimeout(f"no answer from {url}{within}")
    if isinstance(exc, httpx.ConnectError):
        return ConnectionFailed(f"cannot connect to {url}: {detail}")
    return ConnectionFailed(f"the connection to {url} failed mid-answer: {detail}")
