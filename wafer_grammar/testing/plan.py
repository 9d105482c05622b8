"""What generation needs to know about a grammar, computed once: a *plan*.

A plan holds the desugared rules (``Regex``/``Substring`` are plain AST after
:func:`~wafer_grammar.ebnf.desugar.desugar`), a *witness* per rule (its shortest
string, found bottom-up so it is always a real derivation), the viable
alternatives of every choice ordered shortest first, and a pool of characters
per character class, simple ones first.

Why witnesses: when a recursive grammar runs out of depth, generation must
still finish with a valid string. Following "the alternative with the shortest
minimum length" can loop forever (``a ::= a | ""`` ties both ways); a witness
is a concrete string built from already-finished parts, so using it always
terminates.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from wafer_grammar.ebnf.analysis import recursive_rules
from wafer_grammar.ebnf.desugar import check_text_judgeable, desugar
from wafer_grammar.ebnf.recognizer import Dispatch, FreeTerm, TagTerm
from wafer_grammar.ebnf.regex import positive_ranges
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
    Rule,
    RuleRef,
    Sequence,
    walk,
)
from wafer_grammar.errors import WaferGrammarError
from wafer_grammar.grammar import Grammar

# Simple characters first, so shrinking ends on "a" or "0", not on U+0000.
_PREFERRED = (
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    " _-.,:;!?'\"/\\()[]{}<>@#$%^&*+=|~`"
)
_SURROGATES = (0xD800, 0xDFFF)


class EmptyLanguage(WaferGrammarError, ValueError):
    """The grammar's root rule matches no string at all: there is nothing to generate."""


def _without_surrogates(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    # A surrogate cannot be encoded in UTF-8, so no server output contains one.
    out: list[tuple[int, int]] = []
    for lo, hi in ranges:
        for a, b in ((lo, min(hi, _SURROGATES[0] - 1)), (max(lo, _SURROGATES[1] + 1), hi)):
            if a <= b:
                out.append((a, b))
    return tuple(out)


def _clip(ranges: tuple[tuple[int, int], ...], top: int) -> tuple[tuple[int, int], ...]:
    return tuple((lo, min(hi, top)) for lo, hi in ranges if lo <= top)


@dataclass(frozen=True)
class CharPool:
    """Where a class's characters are drawn from: tiers, simplest first."""

    simple: str  # members among _PREFERRED, in that order
    tiers: tuple[tuple[tuple[int, int], ...], ...]  # code point ranges: BMP, then all

    @property
    def first(self) -> str | None:
        if self.simple:
            return self.simple[0]
        return chr(self.tiers[0][0][0]) if self.tiers else None

    def nth(self, tier: int, index: int) -> str:
        """The ``index``-th character of code point tier ``tier``."""
        for lo, hi in self.tiers[tier]:
            if index <= hi - lo:
                return chr(lo + index)
            index -= hi - lo + 1
        raise IndexError(index)

    def size(self, tier: int) -> int:
        return sum(hi - lo + 1 for lo, hi in self.tiers[tier])


def char_pool(cc: CharClass) -> CharPool:
    ranges = positive_ranges(cc)
    clean = _without_surrogates(ranges) or ranges
    simple = "".join(ch for ch in _PREFERRED if any(lo <= ord(ch) <= hi for lo, hi in ranges))
    tiers = [t for t in (_clip(clean, 0xFFFF), clean) if t]
    if len(tiers) == 2 and tiers[0] == tiers[1]:
        tiers.pop()
    return CharPool(simple, tuple(tiers))


ANY_CHAR = CharClass((), negated=True)  # TagDispatch free text draws from [^]


@dataclass(frozen=True)
class DispatchPlan:
    """One ``TagDispatch`` call: the tags whose target can complete, and its scanner."""

    pairs: tuple[tuple[str, str], ...]  # (tag, target rule), viable ones only
    dispatch: Dispatch

    def clean_free(self, text: str) -> str:
        """The longest start of ``text`` that free text may be (no tag, no excluded string)."""
        return text[: max(FreeTerm(self.dispatch).ends(text, 0))]

    def tag_ok(self, free: str, tag: str) -> bool:
        """Whether ``free + tag`` may dispatch ``tag`` at its end."""
        text = free + tag
        return len(text) in TagTerm(self.dispatch, tag).ends(text, 0)


def dispatch_plan(call: MacroCall, productive: dict[str, str | None]) -> DispatchPlan:
    pairs: list[tuple[str, str]] = []
    for arg in call.args:
        if isinstance(arg, MacroTuple) and len(arg.items) == 2:
            tag, target = arg.items
            if isinstance(tag, MacroString) and isinstance(target, MacroName):
                pairs.append((tag.value, target.name))
    loop = call.kwarg("loop_after_dispatch")
    excl = call.kwarg("excludes")
    excludes = tuple(
        v.value
        for v in (excl.items if isinstance(excl, MacroTuple) else ())
        if isinstance(v, MacroString)
    )
    dispatch = Dispatch(
        tuple(t for t, _ in pairs),
        excludes,
        not (isinstance(loop, MacroName) and loop.name == "false"),
    )
    plan = DispatchPlan((), dispatch)
    # A tag is reachable only if it dispatches when written alone (no shorter tag
    # or excluded string ends first inside it) and its target can complete.
    viable = tuple((t, r) for t, r in pairs if productive.get(r) is not None and plan.tag_ok("", t))
    return replace(plan, pairs=viable)


def _int_option(rule: Rule, name: str) -> int | None:
    opt = rule.option(name)
    if opt is None or not isinstance(opt.value, int) or isinstance(opt.value, bool):
        return None
    return opt.value


@dataclass
class Plan:
    """Everything generation reads; build with :func:`make_plan`."""

    grammar: Grammar
    rules: dict[str, Rule]  # desugared
    witness: dict[str, str | None]
    recursive: frozenset[str]
    choices: dict[int, tuple[Expr, ...]] = field(default_factory=dict)  # id(Choice) -> viable
    pools: dict[int, CharPool] = field(default_factory=dict)  # id(CharClass) -> pool
    dispatches: dict[int, DispatchPlan] = field(default_factory=dict)
    lazy_bodies: dict[str, Grammar] = field(default_factory=dict)

    def max_chars(self, name: str) -> int | None:
        return _int_option(self.rules[name], "max_chars")

    def pool(self, cc: CharClass) -> CharPool:
        found = self.pools.get(id(cc))
        if found is None:
            found = self.pools[id(cc)] = char_pool(cc)
        return found

    def expr_witness(self, expr: Expr) -> str | None:
        return _witness(expr, self.witness, self)

    def lazy_cut(self, name: str, text: str) -> str:
        """A lazy rule's occurrence ends at its earliest completion: the shortest
        prefix of ``text`` that the rule's body (without ``lazy``) accepts."""
        body = self.lazy_bodies.get(name)
        if body is None:
            rules = tuple(
                replace(r, options=()) if r.name == name else r for r in self.grammar.ast.rules
            )
            body = self.lazy_bodies[name] = Grammar(GrammarAST(rules, name))
        for end in range(len(text) + 1):
            if body.accepts(text[:end]):
                return text[:end]
        return text


def _witness(expr: Expr, table: dict[str, str | None], plan: Plan) -> str | None:
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, CharClass):
        return plan.pool(expr).first
    if isinstance(expr, RuleRef):
        return table.get(expr.name)
    if isinstance(expr, Sequence):
        parts = [_witness(i, table, plan) for i in expr.items]
        return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
    if isinstance(expr, Choice):
        found = [w for a in expr.alternatives if (w := _witness(a, table, plan)) is not None]
        return min(found, key=len, default=None)
    if isinstance(expr, Repeat):
        if expr.min == 0 or expr.max == 0:
            return ""
        item = _witness(expr.item, table, plan)
        return None if item is None else item * expr.min
    if expr.name == "TagDispatch":
        return ""  # free text may be empty, and free text alone is a member
    return None


