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

import heapq
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from wafer_grammar.ebnf.automaton import Automaton, build_automaton
from wafer_grammar.ebnf.charclass import positive_ranges
from wafer_grammar.ebnf.render import render_expr, render_string
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
    children,
    references,
    walk,
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
    _starts: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.ranges = positive_ranges(self.source)
        self._starts = tuple(lo for lo, _ in self.ranges)

    def matches(self, ch: str) -> bool:
        cp = ord(ch)
        i = bisect_right(self._starts, cp) - 1
        return i >= 0 and cp <= self.ranges[i][1]

    def ends(self, text: str, i: int) -> Iterable[int]:
        return (i + 1,) if i < len(text) and self.matches(text[i]) else ()

    def describe(self) -> str:
        from wafer_grammar.ebnf.render import render_class

        return render_class(self.source)


@dataclass(eq=False)
class AutoTerm(Term):
    """A regular sub-expression matched by an automaton: every end, in linear time."""

    source: Expr
    automaton: Automaton

    def ends(self, text: str, i: int) -> Iterable[int]:
        return self.automaton.ends(text, i)

    def describe(self) -> str:
        shown = render_expr(self.source)
        return shown if len(shown) <= 40 else shown[:37] + "..."


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
    #: Each nonterminal's shortest string (within its ``max_chars``); None: derives nothing.
    min_length: list[int | None] = field(default_factory=list)
    #: The order shortest lengths were settled in: an empty derivation of a
    #: nonterminal only uses nonterminals settled before it.
    settled: list[int] = field(default_factory=list)

    def new_nt(self, nt: NonTerminal) -> int:
        self.nts.append(nt)
        self.by_lhs.append([])
        return len(self.nts) - 1

    def add(self, lhs: int, rhs: Iterable[Symbol]) -> None:
        self.by_lhs[lhs].append(len(self.prods))
        self.prods.append((lhs, tuple(rhs)))

    def symbol_min(self, sym: Symbol) -> int | None:
        """The shortest text ``sym`` matches (None: it matches nothing)."""
        if isinstance(sym, int):
            return self.min_length[sym]
        return _term_min(sym)


def _term_min(term: Term) -> int | None:
    if isinstance(term, LitTerm):
        return len(term.value)
    if isinstance(term, ClassTerm):
        return 1 if term.ranges else None
    if isinstance(term, AutoTerm):
        return term.automaton.min_length()
    if isinstance(term, TagTerm):
        return len(term.tag)
    return 0  # free text


