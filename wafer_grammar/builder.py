"""Write grammars in Python instead of EBNF text.

::

    from wafer_grammar.builder import GrammarBuilder, cls, lit, many

    b = GrammarBuilder()
    b["root"] = "[" + (b.ref("item") + many(", " + b.ref("item"))).opt() + "]"
    b["item"] = lit("yes") | "no"
    b["num"] = cls("0-9").rep(1, 3)
    ast = b.build()

Combinators return :class:`Fragment` objects; a plain ``str`` anywhere a
fragment is expected is a literal. ``a + b`` is a sequence, ``a | b`` a choice.
Nested sequences and choices are flattened the way the parser flattens them, so
``parse_ebnf(render_ebnf(ast)) == ast`` for every built grammar.

Mistakes in a single call (a bad name, ``rep(x, 3, 2)``, an unknown option)
raise ``ValueError`` at once; mistakes that need the whole grammar (undefined
or duplicate rules, a missing root) are collected and raised together by
:meth:`GrammarBuilder.build` as a :class:`GrammarError`, with the parser's codes.
"""

from __future__ import annotations

import math
from types import EllipsisType
from typing import TypeAlias, Union

from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.ebnf.lexer import MAX_INTEGER, is_name_char
from wafer_grammar.ebnf.parser import undefined_rule_hint
from wafer_grammar.ebnf.render import render_expr
from wafer_grammar.ebnf.syntax import (
    KNOWN_MACROS,
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    MacroCall,
    MacroString,
    OptionValue,
    Repeat,
    Rule,
    RuleOption,
    RuleRef,
    Sequence,
    references,
)
from wafer_grammar.errors import GrammarError
from wafer_grammar.grammar import Grammar

_EXPR_TYPES = (Literal, CharClass, RuleRef, Sequence, Choice, Repeat, MacroCall)


class Fragment:
    """A piece of grammar under construction; wraps one AST expression (``.expr``)."""

    __slots__ = ("expr",)

    def __init__(self, expr: Expr) -> None:
        self.expr = expr

    def __add__(self, other: Item) -> Fragment:
        return seq(self, other)

    def __radd__(self, other: Item) -> Fragment:
        return seq(other, self)

    def __or__(self, other: Item) -> Fragment:
        return choice(self, other)

    def __ror__(self, other: Item) -> Fragment:
        return choice(other, self)

    def __invert__(self) -> Fragment:
        """``~cls("a-z")`` is ``[^a-z]``; only character classes can be negated."""
        if not isinstance(self.expr, CharClass):
            raise TypeError(f"only a character class can be negated, not {render_expr(self.expr)}")
        return Fragment(CharClass(self.expr.ranges, not self.expr.negated))

    def opt(self) -> Fragment:
        """Zero or one time: ``x?``."""
        return opt(self)

    def many(self) -> Fragment:
        """Zero or more times: ``x*``."""
        return many(self)

    def many1(self) -> Fragment:
        """One or more times: ``x+``."""
        return many1(self)

    def rep(self, min: int, max: int | EllipsisType | None = ...) -> Fragment:
        """Between ``min`` and ``max`` times (see :func:`rep`)."""
        return rep(self, min, max)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fragment) and self.expr == other.expr

    def __hash__(self) -> int:
        return hash(self.expr)

    def __repr__(self) -> str:
        return f"Fragment({render_expr(self.expr)})"


#: What combinators take: a fragment, a plain string (a literal) or an AST node.
Item: TypeAlias = Union[Fragment, str, Expr]  # noqa: UP007 (a runtime alias)


def _expr(item: Item) -> Expr:
    if isinstance(item, Fragment):
        return item.expr
    if isinstance(item, str):
        return Literal(item)
    if isinstance(item, _EXPR_TYPES):
        return item
    raise TypeError(f"expected a Fragment, str or AST node, not {type(item).__name__}")


# --------------------------------------------------------------------------- leaves


def lit(text: str) -> Fragment:
    """Exactly ``text``; ``lit("")`` matches the empty string."""
    if not isinstance(text, str):
        raise TypeError(f"lit() takes a str, not {type(text).__name__}")
    return Fragment(Literal(text))


def empty() -> Fragment:
    """The empty string (``""``)."""
    return Fragment(Literal(""))


def cls(*parts: str | tuple[str, str], negate: bool = False) -> Fragment:
    """One character from a class: ``cls("a-z", "0-9", "_")`` is ``[a-z0-9_]``.

    Each string part lists characters, with ``x-y`` for a range; a ``-`` first
    or last is a literal dash. A ``(low, high)`` tuple is an explicit range.
    ``negate=True`` (or ``~cls(...)``) matches every character not listed.

    Raises:
        ValueError: a reversed range, or a tuple whose ends are not single characters.
    """
    ranges: list[tuple[int, int]] = []
    for part in parts:
        if isinstance(part, tuple):
            low, high = part
            if len(low) != 1 or len(high) != 1:
                raise ValueError(f"a range needs two single characters, not {part!r}")
            ranges.append(_range(low, high))
            continue
        i = 0
        while i < len(part):
            if i + 2 < len(part) and part[i + 1] == "-":
                ranges.append(_range(part[i], part[i + 2]))
                i += 3
            else:
                ranges.append((ord(part[i]), ord(part[i])))
                i += 1
    return Fragment(CharClass(tuple(ranges), negate))


