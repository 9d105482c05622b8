"""Which rules and alternatives a set of texts exercised, and where a text went wrong.

Both come from one *traced* compilation of the grammar for the exact
recognizer: every production is labelled with the alternative it came from
(a rule's top-level alternatives, and the alternatives of every ``( | )``
group written in the EBNF). A derivation of an accepted text then says which
alternatives it used. lark's parse trees cannot: regular rules collapse into
one token and groups are inlined.

Alternatives inside ``Regex(...)``/``Substring(...)`` are not counted (the
user wrote a pattern, not EBNF alternatives), nor are those of a lookahead
(XGrammar ignores lookahead for acceptance), nor alternatives that can never
match (``wafer-grammar check`` reports those).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

from wafer_grammar.ebnf.compiler import _Compiler, _finish
from wafer_grammar.ebnf.desugar import check_text_judgeable, desugar
from wafer_grammar.ebnf.recognizer import (
    Chart,
    ClassTerm,
    CompiledGrammar,
    LitTerm,
    Recognizer,
    Symbol,
)
from wafer_grammar.ebnf.render import render_expr
from wafer_grammar.ebnf.syntax import Choice, Expr, GrammarAST, MacroCall, Rule
from wafer_grammar.grammar import Grammar

_SHOWN = 48  # characters of an alternative's EBNF shown in a report


@dataclass(frozen=True)
class Alternative:
    """One alternative: of rule ``rule``'s body, or of a group inside it."""

    rule: str
    index: int  # 0-based
    count: int
    expr: Expr
    top_level: bool

    def describe(self) -> str:
        where = (
            ""
            if self.expr.span is None
            else (f" (line {self.expr.span.line}, column {self.expr.span.column})")
        )
        text = render_expr(self.expr)
        if len(text) > _SHOWN:
            text = text[: _SHOWN - 3] + "..."
        group = "" if self.top_level else " of a group"
        which = f"alternative {self.index + 1} of {self.count}{group}"
        return f"rule {self.rule!r}, {which}{where}: {text}"


class _TracingCompiler(_Compiler):
    """The recognizer's compiler, noting which alternative each production is."""

    def __init__(self, ast: GrammarAST) -> None:
        self.alternative_of: dict[int, Alternative] = {}
        self.rule_name = ast.root
        self.untracked = 0
        super().__init__(ast, frozenset())

    def label(self, nt: int, alternatives: tuple[Expr, ...], top_level: bool) -> None:
        if self.untracked or len(alternatives) < 2:  # one alternative: rule coverage says it
            return
        for i, pid in enumerate(self.g.by_lhs[nt]):
            self.alternative_of[pid] = Alternative(
                self.rule_name, i, len(alternatives), alternatives[i], top_level
            )

    fold_regular = False  # every alternative stays a production, to be covered

    def compile_rule(self, name: str, nt: int) -> None:
        outer, self.rule_name = self.rule_name, name
        try:
            super().compile_rule(name, nt)
            body = self.rules[name].body
            self.label(nt, body.alternatives if isinstance(body, Choice) else (body,), True)
        finally:
            self.rule_name = outer

    def macro_symbols(self, expr: MacroCall) -> list[Symbol]:
        # Desugar here, node by node, so the user's own Choice nodes keep their
        # identity (a whole-grammar desugar would rebuild them all).
        one = desugar(GrammarAST((Rule(self.rule_name, expr),), self.rule_name))
        self.untracked += 1
        try:
            return super().seq(one.rules[0].body)
        finally:
            self.untracked -= 1

    def on_choice(self, nt: int, expr: Choice) -> None:
        self.label(nt, expr.alternatives, False)


class _Deriver:
    """One derivation of an accepted text, as the productions it used."""

    def __init__(self, g: CompiledGrammar, chart: Chart) -> None:
        self.g = g
        self.chart = chart
        self.path: set[tuple[int, int, int]] = set()
        self.memo: dict[tuple[int, int, int], list[int]] = {}

    def candidates(self, sym: Symbol, start: int, end: int) -> Iterable[int]:
        if isinstance(sym, int):
            return sorted(o for o in self.chart.done[end].get(sym, ()) if o >= start)
        if isinstance(sym, LitTerm):
            return (end - len(sym.value),)
        if isinstance(sym, ClassTerm):
            return (end - 1,)
        text = self.chart.text
        return (k for k in range(end, start - 1, -1) if end in sym.ends(text, k))

    def node(self, nt: int, start: int, end: int) -> list[int] | None:
        key = (nt, start, end)
        if key in self.memo:
            return self.memo[key]
        if key in self.path:
            return None  # a unit cycle: take another derivation
        self.path.add(key)
        try:
            for pid in self.g.by_lhs[nt]:
                rhs = self.g.prods[pid][1]
                if (pid, len(rhs), start) in self.chart.sets[end]:
                    used = self.split(pid, rhs, len(rhs), start, end)
                    if used is not None:
                        self.memo[key] = [pid, *used]
                        return self.memo[key]
        finally:
            self.path.discard(key)
        return None

    def split(
        self, pid: int, rhs: tuple[Symbol, ...], dot: int, start: int, end: int
    ) -> list[int] | None:
        if dot == 0:
            return [] if end == start else None
        sym = rhs[dot - 1]
        for k in self.candidates(sym, start, end):
            if k < start or (pid, dot - 1, start) not in self.chart.sets[k]:
                continue
            sub: list[int] | None = []
            if isinstance(sym, int):
                sub = self.node(sym, k, end)
                if sub is None:
                    continue
            left = self.split(pid, rhs, dot - 1, start, k)
            if left is not None:
                return left + (sub or [])
        return None


