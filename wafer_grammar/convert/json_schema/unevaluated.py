"""``unevaluatedProperties`` and ``unevaluatedItems`` rewritten where evaluation is static.

What a schema *evaluates* is what its own ``properties`` (``prefixItems``,
``items`` ...) and those of its in-place subschemas name. The unconditional ones
(``allOf``, ``$ref``) always count; the conditional ones (``anyOf``/``oneOf``
branches, ``if``, ``then``, ``else``, ``dependentSchemas``) count when they pass.
With conditional evaluators ``c1..ck`` the keyword means exactly

    any subset S of them: every ci in S passes, and what is evaluated by the
    unconditional ones and by S is closed off by the keyword's schema

(take S = the ones that pass; conversely passing more only evaluates more). The
closure is ``properties: {name: true ...}, additionalProperties: U`` (for items
``prefixItems: [true]*n, items: U``), a plain conjunct the converter merges (with
``patternProperties: {p: true ...}`` for patterns). ``contains`` and ``$dynamicRef`` in
the evaluation make it :class:`Inexpressible`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from wafer_grammar.convert.json_schema.logic import Inexpressible, Resolver, both, either, negate

Schema = dict[str, Any]
_MAX_CONDITIONS = 4
_MAX_DEPTH = 16


@dataclass
class Evaluated:
    """What one evaluator marks evaluated: property names (items: a prefix length), or all."""

    names: set[str] = field(default_factory=set)
    patterns: set[str] = field(default_factory=set)
    prefix: int = 0
    everything: bool = False

    def add(self, other: Evaluated) -> None:
        self.names |= other.names
        self.patterns |= other.patterns
        self.prefix = max(self.prefix, other.prefix)
        self.everything = self.everything or other.everything

    @property
    def empty(self) -> bool:
        return not self.names and not self.patterns and not self.prefix and not self.everything


def rewrite_unevaluated(schema: Schema, resolve: Resolver) -> Schema:
    """``schema`` without ``unevaluatedProperties``/``unevaluatedItems``, meaning the same.

    Raises:
        Inexpressible: the evaluated set depends on more than this rewrite follows.
    """
    out = schema
    for key, items in (("unevaluatedProperties", False), ("unevaluatedItems", True)):
        if key not in out:
            continue
        rest = {k: v for k, v in out.items() if k != key}
        closing = out[key]
        base = Evaluated()
        conditions: list[tuple[Any, Evaluated]] = []
        try:
            _collect(rest, resolve, items, base, conditions, True, key, 0)
        except Inexpressible as exc:
            if exc.keyword == key:
                raise
            raise Inexpressible(key, f'depends on "{exc.keyword}", which {exc.reason}') from exc
        if len(conditions) > _MAX_CONDITIONS:
            raise Inexpressible(key, "depends on too many conditional subschemas")
        parts = []
        for n in range(len(conditions) + 1):
            for chosen in combinations(conditions, n):
                seen = Evaluated()
                seen.add(base)
                guard: Any = True
                for cond, found in chosen:
                    seen.add(found)
                    guard = both(guard, cond)
                parts.append(both(guard, _closure(seen, closing, items)))
        rest["allOf"] = [*rest.get("allOf", []), either(parts)]
        out = rest
    return out


def _closure(seen: Evaluated, closing: Any, items: bool) -> Any:
    if seen.everything or closing is True:
        return True
    if items:
        return {"prefixItems": [True] * seen.prefix, "items": closing}
    out: Schema = {"properties": dict.fromkeys(sorted(seen.names), True)}
    if seen.patterns:
        out["patternProperties"] = dict.fromkeys(sorted(seen.patterns), True)
    out["additionalProperties"] = closing
    return out


def _collect(
    schema: Any,
    resolve: Resolver,
    items: bool,
    into: Evaluated,
    conditions: list[tuple[Any, Evaluated]],
    guard: Any,
    key: str,
    depth: int,
) -> None:
    """What ``schema`` evaluates unconditionally (into ``into``) and under conditions."""
    if depth > _MAX_DEPTH:
        raise Inexpressible(key, "follows references too deeply (a cycle?)")
    if not isinstance(schema, dict):
        return
    if "$dynamicRef" in schema:
        raise Inexpressible(key, "depends on a $dynamicRef, which this rewrite does not follow")
    if items:
        if "contains" in schema:
            raise Inexpressible(key, 'depends on "contains", which evaluates items one by one')
        if "items" in schema or "unevaluatedItems" in schema or "additionalItems" in schema:
            into.everything = True
        if isinstance(schema.get("items"), list):  # draft-04 tuples
            into.prefix = max(into.prefix, len(schema["items"]))
        into.prefix = max(into.prefix, len(schema.get("prefixItems", [])))
    else:
        into.patterns |= set(schema.get("patternProperties") or {})
        if "additionalProperties" in schema or "unevaluatedProperties" in schema:
            into.everything = True
        into.names |= set(schema.get("properties", {}))
    if "$ref" in schema:
        _collect(resolve(schema["$ref"]), resolve, items, into, conditions, guard, key, depth + 1)
    for sub in schema.get("allOf", []):
        _collect(sub, resolve, items, into, conditions, guard, key, depth + 1)
    # (when it counts, what evaluates): a failed "if" keeps no annotations, so "else"
    # counts under "not if" but only its own evaluations do.
    branches: list[tuple[Any, Any]] = [(b, b) for b in schema.get("anyOf", [])]
    branches += [(b, b) for b in schema.get("oneOf", [])]
    if "if" in schema:
        cond = schema["if"]
        branches.append((cond, cond))
        if "then" in schema:
            branches.append((both(cond, schema["then"]), schema["then"]))
        if "else" in schema:
            branches.append((both(negate(cond, resolve), schema["else"]), schema["else"]))
    for name, sub in (schema.get("dependentSchemas") or {}).items():
        branches.append((both({"required": [name]}, sub), sub))
    for when, source in branches:
        found = Evaluated()
        inner: list[tuple[Any, Evaluated]] = []
        here = both(guard, when)
        _collect(source, resolve, items, found, inner, here, key, depth + 1)
        if not found.empty:
            conditions.append((here, found))
        conditions.extend(inner)
