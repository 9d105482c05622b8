"""The exact reference: a character-level Earley recognizer over the grammar AST.

Why our own and not lark's Earley: lark's ``dynamic_complete`` lexer finds the
shorter matches of a regex terminal by re-matching it on truncated text, which
only finds every split when Python's leftmost-first regex match is also the
longest one. ``t ::= ("a" | "ab") ("bc")?`` on "abbc" is a counterexample (the
match "abbc" is never produced: lark rejects a member). Here terminals are single characters, whole
literals, or the TagDispatch scanners, each of which yields *every* end, so
the recognizer decides membership exactly. It also implements what lark cannot
express: ``lazy`` (an occurrence ends at its earliest completion), ``max_chars``
(an occurrence spans at most N code points) and ``TagDispatch``.

Lookahead assertions ``(= ...)`` are deliberately ignored: XGrammar 0.2.8's
matcher accepts the same strings with or without them (pinned by the labelled
cases in tests/data/xgrammar_semantics.jsonl).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from wafer_grammar.ebnf.pyregex import class_pattern
from wafer_grammar.ebnf.regex import positive_ranges
from wafer_grammar.ebnf.render import render_string
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    MacroCall,
    MacroName,
    MacroString,
    MacroTuple,
    Repeat,
    RuleRef,
    Sequence,
)


class Term:
    """A terminal: ``ends(text, i)`` lists every position a match from ``i`` can end at."""

    def ends(self, text: str, i: int) -> Iterable[int]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(eq=False)
class LitTerm(Term):
    value: str

    def ends(self, text: str, i: int) -> Iterable[int]:
        return (i + len(self.value),) if text.startswith(self.value, i) else ()

    def describe(self) -> str:
        return render_string(self.value)


@dataclass(eq=False)
class ClassTerm(Term):
    source: CharClass
    ranges: tuple[tuple[int, int], ...] = ()
    matcher: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.ranges = positive_ranges(self.source)
        self.matcher = re.compile(class_pattern(self.ranges))

    def ends(self, text: str, i: int) -> Iterable[int]:
        return (i + 1,) if self.matcher.match(text, i) else ()

    def describe(self) -> str:
        from wafer_grammar.ebnf.render import render_class

        return render_class(self.source)


@dataclass(eq=False)
class Dispatch:
    """One ``TagDispatch`` call: its tags, excluded strings and looping."""

    tags: tuple[str, ...]
    excludes: tuple[str, ...]
    loop: bool

    def first_hit(self, text: str, i: int) -> tuple[int, str] | None:
        """The earliest end ``p`` of a tag or excluded string starting at or after ``i``,
        and the longest such word ending there (XGrammar prefers the longest tag)."""
        best: int | None = None
        for word in self.tags + self.excludes:
            at = text.find(word, i)
            if at >= 0 and (best is None or at + len(word) < best):
                best = at + len(word)
        if best is None:
            return None
        word = max(
            (
                w
                for w in self.tags + self.excludes
                if best - len(w) >= i and text.endswith(w, 0, best)
            ),
            key=len,
        )
        return best, word


@dataclass(eq=False)
class FreeTerm(Term):
    """TagDispatch free text: any run containing no tag and no excluded string."""

    dispatch: Dispatch

    def ends(self, text: str, i: int) -> Iterable[int]:
        hit = self.dispatch.first_hit(text, i)
        stop = len(text) + 1 if hit is None else hit[0]
        return range(i, stop)

    def describe(self) -> str:
        return "free text"


@dataclass(eq=False)
class TagTerm(Term):
    """Free text followed by the first tag occurrence, when that tag is ``tag``."""

    dispatch: Dispatch
    tag: str

    def ends(self, text: str, i: int) -> Iterable[int]:
        hit = self.dispatch.first_hit(text, i)
        if hit is not None and hit[1] == self.tag and self.tag in self.dispatch.tags:
            return (hit[0],)
        return ()

    def describe(self) -> str:
        return render_string(self.tag)


Symbol = int | Term


@dataclass
class NonTerminal:
    name: str | None  # the EBNF rule name, or None for a helper (spliced into its parent)
    lazy: bool = False
    max_chars: int | None = None
    token: bool = False  # a regular rule: shown as one Token in parse trees


@dataclass
class CompiledGrammar:
    """BNF over :class:`Term` terminals; nonterminal 0 is the root."""

    nts: list[NonTerminal] = field(default_factory=list)
    prods: list[tuple[int, tuple[Symbol, ...]]] = field(default_factory=list)
    by_lhs: list[list[int]] = field(default_factory=list)
    nullable: list[bool] = field(default_factory=list)

    def new_nt(self, nt: NonTerminal) -> int:
        self.nts.append(nt)
        self.by_lhs.append([])
        return len(self.nts) - 1

    def add(self, lhs: int, rhs: Iterable[Symbol]) -> None:
        self.by_lhs[lhs].append(len(self.prods))
        self.prods.append((lhs, tuple(rhs)))


def _int_option(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Compiler:
    def __init__(self, ast: GrammarAST, token_rules: frozenset[str]) -> None:
        self.g = CompiledGrammar()
        self.rules = ast.rule_map()
        self.ids: dict[str, int] = {}
        self.token_rules = token_rules
        self.lits: dict[str, LitTerm] = {}
        self.rule_nt(ast.root)

    def rule_nt(self, name: str) -> int:
        if name in self.ids:
            return self.ids[name]
        rule = self.rules[name]
        mc = rule.option("max_chars")
        nt = self.g.new_nt(
            NonTerminal(
                name,
                lazy=rule.option("lazy") is not None,
                max_chars=_int_option(mc.value) if mc else None,
                token=name in self.token_rules,
            )
        )
        self.ids[name] = nt
        for alt in rule.body.alternatives if isinstance(rule.body, Choice) else (rule.body,):
            self.g.add(nt, self.seq(alt))
        return nt

    def helper(self, alternatives: Iterable[list[Symbol]]) -> int:
        nt = self.g.new_nt(NonTerminal(None))
        for alt in alternatives:
            self.g.add(nt, alt)
        return nt

    def seq(self, expr: Expr) -> list[Symbol]:
        if isinstance(expr, Literal):
            if not expr.value:
                return []
            return [self.lits.setdefault(expr.value, LitTerm(expr.value))]
        if isinstance(expr, CharClass):
            return [ClassTerm(expr)]
        if isinstance(expr, RuleRef):
            return [self.rule_nt(expr.name)]
        if isinstance(expr, Sequence):
            return [s for item in expr.items for s in self.seq(item)]
        if isinstance(expr, Choice):
            return [self.helper(self.seq(a) for a in expr.alternatives)]
        if isinstance(expr, Repeat):
            return self.repeat(expr)
        if isinstance(expr, MacroCall) and expr.name == "TagDispatch":
            return [self.tag_dispatch(expr)]
        raise ValueError(f"{type(expr).__name__} must be desugared before recognition")

    def repeat(self, expr: Repeat) -> list[Symbol]:
        body = self.seq(expr.item)
        if len(body) > 1:
            body = [self.helper([body])]
        out: list[Symbol] = body * expr.min
        if expr.max is None:
            star = self.helper([[]])
            self.g.add(star, [star, *body])  # left recursion: Earley handles it in linear time
            out.append(star)
        elif expr.max > expr.min:
            tail: list[Symbol] = []
            for _ in range(expr.max - expr.min):
                tail = [self.helper([[], body + tail])]
            out.extend(tail)
        return out

    def tag_dispatch(self, call: MacroCall) -> int:
        pairs: list[tuple[str, str]] = []
        for arg in call.args:
            if isinstance(arg, MacroTuple) and len(arg.items) == 2:
                tag_arg, target_arg = arg.items
                if isinstance(tag_arg, MacroString) and isinstance(target_arg, MacroName):
                    pairs.append((tag_arg.value, target_arg.name))
        loop_value = call.kwarg("loop_after_dispatch")
        loop = not (isinstance(loop_value, MacroName) and loop_value.name == "false")
        excl = call.kwarg("excludes")
        excludes = tuple(
            v.value
            for v in (excl.items if isinstance(excl, MacroTuple) else ())
            if isinstance(v, MacroString)
        )
        dispatch = Dispatch(tuple(t for t, _ in pairs), excludes, loop)
        nt = self.helper([[FreeTerm(dispatch)]])
        for tag, target in pairs:
            rest: list[Symbol] = [nt] if loop else []
            self.g.add(nt, [TagTerm(dispatch, tag), self.rule_nt(target), *rest])
        return nt


def _finish(g: CompiledGrammar) -> None:
    """Drop productions that can never complete, then compute nullability."""
    productive = [False] * len(g.nts)
    dead_terms = {
        id(s) for _, rhs in g.prods for s in rhs if isinstance(s, ClassTerm) and not s.ranges
    }
    changed = True
    while changed:
        changed = False
        for lhs, rhs in g.prods:
            if not productive[lhs] and all(
                productive[s] if isinstance(s, int) else id(s) not in dead_terms for s in rhs
            ):
                productive[lhs] = changed = True
    keep = [
        all(productive[s] if isinstance(s, int) else id(s) not in dead_terms for s in rhs)
        for _, rhs in g.prods
    ]
    g.by_lhs = [[p for p in ps if keep[p]] for ps in g.by_lhs]
    nullable = [False] * len(g.nts)
    changed = True
    while changed:
        changed = False
        for p, (lhs, rhs) in enumerate(g.prods):
            empty = all(isinstance(s, int) and nullable[s] for s in rhs) or (
                len(rhs) == 1 and isinstance(rhs[0], FreeTerm)
            )
            if keep[p] and not nullable[lhs] and empty:
                nullable[lhs] = changed = True
    g.nullable = nullable


def compile_grammar(ast: GrammarAST, token_rules: frozenset[str] = frozenset()) -> CompiledGrammar:
    """Compile a desugared AST; ``token_rules`` are shown as single tokens in trees."""
    compiler = _Compiler(ast, token_rules)
    _finish(compiler.g)
    return compiler.g


Item = tuple[int, int, int]  # production, dot, origin


def _common_prefix(text: str, at: int, literal: str) -> int:
    k = 0
    while k < len(literal) and at + k < len(text) and text[at + k] == literal[k]:
        k += 1
    return k


@dataclass
class Chart:
    """The result of one recognition run."""

    text: str
    sets: list[set[Item]]
    done: list[dict[int, set[int]]]  # per end: nonterminal -> origins it completed from
    furthest: int  # the last position any item reached
    accepted: bool
    alive_at_end: bool  # the text can still be extended to a member (a viable prefix)
    partial_at: int = -1  # furthest position a literal matched part-way to, past ``furthest``
    partial_expected: frozenset[str] = frozenset()


class Recognizer:
    """Runs Earley over a :class:`CompiledGrammar`."""

    def __init__(self, grammar: CompiledGrammar) -> None:
        self.g = grammar

    def run(self, text: str) -> Chart:
        g, n = self.g, len(text)
        prods, by_lhs, nullable, nts = g.prods, g.by_lhs, g.nullable, g.nts
        sets: list[set[Item]] = [set() for _ in range(n + 1)]
        agendas: list[list[Item]] = [[] for _ in range(n + 1)]
        done: list[dict[int, set[int]]] = [{} for _ in range(n + 1)]
        waiting: list[dict[int, list[Item]]] = [{} for _ in range(n + 1)]
        lazy_done: dict[tuple[int, int], int] = {}
        frontier: list[Item] = []  # incomplete items that reach the end of the text
        partial_at, partial_expected = -1, set[str]()
        limits = [nt.max_chars for nt in nts]
        lazies = [nt.lazy for nt in nts]
        furthest = -1  # stays -1 when even the root has no usable production

        def add(item: Item, at: int) -> None:
            s = sets[at]
            if item not in s:
                s.add(item)
                agendas[at].append(item)

        for p in by_lhs[0]:
            add((p, 0, 0), 0)
        for j in range(n + 1):
            agenda = agendas[j]
            if not agenda:
                continue
            predicted: set[int] = set()
            waits = waiting[j]
            ends_memo: dict[int, Iterable[int]] = {}
            k = 0
            while k < len(agenda):
                item = agenda[k]
                k += 1
                pid, dot, origin = item
                lhs, rhs = prods[pid]
                limit = limits[lhs]
                if limit is not None and j - origin > limit:
                    continue
                if lazies[lhs] and lazy_done.get((lhs, origin), j) < j:
                    continue  # a lazy occurrence already ended earlier: it stops consuming
                furthest = j
                if dot == len(rhs):
                    if lazies[lhs]:
                        lazy_done.setdefault((lhs, origin), j)
                    origins = done[j].setdefault(lhs, set())
                    if origin in origins:
                        continue
                    origins.add(origin)
                    for w in waiting[origin].get(lhs, ()):
                        add((w[0], w[1] + 1, w[2]), j)
                    continue
                if j == n:
                    frontier.append(item)
                sym = rhs[dot]
                if isinstance(sym, int):
                    waits.setdefault(sym, []).append(item)
                    if sym not in predicted:
                        predicted.add(sym)
                        if lazies[sym] and nullable[sym]:
                            lazy_done.setdefault((sym, j), j)
                        for p in by_lhs[sym]:
                            add((p, 0, j), j)
                    if nullable[sym] or j in done[j].get(sym, ()):
                        add((pid, dot + 1, origin), j)
                else:
                    key = id(sym)
                    ends = ends_memo.get(key)
                    if ends is None:
                        ends = ends_memo[key] = tuple(sym.ends(text, j))
                    for e in ends:
                        add((pid, dot + 1, origin), e)
                    if not ends and isinstance(sym, LitTerm) and j < n:
                        # Part of the literal matched: the error points past it, and
                        # running out of text inside it still leaves a viable prefix.
                        got = _common_prefix(text, j, sym.value)
                        if j + got == n:
                            frontier.append(item)
                        if got and j + got >= partial_at:
                            if j + got > partial_at:
                                partial_at, partial_expected = j + got, set()
                            partial_expected.add(sym.describe())
        accepted = 0 in done[n].get(0, set())
        return Chart(
            text=text,
            sets=sets,
            done=done,
            furthest=max(furthest, 0),
            accepted=accepted,
            alive_at_end=accepted or self._viable(frontier, waiting, lazy_done, n),
            partial_at=partial_at if partial_at > furthest else -1,
            partial_expected=frozenset(partial_expected),
        )

    def _viable(
        self,
        frontier: list[Item],
        waiting: list[dict[int, list[Item]]],
        lazy_done: dict[tuple[int, int], int],
        n: int,
    ) -> bool:
        """Whether some item needing more text can still become part of a member.

        An item is dead if its rule (or any rule occurrence it would complete
        into) is lazy and already ended, or would exceed ``max_chars`` with one
        more character. Helper nonterminals inherit their owners' fate this way.
        """
        g = self.g
        memo: dict[tuple[int, int], bool] = {}

        def live(nt: int, origin: int) -> bool:
            key = (nt, origin)
            if key in memo:
                return memo[key]
            memo[key] = False  # cycles: assume dead until shown alive
            info = g.nts[nt]
            ok = not (info.lazy and (nt, origin) in lazy_done)
            ok = ok and not (info.max_chars is not None and n + 1 - origin > info.max_chars)
            if ok and nt != 0:
                ok = any(live(g.prods[w[0]][0], w[2]) for w in waiting[origin].get(nt, ()))
            memo[key] = ok
            return ok

        return any(live(g.prods[pid][0], origin) for pid, _dot, origin in frontier)

    def expected(self, chart: Chart, at: int) -> list[str]:
        """Descriptions of what could come next at ``at`` (sorted, deduplicated)."""
        if at == chart.partial_at:
            return sorted(chart.partial_expected)
        out: set[str] = set()
        for pid, dot, _origin in chart.sets[at]:
            rhs = self.g.prods[pid][1]
            if dot < len(rhs) and not isinstance(rhs[dot], int):
                term = rhs[dot]
                assert isinstance(term, Term)
                out.add(term.describe())
        if 0 in chart.done[at].get(0, set()):
            out.add("end of text")
        return sorted(out)
