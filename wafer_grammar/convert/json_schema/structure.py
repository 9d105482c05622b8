"""Objects and arrays: properties in declared order, optional ones skippable, counted items.

An object with optional properties is written without enumerating subsets:
the first property present picks an alternative, and every later one is
``("," member)?``, so the grammar grows linearly with the property count.
Extra properties (``additionalProperties`` true or a schema) come after the
declared ones, under keys that differ from every declared name.
A missing ``additionalProperties`` closes the object (OpenAI's and XGrammar's
strict reading): a narrowing, recorded in the coverage report. With ``closed=False``
it admits any other property, and members come in any order (``objects.any_order``);
counted members (min/maxProperties) always do. ``patternProperties`` and
``propertyNames`` make the keys regular languages (``objects.keyed_members``).
Arrays also count ``contains`` matches and list the few arrays ``uniqueItems`` allows.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from wafer_grammar.convert.json_schema.keywords import ANNOTATIONS, child
from wafer_grammar.convert.json_schema.logic import Inexpressible, both, negate
from wafer_grammar.convert.json_schema.merge import normalize
from wafer_grammar.convert.json_schema.numbers import alt, seq
from wafer_grammar.convert.json_schema.objects import Member, any_order, keyed_members
from wafer_grammar.ebnf.syntax import CharClass, Choice, Expr, Literal, Repeat, RuleRef, Sequence

if TYPE_CHECKING:
    from wafer_grammar.convert.json_schema.converter import SchemaConverter
    from wafer_grammar.convert.json_schema.library import Library

Schema = dict[str, Any]
_KEY_CHAR = CharClass(((0x00, 0x1F), (0x22, 0x22), (0x5C, 0x5C)), True)

#: Above this many alternatives x members, tails become rules instead of copies.
_INLINE_LIMIT = 24


class Structure:
    """Builds object and array expressions for a :class:`SchemaConverter`."""

    def __init__(self, library: Library, converter: SchemaConverter) -> None:
        self.lib = library
        self.conv = converter

    # -- objects ----------------------------------------------------------------------------
    def object(self, schema: Schema, pointer: str, rule: str | None) -> Expr | None:
        name = rule or self.conv.new_rule(_hint(pointer, "object"))
        props: dict[str, Any] = dict(schema.get("properties", {}))
        required = list(schema.get("required", []))
        extra = schema.get("additionalProperties")
        low = int(schema.get("minProperties", 0))
        high: int | None = schema.get("maxProperties")
        if extra is None and self.conv.open_objects:
            extra = True
            self.conv.coverage.record(
                pointer, "additionalProperties", "enforced", "absent: any value (closed=False)"
            )
        elif extra is None:
            self.conv.coverage.record(
                pointer,
                "additionalProperties",
                "enforced",
                "absent: read as false (only declared properties are generated)",
            )
        undeclared = [key for key in required if key not in props]
        for key in undeclared:  # required but undeclared: the additional schema applies
            props[key] = True if extra is None else extra
        keyed = None
        if schema.get("patternProperties") or schema.get("propertyNames", True) not in (True, {}):
            keyed = keyed_members(self.conv, schema, pointer, props, extra, undeclared)
        if keyed is not None:
            props = keyed[0]
        members: list[tuple[Expr | None, bool]] = []
        for key, sub in props.items():
            value = self.conv.convert(sub, child(pointer, "properties", key))
            member = None if value is None else seq(_key(key), self.lib.colon, value)
            members.append((member, key in required))
        extras = None
        if keyed is not None:
            extras = keyed[1]
        elif extra not in (None, False):
            value = self.conv.convert(extra, child(pointer, "additionalProperties"))
            if value is not None:
                extras = seq(self._other_key(props, name), self.lib.colon, value)
        declared = sum(m is not None for m, _ in members)
        if extras is not None and low > declared + 1:
            self.conv.unsupported(
                "minProperties",
                pointer,
                f"is {low}: other properties may repeat a key, so a grammar counts them once",
            )
            low = 0
        found = None
        if self.conv.open_objects or low or high is not None:
            found = any_order(
                self.conv, name, [Member(m, req) for m, req in members], extras, low, high
            )
            if found is None and (low or high is not None):
                key = "minProperties" if low else "maxProperties"
                self.conv.unsupported(key, pointer, "is not supported with this many properties")
        if found is None:
            if self.conv.open_objects:
                self.conv.coverage.record(
                    pointer, "properties", "enforced", "too many to track: in declared order"
                )
            body = self._members(members, extras, name)
            empty = not any(req for _, req in members)
        else:
            body, empty = found
        expr = self.lib.wrap("{", body, "}", empty=empty)
        if rule is not None:
            return expr
        if expr is None:
            del self.conv.bodies[name]  # no value: no rule
            return None
        return self.conv.define(name, expr)

    def _other_key(self, props: dict[str, Any], name: str) -> Expr:
        if not props:
            return self.lib.ref("string")
        trie: dict[str, Any] = {}
        for key in props:
            node = trie
            for ch in key:
                node = node.setdefault(ch, {})
            node[""] = {}
        body = not_in(trie)
        assert body is not None
        key_rule = self.conv.new_rule(f"{name}-other-key")
        ref = self.conv.define(key_rule, seq(Literal('"'), body, Literal('"')))
        assert ref is not None
        return ref

    def _members(
        self, members: list[tuple[Expr | None, bool]], extras: Expr | None, name: str
    ) -> Expr | None:
        """Comma-separated members in order, each optional one skippable, extras last."""
        if any(m is None and req for m, req in members):
            return None
        items: list[tuple[Expr, str]] = [(m, "req" if req else "opt") for m, req in members if m]
        if extras is not None:
            items.append((extras, "many"))
        if not items:
            return None
        comma = self.lib.comma

        def piece(expr: Expr, kind: str) -> Expr:
            one = seq(comma, expr)
            assert one is not None
            return one if kind == "req" else Repeat(one, 0, 1 if kind == "opt" else None)

        first_required = next((i for i, (_, k) in enumerate(items) if k == "req"), len(items))
        starts = range(min(first_required, len(items) - 1) + 1)
        use_rules = len(starts) * len(items) > _INLINE_LIMIT
        tails: dict[int, Expr] = {len(items): Literal("")}
        for k in range(len(items) - 1, 0, -1):
            body = seq(piece(*items[k]), tails[k + 1])
            assert body is not None
            if use_rules and k > 1:
                ref = self.conv.define(self.conv.new_rule(f"{name}-rest{k}"), body)
                assert ref is not None
                tails[k] = ref
            else:
                tails[k] = body
        alternatives: list[Expr | None] = []
        for i in starts:
            expr, kind = items[i]
            again = Repeat(seq(comma, expr) or expr, 0, None) if kind == "many" else Literal("")
            alternatives.append(seq(expr, again, tails[i + 1]))
        return alt(*alternatives)

    # -- arrays ------------------------------------------------------------------------------
    def array(self, schema: Schema, pointer: str) -> Expr | None:
        prefix = list(schema.get("prefixItems", []))
        low = int(schema.get("minItems", 0))
        high: int | None = schema.get("maxItems")
        items = schema.get("items")
        if items is None and prefix and self.conv.open_objects:
            items = True
            self.conv.coverage.record(
                pointer, "items", "enforced", "absent after prefixItems: any value (closed=False)"
            )
        elif items is None and prefix:
            # Tuple semantics: no items past the prefix unless minItems asks for them.
            items = low > len(prefix)
            cap = max(low, len(prefix))
            high = cap if high is None else min(high, cap)
            self.conv.coverage.record(
                pointer, "items", "enforced", "absent after prefixItems: read as false"
            )
        elif items is None:
            items = True
        if "contains" in schema:
            if prefix or low > schema.get("minContains", 1) or high is not None:
                self.conv.unsupported(
                    "contains", pointer, "cannot be combined with prefixItems or maxItems"
                )
            else:
                return self._contains(schema, items, pointer)
        if schema.get("uniqueItems") is True and (high is None or high > 1):
            listed = self._unique(prefix, items, low, high)
            if listed is not False:
                assert listed is not True
                return listed
            self.conv.unsupported(
                "uniqueItems", pointer, "is supported over finitely many arrays only"
            )
        exprs = [
            self.conv.convert(s, child(pointer, "prefixItems", i)) for i, s in enumerate(prefix)
        ]
        rest = None if items is False else self.conv.convert(items, child(pointer, "items"))
        if rest is None:
            high = len(exprs) if high is None else min(high, len(exprs))
        if high is not None and high < low:
            self.conv.empty(
                "minItems", pointer, f"is {low}, more than maxItems {high}: no array fits"
            )
            return None
        body = self._elements(exprs, rest, max(low, 1), high)
        return self.lib.wrap("[", body, "]", empty=low == 0)

    def _contains(self, schema: Schema, items: Any, pointer: str) -> Expr | None:
        """Arrays of ``items`` with ``minContains..maxContains`` elements matching ``contains``.

        State ``j`` counts the matches so far (capped at the minimum when there is no
        maximum): a comma and a match, a comma and a non-match, or the end once ``j`` is
        enough. With a maximum the non-matches are ``items`` and ``not contains``.
        """
        low = schema.get("minContains", 1)
        high: int | None = schema.get("maxContains")
        wanted = schema["contains"]
        where = child(pointer, "contains")
        match = self.conv.convert(both(items, wanted), where)
        other = self.conv.convert(items, child(pointer, "items"))
        if high is not None:
            try:
                unwanted = negate(wanted, lambda r: self.conv.resolve(r, pointer)[1])
            except Inexpressible as exc:
                self.conv.unsupported(
                    "maxContains", pointer, f'needs "{exc.keyword}" negated: it {exc.reason}'
                )
                high = None
            else:
                other = self.conv.convert(both(items, unwanted), where)
        if high is not None and high < low:
            self.conv.empty("minContains", pointer, f"is {low}, more than maxContains {high}")
            return None
        top = low if high is None else high
        comma = self.lib.comma
        name = self.conv.new_rule(_hint(pointer, "array") + "-contains")
        names = [name] + [self.conv.new_rule(f"{name}{j}") for j in range(1, top + 1)]

        def step(j: int, lead: Expr) -> Expr | None:
            nxt = min(j + 1, top)
            grow = None if high is not None and j >= high else match
            return alt(
                Literal("") if j >= low and lead != Literal("") else None,
                seq(lead, grow, RuleRef(names[nxt])) if grow is not None else None,
                seq(lead, other, RuleRef(names[j])) if other is not None else None,
            )

        for j in range(top + 1):
            self.conv.define(names[j], step(j, comma) or Literal(""))
        body = step(0, Literal(""))
        return self.lib.wrap("[", body, "]", empty=low == 0)

    def _unique(
        self, prefix: list[Any], items: Any, low: int, high: int | None
    ) -> Expr | bool | None:
        """uniqueItems over finitely many arrays (``items: false``, each position a small
        set of values): the distinct ones, listed; False when there are not so few."""
        values = [finite_values(s) for s in prefix]
        if items is not False or any(v is None for v in values):
            return False
        top = len(prefix) if high is None else min(high, len(prefix))
        tuples: list[list[Any]] = [[]]
        found: list[list[Any]] = []
        for n in range(top + 1):
            if n >= low:
                found += [t for t in tuples if self.conv.valid(t, {"uniqueItems": True})]
            if n < top:
                tuples = [[*t, v] for t in tuples for v in values[n] or []]
                if len(tuples) > 256:
                    return False
        return alt(*(self.lib.value_literal(t) for t in found))

    def _elements(
        self, prefix: list[Expr | None], rest: Expr | None, low: int, high: int | None
    ) -> Expr | None:
        """``low..high`` (>= 1) comma-separated elements: the prefix in order, then ``rest``."""
        if high is not None and high < low:
            return None
        comma = self.lib.comma

        def from_position(j: int) -> Expr | None:
            if high is not None and j >= high:
                return Literal("")
            lead: Expr = comma if j else Literal("")
            if j < len(prefix):
                item = prefix[j]
                chain = None if item is None else seq(lead, item, from_position(j + 1))
                if j < low:
                    return chain
                return Literal("") if chain is None else Repeat(chain, 0, 1)
            if rest is None:
                return Literal("") if j >= low else None
            need = max(low - j, 0)
            more = None if high is None else high - j
            again = seq(comma, rest)
            assert again is not None
            if j == 0:  # need >= 1 here
                return seq(rest, Repeat(again, need - 1, None if more is None else more - 1))
            return Repeat(again, need, more)

        return from_position(0)


def finite_values(schema: Any) -> list[Any] | None:
    """The values ``schema`` admits when it plainly lists them (const, enum, boolean, null)."""
    if not isinstance(schema, dict):
        return None
    schema = {k: v for k, v in normalize(schema).items() if k not in ANNOTATIONS}
    if list(schema) == ["const"]:
        return [schema["const"]]
    if list(schema) == ["enum"]:
        return list(schema["enum"])
    if list(schema) == ["type"]:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if set(types) <= {"boolean", "null"}:
            return [v for t in types for v in ([True, False] if t == "boolean" else [None])]
    return None


def _key(name: str) -> Literal:
    return Literal(json.dumps(name, ensure_ascii=False))


def _hint(pointer: str, default: str) -> str:
    tokens = pointer.split("/")[1:]
    for token in reversed(tokens):
        if (
            token
            not in (
                "properties",
                "items",
                "prefixItems",
                "additionalProperties",
                "anyOf",
                "oneOf",
                "allOf",
            )
            and not token.isdigit()
        ):
            return token
    return default


def _unit(ch: str) -> str:
    """``ch`` as ``json.dumps`` writes it inside a string: raw, or its one escape."""
    return json.dumps(ch, ensure_ascii=False)[1:-1]


_ESCAPES = [_unit(chr(cp)) for cp in [*range(0x20), 0x22, 0x5C]]
#: Any escape ``json.dumps`` writes: ``\\"``, ``\\n``, ``\\u001f`` ...
_ANY_ESCAPE = Sequence(
    (
        Literal("\\"),
        Choice(
            (
                CharClass(tuple((ord(c), ord(c)) for c in '"\\bfnrt')),
                Sequence(
                    (
                        Literal("u00"),
                        Choice(
                            (
                                Sequence(
                                    (
                                        Literal("0"),
                                        CharClass(((0x30, 0x37), (0x62, 0x62), (0x65, 0x66))),
                                    )
                                ),
                                Sequence((Literal("1"), CharClass(((0x30, 0x39), (0x61, 0x66))))),
                            )
                        ),
                    )
                ),
            )
        ),
    )
)
#: Every character as its canonical unit: raw, or the one escape ``json.dumps`` writes.
_ANY_UNIT = Choice((_KEY_CHAR, _ANY_ESCAPE))


def not_in(trie: dict[str, Any]) -> Expr | None:
    """JSON string contents, each character written as ``json.dumps`` does, not one of the words."""
    children = {_unit(ch): sub for ch, sub in trie.items() if ch}
    raw = [u for u in children if len(u) == 1]
    others = CharClass(tuple(sorted({*_KEY_CHAR.ranges, *((ord(c), ord(c)) for c in raw)})), True)
    escaped = [e for e in _ESCAPES if e in children]
    other_escapes = (
        [Literal(e) for e in _ESCAPES if e not in children] if escaped else [_ANY_ESCAPE]
    )
    return alt(
        None if "" in trie else Literal(""),
        seq(alt(others, *other_escapes), Repeat(_ANY_UNIT, 0, None)),
        *(seq(Literal(unit), not_in(sub)) for unit, sub in children.items()),
    )
