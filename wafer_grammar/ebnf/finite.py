"""Listing a finite language: every string, when there are few enough.

Pure over a :class:`GrammarAST`; gives up (``None``) rather than risk a wrong or
slow answer: lookahead, ``lazy``, ``Regex``, ``TagDispatch``, token-level
macros, more than ``limit`` strings, or more than a fixed amount of work.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from wafer_grammar.ebnf.analysis import (
    _macro_strings,
    _max_chars,
    _max_lengths,
    min_lengths,
    reachable_rules,
    rule_references,
    strongly_connected_components,
)
from wafer_grammar.ebnf.charclass import class_members
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    Repeat,
    Rule,
    RuleRef,
    Sequence,
    fold,
    references,
)

#: ``finite_language`` stops after this many string concatenations and answers
#: ``None``: a finite but pathological grammar must not hang a lint run.
_WORK_BUDGET = 2_000_000


class _GiveUp(Exception):
    """The language is too large, unknown or too costly to list exactly."""


class _Enumerator:
    def __init__(self, ast: GrammarAST, limit: int) -> None:
        self.rules = ast.rule_map()
        self.limit = limit
        self.work = 0
        self.langs: dict[str, frozenset[str]] = {}

    def check(self, strings: set[str]) -> frozenset[str]:
        if len(strings) > self.limit:
            raise _GiveUp
        return frozenset(strings)

    def product(self, left: Iterable[str], right: frozenset[str]) -> frozenset[str]:
        out: set[str] = set()
        for a in left:
            self.work += len(right)
            if self.work > _WORK_BUDGET:
                raise _GiveUp
            out.update(a + b for b in right)
            if len(out) > self.limit:
                raise _GiveUp
        return frozenset(out)

    def power(self, base: frozenset[str], k: int) -> frozenset[str]:
        # Squaring keeps "a"{100000} from taking 100000 products.
        result: frozenset[str] = frozenset({""})
        while k:
            if k & 1:
                result = self.product(result, base)
            k >>= 1
            if k:
                base = self.product(base, base)
        return result

    def lang(self, expr: Expr) -> frozenset[str]:
        return fold(expr, self.combine)

    def combine(self, expr: Expr, kids: list[frozenset[str]]) -> frozenset[str]:
        if isinstance(expr, Literal):
            return frozenset({expr.value})
        if isinstance(expr, CharClass):
            members = class_members(expr, self.limit)
            if members is None:
                raise _GiveUp
            return frozenset(members)
        if isinstance(expr, RuleRef):
            return self.langs.get(expr.name, frozenset())
        if isinstance(expr, Sequence):
            acc: frozenset[str] = frozenset({""})
            for kid in kids:
                acc = self.product(acc, kid)
            return acc
        if isinstance(expr, Choice):
            union: set[str] = set()
            for kid in kids:
                union |= kid
            return self.check(union)
        if isinstance(expr, Repeat):
            return self.repeat(expr, kids[0])
        if expr.name == "Substring":
            chunks = _macro_strings(expr)
            if chunks is None:
                raise _GiveUp
            runs = {
                "".join(chunks[i:j])
                for i in range(len(chunks))
                for j in range(i + 1, len(chunks) + 1)
            }
            return self.check(runs | {""})
        raise _GiveUp

    def repeat(self, expr: Repeat, base: frozenset[str]) -> frozenset[str]:
        if expr.max == 0:
            return frozenset({""})
        if not base:
            return frozenset({""}) if expr.min == 0 else frozenset()
        if base == {""}:
            return base
        if expr.max is None:
            raise _GiveUp
        current = self.power(base, expr.min)
        out = set(current)
        for _ in range(expr.min, expr.max):
            current = self.product(current, base)
            out |= current
            if len(out) > self.limit:
                raise _GiveUp
        return frozenset(out)

    def rule_lang(self, rule: Rule) -> frozenset[str]:
        strings = self.lang(rule.body)
        limit = _max_chars(rule)
        if limit is not None:
            strings = frozenset(s for s in strings if len(s) <= limit)
        return strings


def finite_language(
    ast: GrammarAST, limit: int = 10000, *, rule: str | None = None
) -> list[str] | None:
    """Every string of ``rule``'s language (default: the root), sorted.

    Returns ``None`` when the language is infinite, has more than ``limit``
    strings, or cannot be listed exactly here (lookahead, ``lazy``, ``Regex``,
    ``TagDispatch``, token-level macros, undefined rules). An empty list means
    the rule matches nothing.
    """
    name = ast.root if rule is None else rule
    rules = ast.rule_map()
    if name not in rules:
        return None
    mins = min_lengths(ast)
    if mins[name] is None:
        return []
    if _max_lengths(ast).get(name, math.inf) == math.inf:
        return None
    used = reachable_rules(ast, name)
    for used_name in used:
        target = rules[used_name]
        if target.lookahead is not None or target.option("lazy") is not None:
            return None
        if any(ref not in rules for ref in references(target.body)):
            return None
    graph = {n: refs for n, refs in rule_references(ast).items() if n in used}
    enum = _Enumerator(ast, limit)
    try:
        for comp in strongly_connected_components(graph):
            # Cyclic but finite components (``a ::= a | "x"``) settle after a
            # few rounds: each round only adds strings and the total is bounded.
            for _ in range(limit + 2):
                before = {n: enum.langs.get(n) for n in comp}
                for member in comp:
                    enum.langs[member] = enum.rule_lang(rules[member])
                if all(enum.langs[n] == before[n] for n in comp):
                    break
            else:
                return None
    except _GiveUp:
        return None
    return sorted(enum.langs[name])
