"""Errors of the HTTP API (:mod:`wafer_grammar.client`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass
from wafer_grammar.errors.core import ContextLengthExceeded, WaferGrammarError, _restore

# -- the HTTP API (wafer_grammar.client) ------------------------------------------------


class APIError(WaferGrammarError):
    """The API answered with an error, or could not be reached.

    Every subclass carries ``status`` (the HTTP status, None when no answer
    came), ``request_id`` (Wafer's ``x-request-id``: quote it to support),
    ``code`` and ``param`` (from the error envelope) and ``server_message``.
    The API key never appears in any of them. ``retry_after`` is the server's
    ``Retry-After`` in seconds (429 and 5xx answers), else None.
    """

    retry_after: float | None = None
    attempts: int = 1
    """Attempts made before this error was raised (retries + 1)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        code: str | None = None,
        param: str | None = None,
        server_message: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.request_id = request_id
        self.code = code
        self.param = param
        self.server_message = server_message
        where = [f"HTTP {status}"] if status is not None else []
        if request_id:
            where.append(f"request {request_id}")
        # Exception.__init__ directly: ServerContextLengthExceeded also has
        # ContextLengthExceeded (keyword-only __init__) on its MRO.
        WaferGrammarError.__init__(self, f"{message} ({', '.join(where)})" if where else message)

    def __reduce__(self) -> Any:
        return (_restore, (type(self), self.args, self.__dict__))


class AuthenticationFailed(APIError):
    """401: the API key is missing, malformed or revoked."""


class PermissionDenied(APIError):
    """403: the key is valid but may not use this model or endpoint."""


class NotFound(APIError, LookupError):
    """404: the model (or endpoint) does not exist; model IDs are case-sensitive."""


class RateLimited(APIError):
    """429 after the retries; ``retry_after`` is the server's wait in seconds (or None)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **fields: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **fields)


class BadRequest(APIError, ValueError):
    """400/413/422: the server refused the request; ``param`` names the field."""


class GrammarRejected(BadRequest):
    """The server's grammar compiler (XGrammar) refused the request's ``ebnf``."""


class ServerContextLengthExceeded(BadRequest, ContextLengthExceeded):
    """The server says the prompt plus ``max_tokens`` exceeds the model's context.

    The counts are set when the server's message states them, else None.
    """

    def __init__(
        self,
        message: str,
        *,
        prompt_tokens: int | None = None,
        max_tokens: int | None = None,
        max_model_len: int | None = None,
        **fields: Any,
    ) -> None:
        self.prompt_tokens = prompt_tokens  # type: ignore[assignment]
        self.max_tokens = max_tokens  # type: ignore[assignment]
        self.max_model_len = max_model_len  # type: ignore[assignment]
        BadRequest.__init__(self, message, **fields)


class ServerError(APIError):
    """5xx from the server, still failing after the retries."""


class RequestTimeout(APIError, TimeoutError):
    """No (complete) answer within the configured timeout, after the retries."""


class ConnectionFailed(APIError, ConnectionError):
    """The server could not be reached, or the connection dropped mid-answer."""


class UnexpectedRedirect(APIError):
    """A 3xx answer: reported, never followed, so the API key is not sent to another address.

    ``location_host`` is the host the server points to (None when it names none).
    """

    def __init__(self, message: str, *, location_host: str | None = None, **fields: Any) -> None:
        self.location_host = location_host
        super().__init__(message, **fields)


class MalformedResponse(APIError):
    """A success status whose body is not the documented shape; ``body`` is an excerpt."""

    def __init__(self, message: str, *, body: str = "", **fields: Any) -> None:
        self.body = body
        super().__init__(message, **fields)


class ZDRUnsupported(WaferGrammarError, ValueError):
    """``zdr=True`` for a model whose ``/v1/models`` card does not offer zero data retention."""

    def __init__(self, model: str) -> None:
        self.model = model
        super().__init__(
            f"model {model!r} does not support zero data retention (its card has no "
            "zdr_supported: true); drop zdr=True or choose a model that supports it"
        )


__all__ = [
    "APIError",
    "AuthenticationFailed",
    "BadRequest",
    "ConnectionFailed",
    "GrammarRejected",
    "MalformedResponse",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RequestTimeout",
    "ServerContextLengthExceeded",
    "ServerError",
    "UnexpectedRedirect",
    "ZDRUnsupported",
]
