"""Grammar AST -> BNF over terminals, the form the exact recognizer runs on.

Iterative throughout: rule references are queued, expressions compiled
bottom-up with an explicit stack, and counted repetitions built by doubling
(``x{1000000000}`` costs 30 nonterminals). Regular sub-expressions become one
automaton term each (:class:`~wafer_grammar.ebnf.terms.AutoTerm`).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from wafer_grammar.ebnf.automaton import build_automaton
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
from wafer_grammar.ebnf.terms import (
    AutoTerm,
    ClassTerm,
    Dispatch,
    FreeTerm,
    LitTerm,
    TagTerm,
    Term,
)

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