def _range(low: str, high: str) -> tuple[int, int]:
    if ord(low) > ord(high):
        raise ValueError(f"reversed character range {low!r}-{high!r}")
    return ord(low), ord(high)


def any_char() -> Fragment:
    """Any one character, newline included (``[^]``)."""
    return Fragment(CharClass((), True))


def ref(name: str) -> Fragment:
    """A reference to rule ``name``, which may be defined later (see :meth:`GrammarBuilder.ref`)."""
    _check_name(name)
    return Fragment(RuleRef(name))


def regex(pattern: str) -> Fragment:
    """``Regex("pattern")``: the language of a regular expression (XGrammar 0.2.x).

    Write the pattern as Python sees it (``r"\\d+"``); rendering doubles the
    backslashes for the EBNF string.
    """
    return Fragment(MacroCall("Regex", (MacroString(pattern),)))


def substring(*chunks: str) -> Fragment:
    """``Substring(...)``: any contiguous run of whole chunks, ``""`` included (XGrammar 0.2.x)."""
    if not chunks:
        raise ValueError("substring() needs at least one chunk")
    return Fragment(MacroCall("Substring", tuple(MacroString(c) for c in chunks)))


# --------------------------------------------------------------------------- combinators


def seq(*items: Item) -> Fragment:
    """``items`` one after another; nested sequences are flattened, one item is itself."""
    flat: list[Expr] = []
    for item in items:
        expr = _expr(item)
        flat.extend(expr.items if isinstance(expr, Sequence) else (expr,))
    if not flat:
        return empty()
    return Fragment(flat[0] if len(flat) == 1 else Sequence(tuple(flat)))


def choice(*items: Item) -> Fragment:
    """One of ``items``; nested choices are flattened, one item is itself.

    Raises:
        ValueError: no alternatives (a choice of nothing would match nothing).
    """
    flat: list[Expr] = []
    for item in items:
        expr = _expr(item)
        flat.extend(expr.alternatives if isinstance(expr, Choice) else (expr,))
    if not flat:
        raise ValueError("choice() needs at least one alternative")
    return Fragment(flat[0] if len(flat) == 1 else Choice(tuple(flat)))


def opt(item: Item) -> Fragment:
    """Zero or one time: ``x?``."""
    return rep(item, 0, 1)


def many(item: Item) -> Fragment:
    """Zero or more times: ``x*``."""
    return rep(item, 0, None)


def many1(item: Item) -> Fragment:
    """One or more times: ``x+``."""
    return rep(item, 1, None)


def rep(item: Item, min: int, max: int | EllipsisType | None = ...) -> Fragment:
    """``item`` between ``min`` and ``max`` times.

    ``rep(x, 3)`` is exactly three (``x{3}``), ``rep(x, 2, 5)`` is ``x{2,5}``,
    ``rep(x, 2, None)`` is two or more (``x{2,}``).

    Raises:
        ValueError: a negative bound, ``max < min``, or a bound XGrammar refuses (> 1e15).
    """
    upper = min if isinstance(max, EllipsisType) else max
    for bound in (min, upper):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
            raise TypeError(f"repetition bounds must be integers, not {bound!r}")
        if bound is not None and not 0 <= bound <= MAX_INTEGER:
            raise ValueError(f"repetition bound {bound} is outside 0..{MAX_INTEGER}")
    if upper is not None and upper < min:
        raise ValueError(f"repetition range {{{min},{upper}}}: the lower bound is larger")
    return Fragment(Repeat(_expr(item), min, upper))


# --------------------------------------------------------------------------- builder

_OPTION_NAMES = ("max_chars", "max_tokens", "capture", "lazy", "temperature")


def _check_name(name: str) -> None:
    if (
        not isinstance(name, str)
        or not name
        or not all(is_name_char(ch, i == 0) for i, ch in enumerate(name))
    ):
        raise ValueError(
            f"invalid rule name {name!r}: use ASCII letters, digits, '_', '-' and '.', "
            "not starting with a digit"
        )
    if name in ("true", "false") or name in KNOWN_MACROS:
        raise ValueError(f"{name!r} is reserved and cannot name a rule")


