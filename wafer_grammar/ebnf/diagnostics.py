"""Diagnostics are data: a code, a severity, a message and a place; rendered one way."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from wafer_grammar.ebnf.syntax import Span

Severity = Literal["error", "warning", "info"]
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a grammar.

    ``code`` is stable (``E...`` errors XGrammar would refuse, ``W...`` lint
    warnings); ``line``/``column`` are 1-based and count code points; ``hint`` is
    a one-line suggested fix.
    """

    code: str
    severity: Severity
    message: str
    line: int
    column: int
    rule: str | None = None
    end_line: int | None = None
    end_column: int | None = None
    hint: str | None = None

    @classmethod
    def at(
        cls,
        code: str,
        severity: Severity,
        message: str,
        span: Span | None,
        *,
        rule: str | None = None,
        hint: str | None = None,
    ) -> Diagnostic:
        """A diagnostic placed at ``span`` (line 1, column 1 when unknown)."""
        if span is None:
            return cls(code, severity, message, 1, 1, rule=rule, hint=hint)
        return cls(
            code,
            severity,
            message,
            span.line,
            span.column,
            rule=rule,
            end_line=span.end_line,
            end_column=span.end_column,
            hint=hint,
        )

    def headline(self, filename: str | None = None) -> str:
        """``FILE:LINE:COL: severity[CODE]: message`` (no file part when None)."""
        where = f"{filename}:{self.line}:{self.column}: " if filename else ""
        return f"{where}{self.severity}[{self.code}]: {self.message}"

    def render(self, source: str | None = None, filename: str | None = None) -> str:
        """The headline, then (given the source) the line and a caret under the spot."""
        if filename is None:
            where = f"line {self.line}, column {self.column}"
            out = f"{where}: {self.severity}[{self.code}]: {self.message}"
        else:
            out = self.headline(filename)
        snippet = caret_snippet(source, self.line, self.column, self.end_line, self.end_column)
        if snippet:
            out += "\n" + snippet
        if self.hint:
            out += f"\n  = hint: {self.hint}"
        return out

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping (for ``--json`` output)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "rule": self.rule,
            "hint": self.hint,
        }


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``, with the same line breaks."""
    before = text[:offset]
    starts = [m.end() for m in _LINE_BREAK.finditer(before)]
    line_start = starts[-1] if starts else 0
    return len(starts) + 1, offset - line_start + 1


def caret_snippet(
    source: str | None,
    line: int,
    column: int,
    end_line: int | None = None,
    end_column: int | None = None,
) -> str:
    """The source line (indented by two spaces) and a caret line under ``column``.

    The caret widens to ``^~~~`` when the span ends later on the same line. Tabs
    in the source are kept in the padding so the caret lines up.
    """
    if source is None:
        return ""
    # The grammar lexer's line breaks (CRLF, CR, LF), not str.splitlines(), which
    # also breaks at \v, \f, U+2028 ... and would put the caret on the wrong line.
    lines = _LINE_BREAK.split(source)
    if not 1 <= line <= len(lines):
        return ""
    text = lines[line - 1]
    col = max(1, min(column, len(text) + 1))
    width = 1
    if end_line == line and end_column is not None and end_column > col + 1:
        width = min(end_column, len(text) + 1) - col
    pad = "".join("\t" if ch == "\t" else " " for ch in text[: col - 1])
    return f"  {text}\n  {pad}^{'~' * (width - 1)}"
