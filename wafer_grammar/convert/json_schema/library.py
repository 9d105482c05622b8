"""The shared rules a converted grammar draws on, in its whitespace style, added only when used.

Compact style writes JSON as ``json.dumps(v, separators=(",", ":"))`` does: no
whitespace at all, so a model cannot spend tokens on it. Pretty style writes
it as ``json.dumps(v, indent=2)`` lays it out, except that each line's
indentation is any 0..32 spaces: bounded, so it can never run away.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from itertools import permutations
from typing import Any

from wafer_grammar.convert.json_schema.formats import FORMAT_EBNF
from wafer_grammar.convert.json_schema.strings import STRING_EBNF
from wafer_grammar.ebnf.analysis import reachable_rules
from wafer_grammar.ebnf.parser import parse_ebnf
from wafer_grammar.ebnf.syntax import (
    Choice,
    Expr,
    GrammarAST,
    Literal,
    Repeat,
    Rule,
    RuleRef,
    Sequence,
    references,
)

#: Pretty style: a line break and at most this many spaces of indentation.
MAX_INDENT = 32

_NUMBERS = r"""
number ::= integer ("." [0-9]+)? ([eE] [+\-]? [0-9]+)?
integer ::= "-"? ("0" | [1-9] [0-9]*)
fraction ::= "-"? ("0" | [1-9] [0-9]{0,8}) "." [0-9]{0,5} [1-9]
whole ::= integer | "-"? ("0" | [1-9] [0-9]{0,299}) "." "0"+
"""

_COMPACT = r"""
value ::= value-object | value-array | string | number | "true" | "false" | "null"
value-object ::= "{" (string ":" value ("," string ":" value)*)? "}"
value-array ::= "[" (value ("," value)*)? "]"
"""

_PRETTY = rf"""
value ::= value-object | value-array | string | number | "true" | "false" | "null"
value-object ::= "{{}}" | "{{" nl string ": " value ("," nl string ": " value)* nl "}}"
value-array ::= "[]" | "[" nl value ("," nl value)* nl "]"
nl ::= "\n" " "{{0,{MAX_INDENT}}}
"""


@lru_cache(maxsize=2)
def _library_rules(pretty: bool) -> dict[str, Rule]:
    text = (_PRETTY if pretty else _COMPACT) + _NUMBERS + STRING_EBNF + FORMAT_EBNF
    rules = parse_ebnf(text, root="value").rule_map()
    # FORMAT_EBNF's own ``root`` lists the formats; a converted schema's root is its own.
    del rules["root"]
    return rules


class Library:
    """Shared rules and the separators of one whitespace style."""

    def __init__(self, *, pretty: bool) -> None:
        self.pretty = pretty
        #: Integral number values also as ``n.0`` (the converter sets it for ``closed=False``).
        self.whole_floats = False
        self._rules = _library_rules(pretty)
        self.names = frozenset(self._rules)
        nl = RuleRef("nl")
        self.comma: Expr = Sequence((Literal(","), nl)) if pretty else Literal(",")
        self.colon = Literal(": " if pretty else ":")
        self.newline: Expr | None = nl if pretty else None

    def ref(self, name: str) -> RuleRef:
        """A reference to shared rule ``name``."""
        assert name in self._rules, name
        return RuleRef(name)

    def rules_for(self, rules: list[Rule]) -> list[Rule]:
        """The shared rules that ``rules`` reach, in library order."""
        wanted = {n for rule in rules for n in references(rule.body) if n in self._rules}
        ast = GrammarAST((Rule("start", _seq_refs(wanted)), *self._rules.values()), "start")
        needed = reachable_rules(ast, "start")
        return [rule for name, rule in self._rules.items() if name in needed]

    def wrap(self, open_: str, body: Expr | None, close: str, *, empty: bool) -> Expr | None:
        """``open_ body close`` laid out in this style; ``empty`` adds ``open_ close``."""
        inner: Expr | None = None
        if body is not None:
            if self.newline is not None:
                inner = Sequence((Literal(open_), self.newline, body, self.newline, Literal(close)))
            else:
                inner = Sequence((Literal(open_), body, Literal(close)))
        alts = [a for a in (Literal(open_ + close) if empty else None, inner) if a is not None]
        if not alts:
            return None
        from wafer_grammar.convert.json_schema.numbers import alt

        return alt(*alts)

    def value_literal(self, value: Any) -> Expr:
        """Exactly ``value``, serialised in this style. With :attr:`whole_floats` (the
        specification's reading) an integral number also as ``n.0`` (numbers compare by
        value), and an object of up to three members in any order."""
        from wafer_grammar.convert.json_schema.numbers import alt, seq

        if isinstance(value, (int, float)) and not isinstance(value, bool) and self.whole_floats:
            return _number_literal(value)
        plain = not self.pretty and not self.whole_floats
        if not isinstance(value, (dict, list)) or not value or plain:
            return Literal(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

        if isinstance(value, dict):
            items = [
                seq(
                    Literal(json.dumps(str(k), ensure_ascii=False)),
                    self.colon,
                    self.value_literal(v),
                )
                for k, v in value.items()
            ]
        else:
            items = [self.value_literal(v) for v in value]
        orders = [items]
        if isinstance(value, dict) and self.whole_floats and len(items) <= _PERMUTED:
            orders = [list(p) for p in permutations(items)]
        bodies: list[Expr | None] = []
        for order in orders:
            parts: list[Expr | None] = []
            for i, item in enumerate(order):
                parts += [self.comma, item] if i else [item]
            bodies.append(seq(*parts))
        body = alt(*bodies)
        opener, closer = ("{", "}") if isinstance(value, dict) else ("[", "]")
        out = self.wrap(opener, body, closer, empty=False)
        assert out is not None
        return out


#: Objects of up to this many members are listed in every order (closed=False).
_PERMUTED = 3
#: Integers up to this size are exact as floats: ``n.0`` decodes to a float equal to ``n``.
_EXACT_FLOAT = 2**53


def _number_literal(value: float) -> Expr:
    text = json.dumps(value)
    if not math.isfinite(value) or value != int(value) or abs(value) > _EXACT_FLOAT:
        return Literal(text)
    whole = str(int(value))
    return Choice((Literal(whole), Sequence((Literal(whole + "."), Repeat(Literal("0"), 1, None)))))


def _seq_refs(names: set[str]) -> Expr:
    refs = tuple(RuleRef(n) for n in sorted(names))
    if not refs:
        return Literal("")
    return refs[0] if len(refs) == 1 else Sequence(refs)