def _option(name: str, value: OptionValue) -> RuleOption | None:
    """One ``rule[...]`` option, checked the way the lexer checks written ones."""
    if name not in _OPTION_NAMES:
        raise ValueError(f"unknown rule option {name!r}; known: {', '.join(_OPTION_NAMES)}")
    if value is False:
        return None  # lazy=False / capture=False: leave the option out
    if name in ("lazy", "capture") and value is True:
        return RuleOption(name)
    if name == "capture" and isinstance(value, str):
        if not value or any(c in value for c in '"\\\n\r'):
            raise ValueError(
                f"capture name must be non-empty, without quotes or escapes: {value!r}"
            )
        return RuleOption(name, value)
    if (
        name in ("max_chars", "max_tokens")
        and isinstance(value, int)
        and not isinstance(value, bool)
    ):
        if not 0 <= value < 10**10:
            raise ValueError(f"{name} must be a non-negative integer of at most 10 digits")
        return RuleOption(name, value)
    if name == "temperature" and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or value < 0:
            raise ValueError("temperature must be a finite non-negative number")
        return RuleOption(name, float(value))
    raise ValueError(f"invalid value for rule option {name!r}: {value!r}")


class GrammarBuilder:
    """Collects rules in definition order and builds a :class:`GrammarAST`.

    ``b["name"] = body`` defines a rule; :meth:`rule` also takes options and a
    lookahead. References may point at rules defined later.
    """

    def __init__(self, root: str = "root") -> None:
        _check_name(root)
        self.root = root
        self._rules: list[Rule] = []

    def ref(self, name: str) -> Fragment:
        """A reference to rule ``name`` (defined before or after this call)."""
        return ref(name)

    def __setitem__(self, name: str, body: Item) -> None:
        self.rule(name, body)

    def __contains__(self, name: object) -> bool:
        return any(rule.name == name for rule in self._rules)

    def rule(
        self,
        name: str,
        body: Item,
        *,
        lookahead: Item | None = None,
        **options: OptionValue,
    ) -> Fragment:
        """Define rule ``name``; returns a reference to it.

        ``options`` become ``name[...]``: ``max_chars=20``, ``max_tokens=50``,
        ``capture=True`` or ``capture="field"``, ``lazy=True``, ``temperature=0.5``.
        ``lookahead`` must not be a choice (XGrammar refuses those).

        Raises:
            ValueError: an invalid name or option.
        """
        _check_name(name)
        built = (_option(key, value) for key, value in options.items())
        look = None if lookahead is None else _expr(lookahead)
        self._rules.append(
            Rule(name, _expr(body), look, tuple(opt for opt in built if opt is not None))
        )
        return ref(name)

    def build(self) -> GrammarAST:
        """The grammar, after checking it as the parser would.

        Raises:
            GrammarError: undefined references (E303), duplicate rules (E302), a
                missing root (E304) or a choice in a lookahead (E207); all listed.
        """
        diagnostics: list[Diagnostic] = []
        defined: set[str] = set()
        for rule in self._rules:
            if rule.name in defined:
                diagnostics.append(
                    Diagnostic.at(
                        "E302",
                        "error",
                        f'rule "{rule.name}" is defined more than once',
                        None,
                        rule=rule.name,
                        hint="rename one of them or merge their bodies with |",
                    )
                )
            defined.add(rule.name)
        if self.root not in defined:
            diagnostics.append(
                Diagnostic.at(
                    "E304",
                    "error",
                    f'the root rule "{self.root}" is not defined',
                    None,
                    hint=f'define it: builder["{self.root}"] = ...',
                )
            )
        for rule in self._rules:
            if isinstance(rule.lookahead, Choice):
                diagnostics.append(
                    Diagnostic.at(
                        "E207",
                        "error",
                        "choices (|) are not supported in a lookahead assertion",
                        None,
                        rule=rule.name,
                        hint="move the choice into a helper rule, or assert only the common part",
                    )
                )
            names = references(rule.body)
            if rule.lookahead is not None:
                names += references(rule.lookahead)
            for name in dict.fromkeys(names):
                if name not in defined:
                    diagnostics.append(
                        Diagnostic.at(
                            "E303",
                            "error",
                            f'rule "{name}" is not defined',
                            None,
                            rule=rule.name,
                            hint=undefined_rule_hint(name, defined),
                        )
                    )
        if diagnostics:
            raise GrammarError(diagnostics)
        return GrammarAST(tuple(self._rules), self.root)

    def grammar(self) -> Grammar:
        """:meth:`build`, wrapped by :meth:`~wafer_grammar.grammar.Grammar.from_ast`."""
        return Grammar.from_ast(self.build())


__all__ = [
    "Fragment",
    "GrammarBuilder",
    "Item",
    "any_char",
    "choice",
    "cls",
    "empty",
    "lit",
    "many",
    "many1",
    "opt",
    "ref",
    "regex",
    "rep",
    "seq",
    "substring",
]