def _int_option(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


#: Counted repetitions up to this many copies are spelled out; larger counts are
#: built by doubling (x{1000000000} costs 30 nonterminals, not a billion).
_SMALL_COUNT = 8


class _Compiler:
    """AST -> :class:`CompiledGrammar`, with work lists rather than recursion.

    Rule references are queued (a 20,000-rule chain is a loop, not a call
    chain) and expressions are compiled bottom-up with an explicit stack.
    """

    #: Fold regular sub-expressions into automaton terms (coverage turns it off:
    #: it needs to see each alternative as a production).
    fold_regular = True

    def __init__(self, ast: GrammarAST, token_rules: frozenset[str]) -> None:
        self.g = CompiledGrammar()
        self.rules = ast.rule_map()
        self.ids: dict[str, int] = {}
        self.token_rules = token_rules
        self.lits: dict[str, LitTerm] = {}
        self.pending: list[tuple[str, int]] = []
        # Regular rules an automaton may inline: their options change nothing.
        self.inline = {
            name: self.rules[name].body
            for name in token_rules
            if name in self.rules
            and self.rules[name].option("lazy") is None
            and self.rules[name].option("max_chars") is None
        }
        # Rules are numbered in the order a depth-first walk meets them (root first),
        # as a recursive compiler would: reports list rules in that order.
        seen = {ast.root}
        self.rule_nt(ast.root)
        walks = [iter(references(self.rules[ast.root].body))]
        while walks:
            for name in walks[-1]:
                if name in self.rules and name not in seen:
                    seen.add(name)
                    self.rule_nt(name)
                    walks.append(iter(references(self.rules[name].body)))
                    break
            else:
                walks.pop()
        self.pending.reverse()  # compile in that order too
        while self.pending:
            self.compile_rule(*self.pending.pop())

    def rule_nt(self, name: str) -> int:
        """The nonterminal of rule ``name`` (its body is compiled later, from the queue)."""
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
        self.pending.append((name, nt))
        return nt

    def compile_rule(self, name: str, nt: int) -> None:
        body = self.rules[name].body
        if self.fold_regular and name in self.token_rules:
            auto = build_automaton(body, self.inline)
            if auto is not None:
                self.g.add(nt, [AutoTerm(body, auto)])
                return
        for alt in body.alternatives if isinstance(body, Choice) else (body,):
            self.g.add(nt, self.seq(alt))

    def helper(self, alternatives: Iterable[list[Symbol]]) -> int:
        nt = self.g.new_nt(NonTerminal(None))
        for alt in alternatives:
            self.g.add(nt, alt)
        return nt

    # -- hooks (coverage overrides them) ------------------------------------------------
    def on_choice(self, nt: int, expr: Choice) -> None:
        """Called for each choice compiled into helper ``nt``."""

    def macro_symbols(self, expr: MacroCall) -> list[Symbol]:
        raise ValueError(f"{expr.name}() must be desugared before recognition")

    # -- expressions -------------------------------------------------------------------
    def seq(self, expr: Expr) -> list[Symbol]:
        """The symbols for ``expr`` (bottom-up over an explicit stack)."""
        plain = self._plain(expr) if self.fold_regular else set()
        results: list[list[Symbol]] = []
        stack: list[tuple[Expr, bool]] = [(expr, False)]
        while stack:
            node, ready = stack.pop()
            kids = children(node)
            if not ready:
                if id(node) in plain and isinstance(node, (Choice, Repeat)):
                    auto = build_automaton(node)
                    if auto is not None:
                        results.append([AutoTerm(node, auto)])
                        continue
                if kids:
                    stack.append((node, True))
                    stack.extend((kid, False) for kid in reversed(kids))
                    continue
                results.append(self.leaf(node))
                continue
            parts = results[len(results) - len(kids) :]
            del results[len(results) - len(kids) :]
            if isinstance(node, Sequence):
                results.append([sym for part in parts for sym in part])
            elif isinstance(node, Choice):
                nt = self.helper(parts)
                self.on_choice(nt, node)
                results.append([nt])
            else:
                assert isinstance(node, Repeat)
                results.append(self.repeat(parts[0], node.min, node.max))
        return results[0]

    @staticmethod
    def _plain(expr: Expr) -> set[int]:
        """Ids of the nodes under ``expr`` made only of strings and classes (automaton-ready)."""
        impure: set[int] = set()
        order = walk(expr)
        for node in reversed(order):  # children before parents
            if isinstance(node, (RuleRef, MacroCall)) or any(
                id(k) in impure for k in children(node)
            ):
                impure.add(id(node))
        return {id(node) for node in order if id(node) not in impure}

    def leaf(self, expr: Expr) -> list[Symbol]:
        if isinstance(expr, Literal):
            if not expr.value:
                return []
            return [self.lits.setdefault(expr.value, LitTerm(expr.value))]
        if isinstance(expr, CharClass):
            return [ClassTerm(expr)]
        if isinstance(expr, RuleRef):
            return [self.rule_nt(expr.name)]
        if isinstance(expr, MacroCall):
            if expr.name == "TagDispatch":
                return [self.tag_dispatch(expr)]
            return self.macro_symbols(expr)
        return []  # an empty sequence or choice cannot be written; nothing to match

    def repeat(self, body: list[Symbol], low: int, high: int | None) -> list[Symbol]:
        if high == 0 or not body:
            return []
        item = body[0] if len(body) == 1 else self.helper([body])
        out = self._copies(item, low, optional=False)
        if high is None:
            star = self.helper([[]])
            self.g.add(star, [star, item])  # left recursion: Earley handles it in linear time
            out.append(star)
        elif high > low:
            out.extend(self._copies(item, high - low, optional=True))
        return out

    def _copies(self, item: Symbol, count: int, *, optional: bool) -> list[Symbol]:
        """``item`` exactly ``count`` times, or 0 to ``count`` times, in O(log count) symbols."""
        if count <= _SMALL_COUNT:
            if not optional:
                return [item] * count
            tail: list[Symbol] = []
            for _ in range(count):
                tail = [self.helper([[], [item, *tail]])]
            return tail
        # Doubling: power_k matches item 2**k times (optional: 0 to 2**k times),
        # and a count is the sum of the powers of its set bits.
        power: Symbol = self.helper([[], [item]]) if optional else item
        out: list[Symbol] = []
        while count:
            if count & 1:
                out.append(power)
            count >>= 1
            if count:
                power = self.helper([[power, power]])
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
    """Shortest lengths (Knuth's generalisation of Dijkstra), then drop what cannot complete.

    Work lists over symbol occurrences keep this linear in the grammar's size:
    a long chain of rules settles in one pass, not one pass per link.
    """
    n = len(g.nts)
    uses: list[list[int]] = [[] for _ in range(n)]  # nt -> productions using it (repeats kept)
    waiting = [0] * len(g.prods)  # nonterminal occurrences not yet settled
    partial = [0] * len(g.prods)  # lengths of the settled symbols so far
    heap: list[tuple[int, int]] = []
    for p, (lhs, rhs) in enumerate(g.prods):
        total: int | None = 0
        for sym in rhs:
            if isinstance(sym, int):
                uses[sym].append(p)
                waiting[p] += 1
            else:
                m = _term_min(sym)
                total = None if m is None or total is None else total + m
        if total is None:
            waiting[p] = -1  # a terminal that matches nothing: never completes
        else:
            partial[p] = total
            if waiting[p] == 0:
                heapq.heappush(heap, (total, lhs))
    mins: list[int | None] = [None] * n
    settled = [n] * n
    order = 0
    limits = [nt.max_chars for nt in g.nts]
    while heap:
        length, nt = heapq.heappop(heap)
        if mins[nt] is not None or (limits[nt] is not None and length > limits[nt]):  # type: ignore[operator]
            continue
        mins[nt] = length
        settled[nt] = order
        order += 1
        for p in uses[nt]:
            if waiting[p] <= 0:
                continue
            partial[p] += length
            waiting[p] -= 1
            if waiting[p] == 0:
                heapq.heappush(heap, (partial[p], g.prods[p][0]))
    g.min_length = mins
    g.settled = settled

    def fits(p: int) -> bool:
        lhs, rhs = g.prods[p]
        total = 0
        for sym in rhs:
            m = g.symbol_min(sym)
            if m is None:
                return False
            total += m
        limit = limits[lhs]
        return limit is None or total <= limit

    g.by_lhs = [[p for p in ps if fits(p)] for ps in g.by_lhs]
    g.nullable = [m == 0 for m in mins]


class _Unfolded(_Compiler):
    fold_regular = False


def compile_grammar(
    ast: GrammarAST, token_rules: frozenset[str] = frozenset(), *, fold_regular: bool = True
) -> CompiledGrammar:
    """Compile a desugared AST; ``token_rules`` are shown as single tokens in trees.

    ``fold_regular=False`` keeps every literal and class its own terminal: slower
    on hostile text, but a failure then points at the exact character and says
    which literals or classes could have come there.
    """
    compiler = (_Compiler if fold_regular else _Unfolded)(ast, token_rules)
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
    """The result of one recognition run.

    ``sets[j]`` maps each item processed at position ``j`` to the order it was
    processed in there: derivations read it to never build a node from itself.
    """

    text: str
    sets: list[dict[Item, int]]
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
        seen: list[set[Item]] = [set() for _ in range(n + 1)]
        sets: list[dict[Item, int]] = [{} for _ in range(n + 1)]
        agendas: list[list[Item]] = [[] for _ in range(n + 1)]
        done: list[dict[int, set[int]]] = [{} for _ in range(n + 1)]
        waiting: list[dict[int, list[Item]]] = [{} for _ in range(n + 1)]
        lazy_done: dict[tuple[int, int], int] = {}
        # Incomplete items at the end of the text, with how many characters they still need.
        frontier: list[tuple[Item, int]] = []
        partial_at, partial_expected = -1, set[str]()
        limits = [nt.max_chars for nt in nts]
        lazies = [nt.lazy for nt in nts]
        furthest = -1  # stays -1 when even the root has no usable production

        def add(item: Item, at: int) -> None:
            s = seen[at]
            if item not in s:
                s.add(item)
                agendas[at].append(item)

        for p in by_lhs[0]:
            add((p, 0, 0), 0)
        for j in range(n + 1):
            agenda = agendas[j]
            if not agenda:
                continue
            processed = sets[j]
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
                processed[item] = len(processed)
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
                    frontier.append((item, 0))
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
                    if isinstance(sym, (LitTerm, AutoTerm)) and j < n:
                        self._partial(sym, item, text, j, frontier)
                    if not ends and isinstance(sym, LitTerm) and j < n:
                        # Part of the literal matched: the error points past it.
                        got = _common_prefix(text, j, sym.value)
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

    @staticmethod
    def _partial(
        sym: LitTerm | AutoTerm, item: Item, text: str, j: int, frontier: list[tuple[Item, int]]
    ) -> None:
        """A terminal that runs out of text part-way still leaves a viable prefix."""
        if isinstance(sym, LitTerm):
            got = _common_prefix(text, j, sym.value)
            if j + got == len(text) and got < len(sym.value):
                frontier.append((item, len(sym.value) - got))
        else:
            need = sym.automaton.remaining(text, j)
            if need is not None and need > 0:
                frontier.append((item, need))

    def _viable(
        self,
        frontier: list[tuple[Item, int]],
        waiting: list[dict[int, list[Item]]],
        lazy_done: dict[tuple[int, int], int],
        n: int,
    ) -> bool:
        """Whether some item needing more text can still become part of a member.

        Dijkstra over rule occurrences ``(nonterminal, origin)``, upwards from
        the items at the end of the text, by the fewest characters still needed
        to complete them: an occurrence is out when its rule is lazy and already
        ended, or when even its shortest completion would pass its ``max_chars``.
        The text is viable when the root's own occurrence is reached.
        """
        g = self.g
        best: dict[tuple[int, int], int] = {}
        heap: list[tuple[int, int, int]] = []

        def rest(pid: int, dot: int) -> int | None:
            total = 0
            for sym in g.prods[pid][1][dot:]:
                m = g.symbol_min(sym)
                if m is None:
                    return None
                total += m
            return total

        for (pid, dot, origin), need_here in frontier:
            after = rest(pid, dot + 1)
            head = g.symbol_min(g.prods[pid][1][dot])
            if after is None or head is None:
                continue
            need = (need_here if need_here else max(head, 1)) + after
            heapq.heappush(heap, (need, g.prods[pid][0], origin))
        while heap:
            need, nt, origin = heapq.heappop(heap)
            key = (nt, origin)
            if key in best:
                continue
            info = g.nts[nt]
            if info.lazy and key in lazy_done:
                continue
            if info.max_chars is not None and n + need - origin > info.max_chars:
                continue
            best[key] = need
            if key == (0, 0):
                return True
            for wpid, wdot, worigin in waiting[origin].get(nt, ()):
                after = rest(wpid, wdot + 1)
                if after is not None:
                    heapq.heappush(heap, (need + after, g.prods[wpid][0], worigin))
        return False

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
