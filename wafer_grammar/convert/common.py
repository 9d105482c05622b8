"""Shared plumbing for the converters: rules -> a :class:`Grammar` with real source spans."""

from __future__ import annotations

from collections.abc import Iterable

from wafer_grammar.ebnf.grammar import Grammar
from wafer_grammar.ebnf.parser import parse_ebnf
from wafer_grammar.ebnf.render import render_ebnf
from wafer_grammar.ebnf.syntax import GrammarAST, Rule


def grammar_of(rules: Iterable[Rule], root: str = "root") -> Grammar:
    """A :class:`Grammar` of ``rules``, re-read from its canonical text.

    Re-reading gives every node a source span, so ``check()`` diagnostics point
    at real lines and columns of ``to_ebnf()``.
    """
    text = render_ebnf(GrammarAST(tuple(rules), root))
    return Grammar(parse_ebnf(text, root=root), source=text)
