"""Parse trees out of the exact recognizer's chart, shaped like the lark path's trees.

A tree node is ``Tree(rule_name, children)`` for each occurrence of a
non-regular rule; a regular rule is one ``Token(rule_name, text)``; other text
(literals, classes) is ``Token("TEXT", text)``, adjacent pieces merged. Helper
nonterminals (groups, repeats) are spliced into their parent, as lark inlines
its own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from lark import Token, Tree

from wafer_grammar.ebnf.recognizer import (
    Chart,
    ClassTerm,
    CompiledGrammar,
    LitTerm,
    Symbol,
)
from wafer_grammar.ebnf.to_lark import ANON

Child = Tree[Token] | Token


def merge_text(children: Iterable[Child]) -> list[Child]:
    """Join adjacent anonymous text tokens into one (both paths do this)."""
    out: list[Child] = []
    for child in children:
        if (
            isinstance(child, Token)
            and child.type == ANON
            and out
            and isinstance(out[-1], Token)
            and out[-1].type == ANON
        ):
            prev = out[-1]
            out[-1] = Token(ANON, prev.value + child.value, start_pos=prev.start_pos)
        else:
            out.append(child)
    return out


class _Builder:
    def __init__(self, g: CompiledGrammar, chart: Chart) -> None:
        self.g = g
        self.chart = chart
        self.text = chart.text
        self.path: set[tuple[int, int, int]] = set()

    def candidates(self, sym: Symbol, start: int, end: int) -> Iterable[int]:
        if isinstance(sym, int):
            return sorted(o for o in self.chart.done[end].get(sym, ()) if o >= start)
        if isinstance(sym, LitTerm):
            return (end - len(sym.value),)
        if isinstance(sym, ClassTerm):
            return (end - 1,)
        return (k for k in range(end, start - 1, -1) if end in sym.ends(self.text, k))

    def node(self, nt: int, start: int, end: int) -> list[Child] | None:
        key = (nt, start, end)
        if key in self.path:
            return None  # a unit cycle: take another derivation
        self.path.add(key)
        try:
            kids = self.derive(nt, start, end)
        finally:
            self.path.discard(key)
        if kids is None:
            return None
        info = self.g.nts[nt]
        if info.name is None:
            return kids
        if info.token:
            return [Token(info.name, self.text[start:end], start_pos=start)] if end > start else []
        return [Tree(info.name, merge_text(kids))]

    def derive(self, nt: int, start: int, end: int) -> list[Child] | None:
        sets = self.chart.sets
        for pid in self.g.by_lhs[nt]:
            rhs = self.g.prods[pid][1]
            if (pid, len(rhs), start) in sets[end]:
                kids = self.split(pid, rhs, len(rhs), start, end)
                if kids is not None:
                    return kids
        return None

    def split(
        self, pid: int, rhs: tuple[Symbol, ...], dot: int, start: int, end: int
    ) -> list[Child] | None:
        if dot == 0:
            return [] if end == start else None
        sym = rhs[dot - 1]
        sets = self.chart.sets
        for k in self.candidates(sym, start, end):
            if k < start or (pid, dot - 1, start) not in sets[k]:
                continue
            if isinstance(sym, int):
                sub = self.node(sym, k, end)
                if sub is None:
                    continue
            else:
                sub = [Token(ANON, self.text[k:end], start_pos=k)] if end > k else []
            left = self.split(pid, rhs, dot - 1, start, k)
            if left is not None:
                return left + sub
        return None


def build_tree(g: CompiledGrammar, chart: Chart) -> Tree[Token]:
    """One derivation of an accepted text (the recognizer must have accepted it)."""
    limit = sys.getrecursionlimit()
    # Repeats are left-recursive helpers, so depth grows with the text length.
    sys.setrecursionlimit(max(limit, 8 * len(chart.text) + 2000))
    try:
        kids = _Builder(g, chart).node(0, 0, len(chart.text))
    finally:
        sys.setrecursionlimit(limit)
    assert kids is not None
    root = g.nts[0]
    if root.token:  # a regular root: lark's tree is ``root: ROOT`` too
        assert root.name is not None
        return Tree(root.name, kids)
    assert len(kids) == 1 and isinstance(kids[0], Tree)
    return kids[0]
