"""Object members in any order, each declared key at most once, with counted members.

The members seen so far are a state: the set of declared keys used and how many
other members came (capped where the count no longer matters). Each state is a
rule: a comma and one more member (a declared key not used yet, or another key),
or the end once every required key is in and the count is within bounds. With
``n`` declared keys that is at most ``2**n`` states, so this is used for a few
keys only (:data:`MAX_KEYS`).

Counting is sound with repeated keys: a text ``{"x":1,"x":2}`` decodes to one
member, so other members count at most once towards ``minProperties`` and in full
towards ``maxProperties``; declared keys never repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from wafer_grammar.convert.json_schema.numbers import alt, seq
from wafer_grammar.ebnf.syntax import Expr, Literal, RuleRef

if TYPE_CHECKING:
    from wafer_grammar.convert.json_schema.converter import SchemaConverter

#: At most this many declared keys are tracked as sets; at most this many states.
MAX_KEYS = 6
MAX_STATES = 400


@dataclass(frozen=True)
class Member:
    """A declared key's member (``key: value`` text), None when its value admits nothing."""

    expr: Expr | None
    required: bool


def any_order(
    conv: SchemaConverter,
    name: str,
    members: list[Member],
    extras: Expr | None,
    low: int,
    high: int | None,
) -> tuple[Expr | None, bool] | None:
    """Members in any order, ``low..high`` of them: (body, whether ``{}`` is valid).

    The body is None when no non-empty object fits. Returns None (the caller falls
    back or refuses) when there would be too many states.
    """
    if any(m.expr is None and m.required for m in members):
        return None, False
    usable = [i for i, m in enumerate(members) if m.expr is not None]
    if len(usable) > MAX_KEYS:
        return None
    required = frozenset(i for i, m in enumerate(members) if m.required)
    cap = 0 if extras is None else (1 if high is None else high)
    if (2 ** len(usable)) * (cap + 1) > MAX_STATES:
        return None
    comma = conv.library.comma

    def fits(used: frozenset[int], count: int) -> bool:
        return required <= used and len(used) + min(count, 1) >= low

    def room(used: frozenset[int], count: int) -> bool:
        return high is None or len(used) + count + 1 <= high

    def moves(used: frozenset[int], count: int) -> list[tuple[Expr, frozenset[int], int]]:
        out: list[tuple[Expr, frozenset[int], int]] = []
        if not room(used, count):
            return out
        for i in usable:
            if i not in used:
                expr = members[i].expr
                assert expr is not None
                out.append((expr, used | {i}, count))
        if extras is not None:
            out.append((extras, used, min(count + 1, cap)))
        return out

    @cache
    def productive(used: frozenset[int], count: int) -> bool:
        if fits(used, count):
            return True
        return any((u, c) != (used, count) and productive(u, c) for _, u, c in moves(used, count))

    rules: dict[tuple[frozenset[int], int], RuleRef] = {}

    def state(used: frozenset[int], count: int) -> Expr:
        key = (used, count)
        if key in rules:
            return rules[key]
        steps = [(e, u, c) for e, u, c in moves(used, count) if productive(u, c)]
        if not steps:
            return Literal("")
        rule = conv.new_rule(f"{name}-m{len(rules) + 1}")
        ref = RuleRef(rule)
        rules[key] = ref
        body = alt(
            Literal("") if fits(used, count) else None,
            *(seq(comma, e, state(u, c)) for e, u, c in steps),
        )
        conv.define(rule, body)
        return ref

    start = frozenset[int]()
    first = [seq(e, state(u, c)) for e, u, c in moves(start, 0) if productive(u, c)]
    return alt(*first), fits(start, 0)
