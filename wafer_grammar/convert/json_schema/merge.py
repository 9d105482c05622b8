"""``allOf``: merging schemas into one, where the merge means exactly the conjunction.

Also the small normalisations the converter wants first (``nullable``, the
draft-04 boolean ``exclusiveMinimum``, tuple-form ``items``) and the
disjointness test that lets ``oneOf`` be converted like ``anyOf``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from wafer_grammar.convert.json_schema.keywords import ANNOTATIONS, JSON_TYPES, NOT_IN

Schema = dict[str, Any]
#: Resolves ``$ref`` values to schemas (one level).
Resolver = Callable[[str], Any]


class MergeConflict(Exception):
    """Two values of ``keyword`` cannot be combined into one schema."""

    def __init__(self, keyword: str, reason: str) -> None:
        self.keyword = keyword
        self.reason = reason
        super().__init__(reason)


#: Keywords whose value is a count: ``2.0`` means 2 (a JSON number with a zero fraction).
COUNTS = (
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
)


def normalize(schema: Schema) -> Schema:
    """``nullable``, boolean exclusive bounds and tuple ``items`` in their 2020-12 spelling;
    counts written as ``2.0`` as integers."""
    out = dict(schema)
    for key in COUNTS:
        value = out.get(key)
        if isinstance(value, float) and value.is_integer() and value >= 0:
            out[key] = int(value)
    if out.get("nullable") is True and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"] if "null" not in types else types
    for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(key), bool):
            if out[key] and bound in out:
                out[key] = out.pop(bound)
            else:
                del out[key]
    if isinstance(out.get("items"), list):
        out["prefixItems"] = out.pop("items")
        if "additionalItems" in out:
            out["items"] = out.pop("additionalItems")
    return out


def _types(schema: Schema) -> set[str] | None:
    if "type" not in schema:
        return None
    raw = schema["type"]
    return set(raw if isinstance(raw, list) else [raw])


def _intersect_types(a: set[str], b: set[str]) -> list[str]:
    out = a & b
    if ("number" in a and "integer" in b) or ("integer" in a and "number" in b):
        out.add("integer")
    if "integer" in out and "number" in out and not ("number" in a and "number" in b):
        out.discard("number")
    return sorted(out, key=lambda t: (*JSON_TYPES, "integer").index(t))


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _all_of(a: Any, b: Any) -> Any:
    if a is True or _same(a, {}):
        return b
    if b is True or _same(b, {}):
        return a
    if a is False or b is False:
        return False
    return {"allOf": [a, b]}


def merge(a: Schema, b: Schema) -> Schema:
    """One schema meaning ``a`` and ``b`` (both already free of ``allOf`` and ``$ref``).

    Raises:
        MergeConflict: a keyword pair with no single-schema form (two patterns ...).
    """
    a, b = _own_contains(normalize(a)), _own_contains(normalize(b))
    out: Schema = {}
    for key in [*a, *(k for k in b if k not in a)]:
        if key not in b or key in ANNOTATIONS:
            out[key] = a[key] if key in a else b[key]
        elif key not in a:
            out[key] = b[key]
        else:
            out[key] = _merge_key(key, a, b)
    _merge_arrays(a, b, out)
    _merge_closed_objects(a, b, out)
    if "const" in out and "enum" in out:
        out["enum"] = [v for v in out["enum"] if _same(v, out["const"])]
        del out["const"]
    return out


def _merge_key(key: str, a: Schema, b: Schema) -> Any:
    x, y = a[key], b[key]
    if _same(x, y):
        return x
    if key == "type":
        ta, tb = _types(a), _types(b)
        assert ta is not None and tb is not None
        return _intersect_types(ta, tb)
    if key == "enum":
        return [v for v in x if any(_same(v, w) for w in y)]
    if key == "const":
        return _Impossible
    if key == "required":
        return [*x, *(r for r in y if r not in x)]
    if key in ("minContains", "maxContains") and not _same(a["contains"], b["contains"]):
        raise MergeConflict("contains", 'two different "contains" cannot be combined into one')
    if key == "multipleOf" and all(type(v) is int for v in (x, y)):
        return x * y // math.gcd(x, y)
    if key in ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"):
        return max(x, y)
    if key == "minContains":
        return max(x, y)
    if key == "maxContains":
        return min(x, y)
    if key == "patternProperties":
        return {
            p: _all_of(x[p], y[p]) if p in x and p in y else x.get(p, y.get(p))
            for p in [*x, *(q for q in y if q not in x)]
        }
    if key == NOT_IN:
        return sorted({*x, *y})
    if key == "uniqueItems":
        return bool(x) or bool(y)
    if key in ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"):
        return min(x, y)
    if key == "properties":
        return {
            name: _all_of(x[name], y[name]) if name in x and name in y else x.get(name, y.get(name))
            for name in [*x, *(n for n in y if n not in x)]
        }
    if key == "prefixItems":
        return x  # placeholder: _merge_arrays combines the positions
    if key in ("additionalProperties", "items"):
        return _all_of(x, y)
    if key in ("anyOf", "oneOf"):
        if len(x) * len(y) > 64:
            raise MergeConflict(key, f'two "{key}" lists too large to combine')
        return [_all_of(s, t) for s in x for t in y]
    if key == "nullable":
        return bool(x) and bool(y)
    raise MergeConflict(key, f'two different "{key}" values cannot be combined into one')


def _own_contains(schema: Schema) -> Schema:
    """minContains/maxContains count matches of this schema's own ``contains``: without
    one they mean nothing (and must not meet another schema's)."""
    if "contains" in schema or not ({"minContains", "maxContains"} & set(schema)):
        return schema
    return {k: v for k, v in schema.items() if k not in ("minContains", "maxContains")}


def _merge_arrays(a: Schema, b: Schema, out: Schema) -> None:
    """Item ``i`` must satisfy both sides' schema for position ``i``: a prefix entry, or
    that side's ``items`` past its prefix (absent: any value)."""
    if "prefixItems" not in a and "prefixItems" not in b:
        return
    pa, pb = a.get("prefixItems", []), b.get("prefixItems", [])
    ia, ib = a.get("items", True), b.get("items", True)

    def at(prefix: list[Any], rest: Any, i: int) -> Any:
        return prefix[i] if i < len(prefix) else rest

    out["prefixItems"] = [
        _all_of(at(pa, ia, i), at(pb, ib, i)) for i in range(max(len(pa), len(pb)))
    ]
    if "items" in a or "items" in b:
        out["items"] = _all_of(ia, ib)


class _ImpossibleType:
    """A marker: the merged keyword admits nothing (two different ``const``)."""

    def __repr__(self) -> str:
        return "<impossible>"


_Impossible = _ImpossibleType()


def _merge_closed_objects(a: Schema, b: Schema, out: Schema) -> None:
    """A property one side does not declare must satisfy that side's additionalProperties."""
    for this, other in ((a, b), (b, a)):
        extra = this.get("additionalProperties", True)
        if extra is True:
            continue
        mine = this.get("patternProperties") or {}
        theirs = other.get("patternProperties") or {}
        if any(p not in mine for p in theirs):
            # Keys the other side's patterns match must meet this side's
            # additionalProperties too: no one schema says that.
            raise MergeConflict(
                "patternProperties", "patternProperties meet another additionalProperties"
            )
        declared = this.get("properties", {})
        props = dict(out.get("properties", {}))
        for name in other.get("properties", {}):
            if name not in declared and not any(_search(p, name) for p in mine):
                props[name] = _all_of(props[name], extra)
        if props:
            out["properties"] = props
    if out.get("const", None) is _Impossible:
        del out["const"]
        out["enum"] = []


def _search(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except (re.error, TypeError) as exc:
        raise MergeConflict(
            "patternProperties", f"holds a pattern Python cannot read: {exc}"
        ) from exc


def value_types(schema: Any, resolve: Resolver) -> set[str] | None:
    """The JSON types a schema can produce (``integer`` as ``number``); None if unknown."""
    schema = _deref(schema, resolve)
    if not isinstance(schema, dict):
        return None
    values = _values(schema)
    if values is not None:
        return {json_type_of(v) for v in values}
    types = _types(normalize(schema))
    return None if types is None else {"number" if t == "integer" else t for t in types}


def _deref(schema: Any, resolve: Resolver) -> Any:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 32:
        schema = resolve(schema["$ref"])
        seen += 1
    return schema


def _values(schema: Schema) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    return None


def json_type_of(value: Any) -> str:
    """The JSON type of a decoded value (integers and floats are ``number``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def disjoint(branches: list[Any], resolve: Resolver) -> bool:
    """Whether no value can satisfy two of ``branches`` (so oneOf == anyOf), as far as shown."""
    kinds = [value_types(b, resolve) for b in branches]
    if all(k is not None for k in kinds):
        seen: set[str] = set()
        clash = False
        for kind in kinds:
            assert kind is not None
            clash = clash or bool(kind & seen)
            seen |= kind
        if not clash:
            return True
    values = [_values(s) if isinstance(s := _deref(b, resolve), dict) else None for b in branches]
    if all(v is not None for v in values) and _pairwise_disjoint([v or [] for v in values]):
        return True
    return _tagged(branches, resolve)


def _pairwise_disjoint(groups: list[list[Any]]) -> bool:
    keys = [{json.dumps(v, sort_keys=True) for v in group} for group in groups]
    return all(not (keys[i] & keys[j]) for i in range(len(keys)) for j in range(i))


def _tagged(branches: list[Any], resolve: Resolver) -> bool:
    """Objects told apart by a required property with different const/enum values."""
    schemas = [_deref(b, resolve) for b in branches]
    if not all(isinstance(s, dict) and _types(s) == {"object"} for s in schemas):
        return False
    common = set.intersection(*(set(s.get("required", [])) for s in schemas))
    for name in sorted(common):
        tags = [
            _values(_deref(s.get("properties", {}).get(name, {}), resolve) or {}) for s in schemas
        ]
        if all(t is not None for t in tags) and _pairwise_disjoint([t or [] for t in tags]):
            return True
    return False
