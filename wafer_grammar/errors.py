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
     └── LanguageNotFinite (ValueError)     a grammar's language is infinite or too large to list

Foreign errors (lark, httpx, tokenizers, XGrammar) are translated at the boundary
with ``raise ... from exc``; users only ever catch these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

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
        self.text = text
        self.offset = offset
        before = text[:offset]
        self.line = before.count("\n") + 1
        self.column = offset - (before.rfind("\n") + 1) + 1
        self.expected = list(expected)
        self.message = message
        super().__init__(self._render())

    def _render(self) -> str:
        lines = self.text.split("\n")
        src = lines[self.line - 1] if self.line - 1 < len(lines) else ""
        out = f"line {self.line}, column {self.column}: {self.message}"
        if self.expected:
            out += f"; expected {', '.join(self.expected)}"
        caret_pad = "".join("\t" if ch == "\t" else " " for ch in src[: self.column - 1])
        return f"{out}\n  {src}\n  {caret_pad}^"


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
