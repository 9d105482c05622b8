"""``assert_accepts`` / ``assert_rejects``: verdicts with messages a person can act on.

A failed acceptance says where the text stops matching (offset, line and
column, a caret under the spot), what the grammar expected there, and the
path of rules open at that point. The CLI runner and the pytest plugin print
the very same messages.

``engine="xgrammar"`` also asks XGrammar, the engine the server runs, and fails
when the two verdicts differ.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from wafer_grammar.errors import OutputMismatch, WaferGrammarError
from wafer_grammar.grammar import Grammar
from wafer_grammar.testing.case_coverage import Trace

if TYPE_CHECKING:
    from wafer_grammar.engines.xgrammar_oracle import XGrammarMatcher

Engine = Literal["wafer", "xgrammar"]
ENGINES: tuple[Engine, ...] = ("wafer", "xgrammar")

NO_XGRAMMAR = (
    "checking verdicts with XGrammar needs the xgrammar package, which is not installed: "
    "run `make venv`, or `pip install --no-deps xgrammar==0.2.8 apache-tvm-ffi` next to torch"
)
_SHOWN = 60  # characters of a text quoted in a one-line message


class GrammarAssertionError(AssertionError):
    """A verdict was not the one asked for; ``.text`` and ``.mismatch`` (if rejected) attached."""

    def __init__(self, message: str, *, text: str, mismatch: OutputMismatch | None = None):
        self.text = text
        self.mismatch = mismatch
        super().__init__(message)


def quote(text: str) -> str:
    """``text`` as a Python literal, cut in the middle when long."""
    shown = repr(text)
    if len(shown) > _SHOWN:
        shown = shown[: _SHOWN // 2] + "..." + shown[-_SHOWN // 2 :]
    return shown


@lru_cache(maxsize=32)
def trace_of(grammar: Grammar) -> Trace:
    """The traced compilation of ``grammar`` (cached: building one is not free)."""
    return Trace(grammar)


@lru_cache(maxsize=32)
def xgrammar_matcher(grammar: Grammar) -> XGrammarMatcher:
    """XGrammar's matcher for the canonical text of ``grammar`` (what a request sends).

    Raises:
        XGrammarUnavailable: xgrammar is not installed.
        WaferGrammarError: XGrammar refuses a grammar that wafer-grammar accepted.
    """
    from wafer_grammar.engines.xgrammar_oracle import (
        XGrammarMatcher,
        XGrammarUnavailable,
        xgrammar_available,
        xgrammar_error,
    )

    if not xgrammar_available():
        raise XGrammarUnavailable(NO_XGRAMMAR)
    ebnf = grammar.to_ebnf()
    refused = xgrammar_error(ebnf, root=grammar.root)
    if refused is not None:
        raise WaferGrammarError(
            f"XGrammar refuses this grammar, which wafer-grammar accepts: {refused} "
            "(the two parsers disagree: please report it, with the grammar)"
        )
    return XGrammarMatcher(ebnf, root=grammar.root)


def rejection(grammar: Grammar, text: str, subject: str) -> tuple[str, OutputMismatch]:
    """The message for a rejected ``text`` that should have been accepted."""
    try:
        grammar.parse(text)
    except OutputMismatch as exc:
        path = " > ".join(trace_of(grammar).rule_path(text))
        return f"{subject} was rejected at offset {exc.offset}: {exc}\n  rule path: {path}", exc
    raise AssertionError("parse() accepted a text that accepts() rejected")  # pragma: no cover


def check_accepts(grammar: Grammar, text: str, subject: str, engine: Engine = "wafer") -> None:
    """Raise :class:`GrammarAssertionError` unless ``grammar`` accepts ``text`` (on ``engine``)."""
    __tracebackhide__ = True  # pytest: show the caller's line, not this helper's
    ours = grammar.accepts(text)
    if not ours:
        message, mismatch = rejection(grammar, text, subject)
        raise GrammarAssertionError(message, text=text, mismatch=mismatch)
    if engine == "xgrammar" and not xgrammar_matcher(grammar).accepts(text):
        raise GrammarAssertionError(
            f"{subject} is accepted by wafer-grammar but rejected by XGrammar: "
            "the engines disagree (please report it, with the grammar and the text)",
            text=text,
        )


def check_rejects(grammar: Grammar, text: str, subject: str, engine: Engine = "wafer") -> None:
    """Raise :class:`GrammarAssertionError` unless ``grammar`` rejects ``text`` (on ``engine``)."""
    __tracebackhide__ = True
    if grammar.accepts(text):
        raise GrammarAssertionError(f"{subject} was accepted, but must be rejected", text=text)
    if engine == "xgrammar" and xgrammar_matcher(grammar).accepts(text):
        raise GrammarAssertionError(
            f"{subject} is rejected by wafer-grammar but accepted by XGrammar: "
            "the engines disagree (please report it, with the grammar and the text)",
            text=text,
        )


def assert_accepts(grammar: Grammar | str, text: str, *, engine: Engine = "wafer") -> None:
    """Fail (``AssertionError``) unless ``grammar`` accepts ``text``.

    The message names the offset, line and column where matching stopped, with
    a caret, what was expected there, and the rule path. ``engine="xgrammar"``
    also requires XGrammar to accept it.
    """
    __tracebackhide__ = True  # pytest: show the caller's line, not this helper's
    g = grammar if isinstance(grammar, Grammar) else Grammar.from_ebnf(grammar)
    check_accepts(g, text, quote(text), engine)


def assert_rejects(grammar: Grammar | str, text: str, *, engine: Engine = "wafer") -> None:
    """Fail (``AssertionError``) unless ``grammar`` rejects ``text``.

    ``engine="xgrammar"`` also requires XGrammar to reject it.
    """
    __tracebackhide__ = True
    g = grammar if isinstance(grammar, Grammar) else Grammar.from_ebnf(grammar)
    check_rejects(g, text, quote(text), engine)
