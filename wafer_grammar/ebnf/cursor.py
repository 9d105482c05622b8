"""Token access and diagnostics shared by the grammar parser and its macro-argument parser."""

from __future__ import annotations

from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.ebnf.lexer import T, Token
from wafer_grammar.ebnf.syntax import Span


class Abort(Exception):
    """Stop parsing the current rule; the diagnostic is already recorded."""


def describe(token: Token) -> str:
    if token.type is T.EOF:
        return "end of input"
    return repr(token.lexeme)


def join(start: Span | None, end: Span | None) -> Span | None:
    if start is None or end is None:
        return start or end
    return Span(
        start.line, start.column, end.end_line, end.end_column, start.offset, end.end_offset
    )


class TokenCursor:
    """A cursor over one grammar's tokens that records diagnostics for the rule being parsed."""

    def __init__(self, tokens: list[Token], diagnostics: list[Diagnostic]) -> None:
        self.tokens = tokens
        self.diagnostics = diagnostics
        self.pos = 0
        self.last = len(self.tokens) - 1  # the EOF token, never consumed
        self.rule_name = ""
        self.references: list[tuple[str, Span, str]] = []

    def peek(self, delta: int = 0) -> Token:
        i = self.pos + delta
        return self.tokens[i] if i < self.last else self.tokens[self.last]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        if self.pos < self.last:
            self.pos += 1
        return token

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        self.diagnostics.append(
            Diagnostic.at(code, "error", message, span, rule=self.rule_name or None, hint=hint)
        )

    def fail(self, code: str, message: str, span: Span | None, hint: str | None = None) -> Abort:
        self.error(code, message, span, hint)
        return Abort()

    # -- top level -------------------------------------------------------------
