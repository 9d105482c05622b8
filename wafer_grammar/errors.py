"""The one exception tree of wafer-grammar.

::

    WaferGrammarError
     ├── GrammarError (ValueError)          .diagnostics: the grammar is not valid
     │    └── GrammarSyntaxError            .diagnostics: it does not even parse
     ├── TextUnjudgeable (ValueError)       a token-level macro cannot be judged on text
     ├── OutputMismatch (ValueError)        .offset .line .column .expected: not in the language
     ├── TokenizerError                     loading or using a tokenizer failed
     │    ├── TokenizerNotFound (LookupError)
     │    ├── ChatTemplateMissing (ValueError)
     │    ├── ThinkingUnsupported (ValueError)  the model cannot switch reasoning that way
     │    └── RegistryError (ValueError)        a model registry file or entry is malformed
     ├── ContextLengthExceeded (ValueError) .prompt_tokens .max_tokens .max_model_len
     ├── LanguageNotFinite (ValueError)     a grammar's language is infinite or too large to list
     ├── RegexUnsupported (ValueError)      .construct .position: a regex no grammar can express
     ├── RegexError (ValueError)            .pattern .position: a Regex() XGrammar cannot compile
     ├── UnsupportedSchema (ValueError)     .keyword .pointer: a JSON Schema keyword not enforced
     ├── InvalidLabels (ValueError)         .labels: empty or duplicate labels for a choice
     ├── EngineError                        the embedded local engine failed a request
     │    ├── ModelUnavailable              the model file or an engine dependency is missing
     │    └── InvalidRequest (ValueError)   .param .code .status: a request the engine refuses
     ├── APIError                       .status .request_id .code .param: the HTTP API failed
     │    ├── AuthenticationFailed          401: the API key is missing or refused
     │    ├── PermissionDenied              403: the key may not use this model or endpoint
     │    ├── NotFound (LookupError)        404: unknown model or endpoint
     │    ├── RateLimited                   429: .retry_after (seconds, or None)
     │    ├── BadRequest (ValueError)       400/413/422: .param names the offending field
     │    │    ├── GrammarRejected          the server's XGrammar refused the `ebnf`
     │    │    └── ServerContextLengthExceeded (also ContextLengthExceeded)
     │    ├── ServerError                   5xx, after the retries
     │    ├── RequestTimeout (TimeoutError) no answer in time, after the retries
     │    ├── ConnectionFailed (ConnectionError)  unreachable, or the connection dropped
     │    └── MalformedResponse             a success answer that is not the documented shape
     ├── ZDRUnsupported (ValueError)    zdr=True for a model whose card lacks ZDR support
     ├── PricingUnavailable (LookupError)  a cost asked of a model whose card has no pricing
     ├── BatchFileError (ValueError)    .path .line: a batch input or output file is malformed
     └── DecodeError (ValueError)       .layer .text: a completion that cannot be used
          ├── TruncatedOutput               .viable_prefix: finish_reason "length"
          ├── ConstraintViolation           .offset .line .column: text outside the grammar
          ├── OutputNotJSON                 .offset: a JSON grammar's text does not parse
          ├── SchemaViolation               .errors: JSON that breaks the JSON Schema
          ├── ModelValidationFailed         .errors: JSON the pydantic model refuses
          └── LogprobsMissing               label probabilities without logprobs

Foreign errors (lark, httpx, tokenizers, XGrammar) are translated at the boundary
with ``raise ... from exc``; users only ever catch these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wafer_grammar.ebnf.diagnostics import Diagnostic


class WaferGrammarError(Exception):
    """Root of every error this package raises on purpose."""


class GrammarError(WaferGrammarError, ValueError):
    """The grammar is invalid; ``.diagnostics`` lists every problem found."""

    def __init__(self, diagnostics: Sequence[Diagnostic], source: str | None = None) -> None:
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        self.source = source
        super().__init__(self._summary())

    def _summary(self) -> str:
        errors = [d for d in self.diagnostics if d.severity == "error"] or self.diagnostics
        if not errors:
            return "invalid grammar"
        head = errors[0].render(self.source)
        more = len(errors) - 1
        if more:
            head += f"\n(and {more} more error{'s' if more > 1 else ''})"
        return head

    def render(self) -> str:
        """All diagnostics, each with its source line and caret."""
        return "\n".join(d.render(self.source) for d in self.diagnostics)


class GrammarSyntaxError(GrammarError):
    """The grammar text does not parse (lexer or parser level)."""


class TextUnjudgeable(WaferGrammarError, ValueError):
    """The grammar uses token-level macros, whose language is not a set of strings."""


class OutputMismatch(WaferGrammarError, ValueError):
    """A text is not in the grammar's language; says where and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        text: str,
        offset: int,
        expected: Sequence[str] = (),
    ) -> None:
        from wafer_grammar.ebnf.diagnostics import line_column

        self.text = text
        self.offset = offset
        self.line, self.column = line_column(text, offset)
        self.expected = list(expected)
        self.message = message
        super().__init__(self._render())

    def _render(self) -> str:
        from wafer_grammar.ebnf.diagnostics import caret_snippet

        out = f"line {self.line}, column {self.column}: {self.message}"
        if self.expected:
            out += f"; expected {', '.join(self.expected)}"
        return f"{out}\n{caret_snippet(self.text, self.line, self.column)}"


