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
from itertools import combinations
from typing import TYPE_CHECKING, Any

from wafer_grammar.convert.json_schema.keys import TooLarge, key_space
from wafer_grammar.convert.json_schema.keywords import ANNOTATIONS, child
from wafer_grammar.convert.json_schema.merge import normalize
from wafer_grammar.convert.json_schema.numbers import alt, seq
from wafer_grammar.convert.regex import python_regex_to_expr
from wafer_grammar.ebnf.syntax import CharClass, Expr, Literal, Repeat, RuleRef
from wafer_grammar.errors import RegexUnsupported, UnsupportedSchema

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


#: At most this many patterns (their match sets are enumerated).
MAX_PATTERNS = 4
_ANY_CHAR = CharClass(((0, 0x10FFFF),))


def keyed_members(
    conv: SchemaConverter,
    schema: dict[str, Any],
    pointer: str,
    props: dict[str, Any],
    extra: Any,
    undeclared: list[str],
) -> tuple[dict[str, Any], Expr | None] | None:
    """``patternProperties`` and ``propertyNames`` as key languages.

    Returns each key's schema in ``props`` (with the patterns that match it; false where
    the names forbid it; ``undeclared`` ones, required only, get ``extra`` only where
    no pattern matches) and the other members (a key class per set of matching
    patterns, ``extra`` for keys no pattern matches); None when not expressible.
    """
    patterns: dict[str, Any] = dict(schema.get("patternProperties") or {})
    constraints = _name_constraints(conv, schema.get("propertyNames", True), pointer)
    if constraints is None:  # no key is allowed
        return dict.fromkeys(props, False), None
    kept: list[str] = []
    exprs: list[Expr] = []
    for pattern in patterns:
        where = child(pointer, "patternProperties", pattern)
        try:
            exprs.append(python_regex_to_expr(pattern, search=True, ecma_safe=True))
        except RegexUnsupported as exc:
            conv.unsupported("patternProperties", where, f"cannot be converted: {exc.reason}")
            continue
        kept.append(pattern)
    if len(kept) > MAX_PATTERNS:
        conv.unsupported("patternProperties", pointer, f"has more than {MAX_PATTERNS} patterns")
        return None
    try:
        space = key_space(list(props), exprs, constraints)
    except TooLarge:
        conv.unsupported("patternProperties", pointer, "needs too large a key automaton")
        return None
    values: dict[str, Any] = {}
    for key, sub in props.items():
        hits = [patterns[kept[j]] for j in sorted(space.matches(key))]
        if key in undeclared and hits:
            sub = True  # a pattern matches it: additionalProperties does not apply
        values[key] = _all(sub, *hits) if space.allowed(key) else False
    extras: list[Expr | None] = []
    for n in range(len(kept) + 1):
        for chosen in combinations(range(len(kept)), n):
            value = _all(*(patterns[kept[j]] for j in chosen)) if chosen else extra
            if value is None or value is False:
                continue
            keys = space.keys(frozenset(chosen), conv.new_rule, conv.define)
            if keys is None:
                continue
            where = (
                child(pointer, "patternProperties", kept[chosen[0]])
                if chosen
                else child(pointer, "additionalProperties")
            )
            converted = conv.convert(value, where)
            extras.append(None if converted is None else seq(keys, conv.library.colon, converted))
    return values, alt(*extras)


def _all(*schemas: Any) -> Any:
    parts = [s for s in schemas if s is not True and s != {}]
    if any(s is False for s in parts):
        return False
    if not parts:
        return True
    return parts[0] if len(parts) == 1 else {"allOf": parts}


def _name_constraints(conv: SchemaConverter, names: Any, pointer: str) -> list[Expr] | None:
    """``propertyNames`` as full-match expressions on keys; None when no key is allowed."""
    if names is True:
        return []
    if names is False:
        return None
    where = child(pointer, "propertyNames")
    if not isinstance(names, dict):
        raise UnsupportedSchema("propertyNames", where, "must be a schema")
    out: list[Expr] = []
    for key, value in normalize(names).items():
        if key in ANNOTATIONS:
            continue
        if key == "type":
            types = value if isinstance(value, list) else [value]
            if "string" not in types:
                return None
        elif key == "pattern" and isinstance(value, str):
            try:
                out.append(python_regex_to_expr(value, search=True, ecma_safe=True))
            except RegexUnsupported as exc:
                conv.unsupported("pattern", where, f"cannot be converted: {exc.reason}")
        elif key in ("minLength", "maxLength"):
            if type(value) is not int or value < 0:
                raise UnsupportedSchema(
                    key, where, f"must be a non-negative integer, not {value!r}"
                )
            low = value if key == "minLength" else 0
            high = value if key == "maxLength" else None
            out.append(Repeat(_ANY_CHAR, low, high))
        elif key in ("const", "enum"):
            words = [value] if key == "const" else list(value)
            found = alt(*(Literal(w) for w in words if isinstance(w, str)))
            if found is None:
                return None
            out.append(found)
        else:
            conv.unsupported(key, where, "is not supported in propertyNames")
    return out
