"""``not``, ``if``/``then``/``else``, ``dependentRequired``, ``dependentSchemas`` and overlapping
``oneOf`` rewritten into the keywords a grammar enforces, by exact negation.

:func:`negate` writes the complement of a schema as the union of its violations,
one per keyword: ``minimum: 5`` is violated exactly by numbers below 5, ``required:
[a]`` by objects without ``a`` (``properties: {a: false}``), ``items: S`` by arrays
that contain a value of ``not S``. A keyword whose violations have no such form
(``pattern``, ``format``, ``multipleOf``, string or object ``enum`` values ...) makes
the negation :class:`Inexpressible`, and the converter refuses it. Each rewrite means
exactly what the schema means (the converter then narrows only where it always does).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

from wafer_grammar.convert.json_schema.keywords import (
    ANNOTATIONS,
    FRACTION,
    JSON_TYPES,
    NOT_IN,
)
from wafer_grammar.convert.json_schema.merge import disjoint, json_type_of, normalize

Schema = dict[str, Any]
Resolver = Callable[[str], Any]
_MAX_DEPTH = 24
#: The keywords :func:`expand` rewrites away.
REWRITTEN = ("not", "if", "then", "else", "dependentRequired", "dependentSchemas")
_COUNTED = {
    "minLength": ("string", "maxLength", -1),
    "maxLength": ("string", "minLength", 1),
    "minItems": ("array", "maxItems", -1),
    "maxItems": ("array", "minItems", 1),
    "minProperties": ("object", "maxProperties", -1),
    "maxProperties": ("object", "minProperties", 1),
}
_BOUNDS = {
    "minimum": "exclusiveMaximum",
    "exclusiveMinimum": "maximum",
    "maximum": "exclusiveMinimum",
    "exclusiveMaximum": "minimum",
}


class Inexpressible(Exception):
    """The complement of ``keyword``'s schema has no form the converter enforces."""

    def __init__(self, keyword: str, reason: str) -> None:
        self.keyword = keyword
        self.reason = reason
        super().__init__(reason)


def both(a: Any, b: Any) -> Any:
    """``a`` and ``b``."""
    if a is True:
        return b
    if b is True:
        return a
    if a is False or b is False:
        return False
    return {"allOf": [a, b]}


def either(parts: list[Any]) -> Any:
    """Any of ``parts``."""
    parts = [p for p in parts if p is not False]
    if not parts:
        return False
    if any(p is True for p in parts):
        return True
    return parts[0] if len(parts) == 1 else {"anyOf": parts}


def expand(schema: Schema, resolve: Resolver, fail: Callable[[str, str], None]) -> Schema:
    """``schema`` with :data:`REWRITTEN` keywords as ``allOf`` entries.

    ``fail(keyword, reason)`` is called for one that cannot be rewritten (it raises in
    strict mode; otherwise the keyword is left to a validator and dropped here).
    """
    if not any(k in schema for k in REWRITTEN):
        return schema
    extra: list[Any] = []

    def attempt(keyword: str, build: Callable[[], Any]) -> None:
        try:
            extra.append(build())
        except Inexpressible as exc:
            fail(keyword, exc.reason)

    if "not" in schema:
        attempt("not", lambda: negate(schema["not"], resolve))
    if "if" in schema:
        cond, yes, no = schema["if"], schema.get("then", True), schema.get("else", True)
        if yes is not True or no is not True:
            attempt("if", lambda: either([both(cond, yes), both(negate(cond, resolve), no)]))
    for key, names in (schema.get("dependentRequired") or {}).items():
        if names:
            extra.append(either([{"properties": {key: False}}, {"required": [key, *names]}]))
    for key, sub in (schema.get("dependentSchemas") or {}).items():
        if sub is not True:
            extra.append(either([{"properties": {key: False}}, both({"required": [key]}, sub)]))
    out = {k: v for k, v in schema.items() if k not in REWRITTEN}
    kept = [e for e in extra if e is not True]
    if kept:
        out["allOf"] = [*schema.get("allOf", []), *kept]
    return out


def exclusive(branches: list[Any], resolve: Resolver) -> list[Any]:
    """``oneOf`` branches made disjoint: branch ``i`` and not any other."""
    if len(branches) < 2 or disjoint(branches, resolve):
        return branches
    negated = [negate(b, resolve) for b in branches]
    out = []
    for i, branch in enumerate(branches):
        part = branch
        for j, other in enumerate(negated):
            if j != i:
                part = both(part, other)
        out.append(part)
    return out


