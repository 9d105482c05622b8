"""The grammar AST: immutable nodes, compared by structure (source spans are ignored).

Every expression node is a frozen dataclass. ``span`` records where the node was
written (for diagnostics) and takes no part in equality or hashing, so a grammar
parsed from its canonical rendering equals the original.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar, Union


class Span(NamedTuple):
    """A source region; lines and columns are 1-based, columns count code points.

    A named tuple rather than a frozen dataclass: the lexer makes one per token,
    and tuple construction is several times cheaper.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    offset: int = 0
    end_offset: int = 0


@dataclass(frozen=True)
class Literal:
    """An exact string; ``""`` is the empty string."""

    value: str
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CharClass:
    """One code point from ``ranges`` (inclusive ``(low, high)`` pairs), or not in them."""

    ranges: tuple[tuple[int, int], ...]
    negated: bool = False
    span: Span | None = field(default=None, compare=False, repr=False)

    def contains(self, char: str) -> bool:
        cp = ord(char)
        inside = any(lo <= cp <= hi for lo, hi in self.ranges)
        if self.negated:
            # A complement leaves the UTF-16 surrogates out (see charclass.complement).
            return not inside and not 0xD800 <= cp <= 0xDFFF
        return inside


@dataclass(frozen=True)
class RuleRef:
    """A reference to the rule ``name``."""

    name: str
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Sequence:
    """``items`` one after another (at least two)."""

    items: tuple[Expr, ...]
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Choice:
    """One of ``alternatives`` (at least two)."""

    alternatives: tuple[Expr, ...]
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Repeat:
    """``item`` between ``min`` and ``max`` times (``max=None``: unbounded).

    ``?`` is (0, 1), ``*`` is (0, None), ``+`` is (1, None).
    """

    item: Expr
    min: int
    max: int | None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class MacroString:
    """A string argument of a macro call."""

    value: str
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class MacroName:
    """A bare name argument of a macro call: a rule name or ``true``/``false``."""

    name: str
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class MacroTuple:
    """A parenthesised tuple argument ``( ... )``."""

    items: tuple[MacroValue, ...]
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class MacroInt:
    """An integer argument."""

    value: int
    span: Span | None = field(default=None, compare=False, repr=False)


MacroValue = Union[MacroString, MacroName, MacroTuple, MacroInt]  # noqa: UP007


@dataclass(frozen=True)
class MacroCall:
    """``Name(arg, ..., key=value, ...)``: Regex, Substring, TagDispatch, Token, ..."""

    name: str
    args: tuple[MacroValue, ...] = ()
    kwargs: tuple[tuple[str, MacroValue], ...] = ()
    span: Span | None = field(default=None, compare=False, repr=False)

    def kwarg(self, key: str) -> MacroValue | None:
        for name, value in self.kwargs:
            if name == key:
                return value
        return None


Expr = Union[Literal, CharClass, RuleRef, Sequence, Choice, Repeat, MacroCall]  # noqa: UP007

OptionValue = Union[str, int, float, bool, None]  # noqa: UP007


@dataclass(frozen=True)
class RuleOption:
    """``name`` or ``name=value`` inside ``rule[...]``; ``value`` None for a bare flag."""

    name: str
    value: OptionValue = None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Rule:
    """``name[options] ::= body (= lookahead)``."""

    name: str
    body: Expr
    lookahead: Expr | None = None
    options: tuple[RuleOption, ...] = ()
    span: Span | None = field(default=None, compare=False, repr=False)

    def option(self, name: str) -> RuleOption | None:
        for opt in self.options:
            if opt.name == name:
                return opt
        return None


@dataclass(frozen=True)
class GrammarAST:
    """All rules in source order and the name of the entry rule."""

    rules: tuple[Rule, ...]
    root: str = "root"
    #: Values derived from the (immutable) rules, kept by :mod:`.analysis` so that
    #: lint's many analyses compute each once; never compared, never copied.
    derived: dict[str, Any] = field(
        init=False, default_factory=dict, compare=False, hash=False, repr=False
    )

    def rule_map(self) -> dict[str, Rule]:
        return {rule.name: rule for rule in self.rules}