class TokenizerError(WaferGrammarError):
    """A tokenizer could not be loaded or used."""


class TokenizerNotFound(TokenizerError, LookupError):
    """No tokenizer could be found for the given model, repo or path."""


class ChatTemplateMissing(TokenizerError, ValueError):
    """The tokenizer has no chat template and none was supplied."""


class ThinkingUnsupported(TokenizerError, ValueError):
    """``thinking`` was asked of a model whose template cannot honour it."""


class RegistryError(TokenizerError, ValueError):
    """A model registry file or entry is malformed; the message names the field."""


class ContextLengthExceeded(WaferGrammarError, ValueError):
    """The prompt plus ``max_tokens`` does not fit the model's context window."""

    def __init__(self, *, prompt_tokens: int, max_tokens: int, max_model_len: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.max_tokens = max_tokens
        self.max_model_len = max_model_len
        super().__init__(
            f"prompt of {prompt_tokens} tokens plus max_tokens={max_tokens} exceeds the "
            f"model's context of {max_model_len} tokens by "
            f"{prompt_tokens + max_tokens - max_model_len}; shorten the prompt or lower max_tokens"
        )


class LanguageNotFinite(WaferGrammarError, ValueError):
    """The grammar's language is infinite (or larger than the listing limit)."""


def _caret(text: str, position: int) -> str:
    """``text`` on one line (escaped like ``repr``) with a caret under ``position``."""
    shown = repr(text[:position])[1:-1]
    return f"  {repr(text)[1:-1]}\n  {' ' * len(shown)}^"


class RegexUnsupported(WaferGrammarError, ValueError):
    """A regular expression uses a construct no grammar can express (or is malformed).

    ``construct`` names it (``"backreference \\1"``), ``position`` is its 0-based
    offset in ``pattern``.
    """

    def __init__(self, construct: str, pattern: str, position: int, reason: str) -> None:
        self.construct = construct
        self.pattern = pattern
        self.position = position
        self.reason = reason
        super().__init__(
            f"{construct} at position {position} {reason}\n{_caret(pattern, position)}"
        )


class RegexError(WaferGrammarError, ValueError):
    """A ``Regex(...)`` pattern uses syntax XGrammar's regex engine refuses.

    ``position`` is the 0-based offset of the problem in ``pattern``. Grammar
    checks report it as a diagnostic (E306); this is the error underneath.
    """

    def __init__(self, message: str, pattern: str, position: int) -> None:
        self.message = message
        self.pattern = pattern
        self.position = position
        super().__init__(f"{message} (at position {position} of the pattern)")


class UnsupportedSchema(WaferGrammarError, ValueError):
    """A JSON Schema keyword the grammar cannot enforce (``strict=True``).

    ``keyword`` is the keyword, ``pointer`` the JSON pointer of the schema that
    holds it (``""`` for the root).
    """

    def __init__(self, keyword: str, pointer: str, reason: str) -> None:
        self.keyword = keyword
        self.pointer = pointer
        self.reason = reason
        where = pointer or "the root"
        super().__init__(
            f'keyword "{keyword}" at {where} {reason}; pass strict=False to get a grammar '
            "without it and a coverage report that lists it"
        )


class InvalidLabels(WaferGrammarError, ValueError):
    """Labels for a choice grammar are empty or duplicated; ``labels`` are the offenders."""

    def __init__(self, message: str, labels: Sequence[str] = ()) -> None:
        self.labels = list(labels)
        super().__init__(message)


class EngineError(WaferGrammarError):
    """The embedded local engine (``wafer_grammar.local``) could not serve a request."""


class ModelUnavailable(EngineError):
    """The embedded model's file, or a package the engine needs, is missing."""


class InvalidRequest(EngineError, ValueError):
    """A request the local engine refuses, as its server answers it.

    ``param`` names the offending request field (or None), ``code`` is the
    machine-readable error code (``unsupported_parameter``, ``invalid_grammar``...)
    and ``status`` the HTTP status the server sends (400, or 404 for an unknown model).
    """

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str = "invalid_request",
        status: int = 400,
    ) -> None:
        self.param = param
        self.code = code
        self.status = status
        super().__init__(message)