def negate(schema: Any, resolve: Resolver, depth: int = 0) -> Any:
    """A schema valid exactly where ``schema`` is not.

    Raises:
        Inexpressible: some keyword's violations have no form the converter enforces.
    """
    if depth > _MAX_DEPTH:
        raise Inexpressible("not", "nests too deeply to negate (a reference cycle?)")
    if schema is True or schema is False:
        return not schema
    if not isinstance(schema, dict):
        raise Inexpressible("not", f"holds {type(schema).__name__}, not a schema")
    s = normalize({k: v for k, v in schema.items() if k not in ANNOTATIONS})
    parts: list[Any] = [s.pop("not")] if "not" in s else []  # not S fails exactly on S
    s = expand(s, resolve, _refuse)
    for key, value in s.items():
        parts += _violations(key, value, s, resolve, depth + 1)
    return either(parts)


def _refuse(keyword: str, reason: str) -> None:
    raise Inexpressible(keyword, reason)


def _violations(key: str, value: Any, s: Schema, resolve: Resolver, depth: int) -> list[Any]:
    if key == "$ref":
        return [negate(resolve(value), resolve, depth)]
    if key == "type":
        return [_other_types(value)]
    if key in ("enum", "const"):
        return _not_values([value] if key == "const" else list(value))
    if key in _BOUNDS:
        return [{"type": "number", _BOUNDS[key]: value}]
    if key in _COUNTED:
        kind, other, step = _COUNTED[key]
        if key.startswith("min") and value == 0:
            return []
        return [{"type": kind, other: value + step}]
    if key == "required":
        return [{"type": "object", "properties": {name: False}} for name in value]
    if key == "properties":
        out: list[Any] = []
        for name, sub in value.items():
            bad = negate(sub, resolve, depth)
            if bad is not False:
                out.append({"type": "object", "required": [name], "properties": {name: bad}})
        return out
    if key == "items":
        if "prefixItems" in s:
            raise Inexpressible("items", "after prefixItems cannot be negated")
        bad = negate(value, resolve, depth)
        return [] if bad is False else [{"type": "array", "contains": bad}]
    if key == "prefixItems":
        if "items" in s:
            raise Inexpressible("prefixItems", "with items cannot be negated")
        found: list[Any] = []
        for i, sub in enumerate(value):
            bad = negate(sub, resolve, depth)
            if bad is not False:
                found.append(
                    {"type": "array", "minItems": i + 1, "prefixItems": [True] * i + [bad]}
                )
        return found
    if key == "contains":
        return _not_contains(value, s)
    if key in ("minContains", "maxContains"):
        return []
    if key == "anyOf":
        return [{"allOf": [negate(b, resolve, depth) for b in value]}]
    if key == "allOf":
        return [negate(b, resolve, depth) for b in value]
    if key == "oneOf":
        if not disjoint(value, resolve):
            raise Inexpressible("oneOf", "with branches that may overlap cannot be negated")
        return [{"allOf": [negate(b, resolve, depth) for b in value]}]
    if key == "additionalProperties" and value is False and not s.get("properties"):
        return [{"type": "object", "minProperties": 1}]
    if key in ("$defs", "definitions"):
        return []
    raise Inexpressible(key, f'cannot be negated: the values that fail "{key}" have no grammar')


def _other_types(value: Any) -> Any:
    types = set(value if isinstance(value, list) else [value])
    rest = [t for t in JSON_TYPES if t not in types and not (t == "number" and "integer" in types)]
    if "integer" in types and "number" not in types:
        return either([{"type": rest}, {"type": "number", FRACTION: True}])
    return {"type": rest} if rest else False


def _not_values(values: list[Any]) -> list[Any]:
    present = {json_type_of(v) for v in values}
    hard = present & {"array", "object"}
    if hard:
        raise Inexpressible(
            "enum", f"with {sorted(hard)[0]} values cannot be negated: no grammar for the rest"
        )
    out: list[Any] = []
    others = [t for t in JSON_TYPES if t not in present]
    if others:
        out.append({"type": others})
    strings = sorted({v for v in values if isinstance(v, str)})
    if strings:
        out.append({"type": "string", NOT_IN: strings})
    flags = {v for v in values if isinstance(v, bool)}
    if len(flags) == 1:
        out.append({"const": not next(iter(flags))})
    numbers = sorted({v for v in values if json_type_of(v) == "number"})
    if numbers:
        out.append({"type": "number", "exclusiveMaximum": numbers[0]})
        for low, high in pairwise(numbers):
            out.append({"type": "number", "exclusiveMinimum": low, "exclusiveMaximum": high})
        out.append({"type": "number", "exclusiveMinimum": numbers[-1]})
    return out


def _not_contains(value: Any, s: Schema) -> list[Any]:
    low = s.get("minContains", 1)
    high = s.get("maxContains")
    out: list[Any] = []
    if low > 0:
        out.append({"type": "array", "contains": value, "minContains": 0, "maxContains": low - 1})
    if high is not None:
        out.append({"type": "array", "contains": value, "minContains": high + 1})
    return out
