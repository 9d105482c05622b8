"""The root of the tree, and the errors of grammars, tokenizers, converters and the engine."""

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


class GBNFUnsupported(GrammarError):
    """The grammar uses what GBNF (llama.cpp) cannot express: lookahead, rule options, macros."""


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
    """The tokenizer has no chat template and none was supplied.

    ``model`` and ``detail`` (why none was found) let an interface other than the
    Python API say how to supply one in its own words (the CLI: ``--chat-template``).
    """

    def __init__(self, message: str, *, model: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.model = model
        self.detail = detail


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
    from wafer_grammar.ebnf.diagnostics import caret_snippet  # the one caret renderer

    return caret_snippet(repr(text)[1:-1], 1, len(repr(text[:position])[1:-1]) + 1)


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
    holds it (``""`` for the root). ``lax_helps`` is False where ``strict=False``
    changes nothing (a schema that admits no value, a malformed keyword).
    """

    def __init__(self, keyword: str, pointer: str, reason: str, *, lax_helps: bool = True) -> None:
        self.keyword = keyword
        self.pointer = pointer
        self.reason = reason
        self.lax_helps = lax_helps
        where = pointer or "the root"
        message = f'keyword "{keyword}" at {where} {reason}'
        if lax_helps:
            message += (
                "; pass strict=False to get a grammar without it and a coverage report that "
                "lists it"
            )
        super().__init__(message)


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


def _restore(cls: type[BaseException], args: tuple[object, ...], state: dict[str, object]) -> Any:
    """Unpickle an error whose ``__init__`` takes keywords (for multiprocessing batches)."""
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


__all__ = [
    "ChatTemplateMissing",
    "ContextLengthExceeded",
    "EngineError",
    "GBNFUnsupported",
    "GrammarError",
    "GrammarSyntaxError",
    "InvalidLabels",
    "InvalidRequest",
    "LanguageNotFinite",
    "ModelUnavailable",
    "OutputMismatch",
    "RegexError",
    "RegexUnsupported",
    "RegistryError",
    "TextUnjudgeable",
    "ThinkingUnsupported",
    "TokenizerError",
    "TokenizerNotFound",
    "UnsupportedSchema",
    "WaferGrammarError",
]