# -- the HTTP API (wafer_grammar.client) ------------------------------------------------


def _restore(cls: type[BaseException], args: tuple[object, ...], state: dict[str, object]) -> Any:
    """Unpickle an error whose ``__init__`` takes keywords (for multiprocessing batches)."""
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


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


# -- decoding a completion (wafer_grammar.decoding) ----------------------------------------


class DecodeError(WaferGrammarError, ValueError):
    """A completion that cannot be turned into a value; ``layer`` says which check failed.

    Layers, in the order they run: ``"finish"`` (truncated), ``"grammar"``,
    ``"json"``, ``"schema"``, ``"model"``. ``text`` is the completion's text.
    """

    layer: str = ""

    def __init__(self, message: str, *, text: str) -> None:
        self.text = text
        super().__init__(f"{self.layer} layer: {message}")


class TruncatedOutput(DecodeError):
    """``finish_reason == "length"``: the output stopped at ``max_tokens``.

    ``viable_prefix`` is True when the text can still be extended to a member
    of the grammar (so a larger ``max_tokens`` would help), False when it has
    already left the language, None when no grammar could judge it.
    """

    layer = "finish"

    def __init__(self, *, text: str, viable_prefix: bool | None) -> None:
        self.viable_prefix = viable_prefix
        head = (
            f'output truncated at max_tokens (finish_reason "length") after {len(text)} characters'
        )
        if viable_prefix is None:
            tail = "; raise max_tokens"
        elif viable_prefix:
            tail = "; the text so far is a viable prefix of the grammar: raise max_tokens"
        else:
            tail = ", and the text so far is not a prefix of any string of the grammar"
        super().__init__(head + tail, text=text)


class ConstraintViolation(DecodeError):
    """The text is outside the grammar: the server's engine and ours disagree.

    ``offset``, ``line``, ``column`` and ``expected`` locate the first wrong
    character (from :class:`OutputMismatch`, kept as ``mismatch``).
    """

    layer = "grammar"

    def __init__(self, mismatch: OutputMismatch) -> None:
        self.mismatch = mismatch
        self.offset = mismatch.offset
        self.line = mismatch.line
        self.column = mismatch.column
        self.expected = mismatch.expected
        super().__init__(
            "the server returned text outside the grammar (its grammar engine and ours "
            f"disagree; report it with the grammar and this text): {mismatch}",
            text=mismatch.text,
        )


class OutputNotJSON(DecodeError):
    """A JSON result was asked for but the text does not parse as JSON."""

    layer = "json"

    def __init__(self, *, text: str, reason: str, offset: int) -> None:
        self.offset = offset
        before = text[:offset]
        self.line = before.count("\n") + 1
        self.column = offset - (before.rfind("\n") + 1) + 1
        super().__init__(
            f"the text is not JSON: {reason} at line {self.line}, column {self.column}\n"
            f"{_caret(text, offset)}",
            text=text,
        )


class SchemaViolation(DecodeError):
    """The JSON value breaks the JSON Schema; ``errors`` lists ``(json_pointer, message)``."""

    layer = "schema"

    def __init__(self, *, text: str, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = list(errors)
        where, what = self.errors[0]
        more = len(self.errors) - 1
        extra = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        super().__init__(
            f"the value breaks the JSON Schema at {where or 'the root'}: {what}{extra}",
            text=text,
        )


class ModelValidationFailed(DecodeError):
    """The pydantic model refused the JSON value; ``errors`` is pydantic's error list."""

    layer = "model"

    def __init__(self, *, text: str, model_name: str, errors: Sequence[dict[str, Any]]) -> None:
        self.model_name = model_name
        self.errors = list(errors)
        first = self.errors[0]
        loc = ".".join(str(part) for part in first.get("loc", ())) or "the root"
        more = len(self.errors) - 1
        extra = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        super().__init__(
            f"{model_name} refused the value at {loc}: {first.get('msg', '')}{extra}",
            text=text,
        )


class LogprobsMissing(DecodeError):
    """Label probabilities were asked of a completion requested without ``logprobs``."""

    layer = "logprobs"


class PricingUnavailable(WaferGrammarError, LookupError):
    """The model's card carries no ``wafer.pricing``, so a cost cannot be computed."""


class BatchFileError(WaferGrammarError, ValueError):
    """A batch input or output file that cannot be used as it is.

    ``path`` is the file and ``line`` the 1-based line at fault (None for the whole file).
    """

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        where = f"{path}, line {line}" if line is not None else path
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> Any:
        return (_restore, (type(self), self.args, self.__dict__))