def make_plan(grammar: Grammar) -> Plan:
    """The generation plan of ``grammar``.

    Raises:
        TextUnjudgeable: a reachable rule uses a token-level macro (``Token`` ...).
        GrammarError: a ``Regex(...)`` cannot be compiled.
    """
    check_text_judgeable(grammar.ast)
    ast = desugar(grammar.ast)
    rules = ast.rule_map()
    plan = Plan(grammar, rules, {}, frozenset(recursive_rules(ast)))
    table: dict[str, str | None] = {name: None for name in rules}
    # Bellman-Ford over strings: each round rebuilds every rule's witness from
    # the others' current ones and keeps it only if strictly shorter.
    changed = True
    while changed:
        changed = False
        for name, rule in rules.items():
            found = _witness(rule.body, table, plan)
            limit = plan.max_chars(name)
            if found is None or (limit is not None and len(found) > limit):
                continue
            old = table[name]
            if old is None or len(found) < len(old):
                table[name] = found
                changed = True
    plan.witness = table
    if table.get(ast.root) is None:
        raise EmptyLanguage(
            f"rule {ast.root!r} matches no string (every alternative needs an empty "
            "character class, an undefined rule or endless recursion): there is nothing "
            "to generate; run `wafer-grammar check` to see why"
        )
    for rule in rules.values():
        for node in walk(rule.body):
            if isinstance(node, Choice):
                viable = [a for a in node.alternatives if _witness(a, table, plan) is not None]
                # Shortest first: hypothesis shrinks a choice toward index 0.
                viable.sort(key=lambda a: len(_witness(a, table, plan) or ""))
                plan.choices[id(node)] = tuple(viable)
            elif isinstance(node, MacroCall) and node.name == "TagDispatch":
                plan.dispatches[id(node)] = dispatch_plan(node, table)
    return plan