R = TypeVar("R")

TOKEN_LEVEL_MACROS = frozenset({"Token", "ExcludeToken", "TokenTagDispatch"})
TEXT_MACROS = frozenset({"Regex", "Substring", "TagDispatch"})
KNOWN_MACROS = TOKEN_LEVEL_MACROS | TEXT_MACROS


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr`` (macro rule arguments are not expressions)."""
    kind = type(expr)
    if kind is Sequence:
        return expr.items  # type: ignore[union-attr]
    if kind is Choice:
        return expr.alternatives  # type: ignore[union-attr]
    if kind is Repeat:
        return (expr.item,)  # type: ignore[union-attr]
    return ()


def walk(expr: Expr) -> list[Expr]:
    """``expr`` and all its descendants, pre-order."""
    # Hot in lint and analysis: dispatch on the exact type, no per-node calls.
    out: list[Expr] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        out.append(node)
        kind = type(node)
        if kind is Sequence:
            stack.extend(reversed(node.items))  # type: ignore[union-attr]
        elif kind is Choice:
            stack.extend(reversed(node.alternatives))  # type: ignore[union-attr]
        elif kind is Repeat:
            stack.append(node.item)  # type: ignore[union-attr]
    return out


def fold(
    expr: Expr,
    combine: Callable[[Expr, list[R]], R],
    leaf: Callable[[Expr], bool] | None = None,
) -> R:
    """``combine(node, results of its children)`` bottom-up over ``expr``, without recursion.

    Group nesting (1000 deep in XGrammar) and desugared regexes (any depth) make
    trees deeper than Python's stack; every whole-tree computation goes through here.
    A node for which ``leaf(node)`` holds is combined without visiting its children.
    """
    results: list[R] = []
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        kids = () if leaf is not None and leaf(node) else children(node)
        if kids and not ready:
            stack.append((node, True))
            stack.extend((kid, False) for kid in reversed(kids))
            continue
        if kids:
            args = results[len(results) - len(kids) :]
            del results[len(results) - len(kids) :]
        else:
            args = []
        results.append(combine(node, args))
    return results[0]


def rebuild(
    expr: Expr, leaf: Callable[[Expr], Expr], stop: Callable[[Expr], bool] | None = None
) -> Expr:
    """``expr`` with each leaf replaced by ``leaf(it)`` (spans kept), without recursion.

    A node for which ``stop(node)`` holds counts as a leaf: its children are not visited.
    """

    def combine(node: Expr, kids: list[Expr]) -> Expr:
        if stop is not None and stop(node):
            return leaf(node)
        if isinstance(node, Sequence):
            return Sequence(tuple(kids), node.span)
        if isinstance(node, Choice):
            return Choice(tuple(kids), node.span)
        if isinstance(node, Repeat):
            return Repeat(kids[0], node.min, node.max, node.span)
        return leaf(node)

    return fold(expr, combine, stop)


def depth(expr: Expr) -> int:
    """How deeply ``expr`` nests (a leaf is 1)."""
    return fold(expr, lambda _node, kids: 1 + max(kids, default=0))


def macro_rule_refs(call: MacroCall) -> list[MacroName]:
    """Names inside a macro call that refer to rules (TagDispatch targets)."""
    found: list[MacroName] = []
    stack: list[MacroValue] = list(reversed(call.args))
    while stack:
        value = stack.pop()
        if isinstance(value, MacroName) and value.name not in ("true", "false"):
            found.append(value)
        elif isinstance(value, MacroTuple):
            stack.extend(reversed(value.items))
    return found


def references(expr: Expr) -> list[str]:
    """Names of all rules that ``expr`` refers to, macro targets included, in order."""
    names: list[str] = []
    for node in walk(expr):
        kind = type(node)
        if kind is RuleRef:
            names.append(node.name)  # type: ignore[union-attr]
        elif kind is MacroCall:
            names.extend(n.name for n in macro_rule_refs(node))  # type: ignore[arg-type]
    return names
