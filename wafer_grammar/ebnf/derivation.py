"""Parse trees out of the exact recognizer's chart, shaped like the lark path's trees.

A tree node is ``Tree(rule_name, children)`` for each occurrence of a
non-regular rule; a regular rule is one ``Token(rule_name, text)``; other text
(literals, classes) is ``Token("TEXT", text)``, adjacent pieces merged. Helper
nonterminals (groups, repeats) are spliced into their parent, as lark inlines
its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from lark import Token, Tree

from wafer_grammar.ebnf.recognizer import (
    Chart,
    ClassTerm,
    CompiledGrammar,
    LitTerm,
    Symbol,
    Term,
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


class ParseTree(Tree[Token]):
    """A lark ``Tree`` whose ``repr`` and ``pretty`` use a loop, not recursion.

    Trees as deep as the text is long are normal (a list rule on a long list);
    lark's own methods recurse once per level and would exhaust Python's stack.
    """

    def __repr__(self) -> str:
        out: list[str] = []
        stack: list[object] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, str) and not isinstance(item, Token):
                out.append(item)  # punctuation pushed below
            elif isinstance(item, Tree):
                out.append(f"Tree({item.data!r}, [")
                stack.append("])")
                for i, child in enumerate(reversed(item.children)):
                    stack.append(child)
                    if i < len(item.children) - 1:
                        stack.append(", ")
            else:
                out.append(repr(item))
        return "".join(out)

    def pretty(self, indent_str: str = "  ") -> str:
        out: list[str] = []
        stack: list[tuple[Tree[Token] | Token, int]] = [(self, 0)]
        while stack:
            node, level = stack.pop()
            pad = indent_str * level
            if not isinstance(node, Tree):
                out.append(f"{pad}{node}\n")
            elif len(node.children) == 1 and not isinstance(node.children[0], Tree):
                out.append(f"{pad}{node.data}\t{node.children[0]}\n")
            else:
                out.append(f"{pad}{node.data}\n")
                stack.extend((child, level + 1) for child in reversed(node.children))
        return "".join(out)


class _Builder:
    """Reads one derivation out of a chart, with explicit stacks and no search.

    Every item in ``chart.sets`` is a fact (its prefix derives that text), so a
    split can be chosen greedily; the only trap is a node built from itself
    through empty or unit steps, which the processing order in ``chart.sets``
    rules out: a child spanning the same text as its parent must have been
    processed before it. Among valid splits the one nearest the middle is
    taken, so ``a ::= a a | "x"`` gives a balanced tree, not a 400-deep one.
    """

    def __init__(self, g: CompiledGrammar, chart: Chart) -> None:
        self.g = g
        self.chart = chart
        self.text = chart.text
        self.ends_memo: dict[tuple[int, int], tuple[int, ...]] = {}

    def derives(self, sym: Symbol, k: int, end: int) -> bool:
        """Whether terminal ``sym`` matches ``text[k:end]``."""
        if isinstance(sym, LitTerm):
            return end - k == len(sym.value) and self.text.startswith(sym.value, k)
        if isinstance(sym, ClassTerm):
            return end == k + 1 and sym.matches(self.text[k])
        assert isinstance(sym, Term)
        key = (id(sym), k)
        if key not in self.ends_memo:
            self.ends_memo[key] = tuple(sym.ends(self.text, k))
        return end in self.ends_memo[key]

    def empty_production(self, nt: int) -> int:
        """A production deriving "" from ``nt`` out of nonterminals settled before it."""
        g = self.g
        for p in g.by_lhs[nt]:
            rhs = g.prods[p][1]
            if all(
                isinstance(s, int) and g.nullable[s] and g.settled[s] < g.settled[nt] for s in rhs
            ):
                return p
        raise AssertionError("a nullable nonterminal has an empty production")

    def origins(self, sym: Symbol, start: int, pos: int) -> Iterable[int]:
        """Where a match of ``sym`` ending at ``pos`` may start."""
        if isinstance(sym, int):
            found: Iterable[int] = self.chart.done[pos].get(sym, ())
            return [*found, pos] if self.g.nullable[sym] else found
        if isinstance(sym, LitTerm):
            return (pos - len(sym.value),)
        if isinstance(sym, ClassTerm):
            return (pos - 1,)
        return range(start, pos + 1)

    def split(
        self, nt: int, start: int, end: int, limit: int
    ) -> list[tuple[Symbol, int, int, int]]:
        """The children ``(symbol, start, end, limit)`` of one derivation of ``nt``."""
        sets, g = self.chart.sets, self.g
        if start == end:
            return [
                (sym, start, start, _UNBOUNDED) for sym in g.prods[self.empty_production(nt)][1]
            ]
        options = [
            (sets[end][item], p)
            for p in g.by_lhs[nt]
            if (item := (p, len(g.prods[p][1]), start)) in sets[end]
        ]
        index, pid = min((o for o in options if o[0] < limit), default=min(options))
        rhs = g.prods[pid][1]
        kids: list[tuple[Symbol, int, int, int]] = []
        pos, current = end, index
        for dot in range(len(rhs), 0, -1):
            sym = rhs[dot - 1]
            middle = (start + pos) / 2
            best: tuple[float, int, int] | None = None
            for k in self.origins(sym, start, pos):
                if k < start or k > pos:
                    continue
                before = sets[k].get((pid, dot - 1, start))
                if before is None or (k == pos and before >= current):
                    continue
                if not isinstance(sym, int) and not self.derives(sym, k, pos):
                    continue
                score = abs(k - middle)
                if best is None or score < best[0]:
                    best = (score, k, before)
            assert best is not None, "an accepted text always has a derivation"
            _, k, before = best
            # A child spanning all of its parent's text must have completed before it.
            same_span = (k, pos) == (start, end)
            kids.append((sym, k, pos, current if same_span else _UNBOUNDED))
            pos, current = k, before
        kids.reverse()
        return kids

    def build(self) -> list[Child]:
        g, text = self.g, self.text
        # Post-order over an explicit stack: ("open", node) expands, ("close", ...) assembles.
        results: list[list[Child]] = []
        stack: list[tuple[bool, Symbol, int, int, int, int]] = [
            (False, 0, 0, len(text), _UNBOUNDED, 0)
        ]
        while stack:
            closing, sym, start, end, limit, count = stack.pop()
            if closing:
                assert isinstance(sym, int)
                kids = [child for part in results[len(results) - count :] for child in part]
                del results[len(results) - count :]
                info = g.nts[sym]
                if info.name is None:
                    results.append(kids)
                else:
                    results.append([ParseTree(info.name, merge_text(kids))])
                continue
            if not isinstance(sym, int):
                results.append(
                    [Token(ANON, text[start:end], start_pos=start)] if end > start else []
                )
                continue
            info = g.nts[sym]
            if info.token and info.name is not None:
                results.append(
                    [Token(info.name, text[start:end], start_pos=start)] if end > start else []
                )
                continue
            parts = self.split(sym, start, end, limit)
            stack.append((True, sym, start, end, limit, len(parts)))
            stack.extend((False, s, a, b, lim, 0) for s, a, b, lim in reversed(parts))
        return results[0]


_UNBOUNDED = 1 << 62


def _all_empty(g: CompiledGrammar, pid: int) -> bool:
    return all(isinstance(s, int) and g.nullable[s] for s in g.prods[pid][1])


def build_tree(g: CompiledGrammar, chart: Chart) -> Tree[Token]:
    """One derivation of an accepted text (the recognizer must have accepted it)."""
    kids = _Builder(g, chart).build()
    root = g.nts[0]
    if root.token:  # a regular root: lark's tree is ``root: ROOT`` too
        assert root.name is not None
        return ParseTree(root.name, kids)
    assert len(kids) == 1 and isinstance(kids[0], Tree)
    return kids[0]