class Trace:
    """A grammar compiled for coverage and for explaining rejections.

    Raises:
        TextUnjudgeable: the grammar uses token-level macros.
    """

    def __init__(self, grammar: Grammar) -> None:
        check_text_judgeable(grammar.ast)
        compiler = _TracingCompiler(grammar.ast)
        _finish(compiler.g)
        self.g = compiler.g
        self.recognizer = Recognizer(self.g)
        self.rule_ids = dict(compiler.ids)
        live = {pid for pids in self.g.by_lhs for pid in pids}
        # Productions that can never complete were dropped: nobody can cover them.
        self.alternatives = {
            pid: alt for pid, alt in compiler.alternative_of.items() if pid in live
        }

    def used(self, text: str) -> set[int] | None:
        """The productions of one derivation of ``text``; None if it is rejected."""
        chart = self.recognizer.run(text)
        if not chart.accepted:
            return None
        limit = sys.getrecursionlimit()
        # Repeats are left-recursive helpers, so depth grows with the text length.
        sys.setrecursionlimit(max(limit, 8 * len(text) + 2000))
        try:
            found = _Deriver(self.g, chart).node(0, 0, len(text))
        finally:
            sys.setrecursionlimit(limit)
        return set(found or ())

    def rule_path(self, text: str) -> list[str]:
        """The rules open where a rejected ``text`` stops matching, outermost first.

        Of the many items open there, the path shown is the innermost one that
        has already consumed text, preferring a rule that cannot be empty: "in
        member" says more than "in ws", which is open almost everywhere.
        """
        chart = self.recognizer.run(text)
        prods = self.g.prods
        open_items = [it for it in chart.sets[chart.furthest] if it[1] < len(prods[it[0]][1])]
        best: tuple[tuple[bool, bool, int, int, int], list[str]] | None = None
        for item in sorted(open_items):
            names = self._path(chart, item)
            owner = self.rule_ids.get(names[-1]) if names else None
            solid = owner is not None and not self.g.nullable[owner]
            # Nothing consumed yet (all items are predictions): the shortest path,
            # rather than one guess among everything that could start here.
            started = item[2] < chart.furthest
            # Ties go to the innermost path (production numbers follow compile order).
            depth = len(names) if started else -len(names)
            key = (started, started and solid, item[2] if started else depth, depth, -item[0])
            if best is None or key > best[0]:
                best = (key, names)
        return best[1] if best is not None else [self.g.nts[0].name or "root"]

    def _path(self, chart: Chart, item: tuple[int, int, int]) -> list[str]:
        prods, nts = self.g.prods, self.g.nts
        names: list[str] = []
        seen = {item}
        while True:
            nt, origin = prods[item[0]][0], item[2]
            name = nts[nt].name
            if name is not None and (not names or names[-1] != name):
                names.append(name)
            if nt == 0 and origin == 0:
                break
            parents = sorted(
                it
                for it in chart.sets[origin]
                if it not in seen and it[1] < len(prods[it[0]][1]) and prods[it[0]][1][it[1]] == nt
            )
            if not parents:
                break
            item = parents[0]
            seen.add(item)
        return names[::-1]


@dataclass
class CoverageReport:
    """Rules and alternatives the texts exercised, out of those they could."""

    rules: list[str]
    missed_rules: list[str]
    alternatives: list[Alternative]
    missed_alternatives: list[Alternative] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missed_rules and not self.missed_alternatives

    def percent(self) -> float:
        total = len(self.rules) + len(self.alternatives)
        hit = total - len(self.missed_rules) - len(self.missed_alternatives)
        return 100.0 if total == 0 else 100.0 * hit / total

    def summary(self) -> str:
        rules = len(self.rules) - len(self.missed_rules)
        alts = len(self.alternatives) - len(self.missed_alternatives)
        return (
            f"coverage {self.percent():.0f}%: {rules} of {len(self.rules)} rules, "
            f"{alts} of {len(self.alternatives)} alternatives"
        )

    def render(self) -> str:
        """The summary line, then one line per rule or alternative no text used."""
        lines = [self.summary()]
        lines += [f"  not exercised: rule {name!r}" for name in self.missed_rules]
        lines += [
            f"  not exercised: {alt.describe()}"
            for alt in self.missed_alternatives
            # A missed rule already says that all its alternatives were missed.
            if alt.rule not in self.missed_rules
        ]
        return "\n".join(lines)


def coverage(trace: Trace, texts: Iterable[str]) -> CoverageReport:
    """What the accepted ones among ``texts`` exercised (rejected ones count for nothing)."""
    used: set[int] = set()
    for text in texts:
        used |= trace.used(text) or set()
    hit_nts = {trace.g.prods[pid][0] for pid in used}
    rules = list(trace.rule_ids)
    alts = list(trace.alternatives.items())
    return CoverageReport(
        rules=rules,
        missed_rules=[name for name in rules if trace.rule_ids[name] not in hit_nts],
        alternatives=[alt for _, alt in alts],
        missed_alternatives=[alt for pid, alt in alts if pid not in used],
    )
