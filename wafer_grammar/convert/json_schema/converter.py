"""The JSON Schema -> grammar walk: dispatch, references, rules, coverage.

One schema node becomes one expression; object schemas and ``$ref`` targets
become rules of their own (named after their property or definition), so the
grammar reads like the schema and recursion is just a rule that refers to
itself. Shared pieces (any value, strings, numbers, formats) are added at the
end, only those used. Before a node is converted, ``unevaluated*`` (``unevaluated``)
and ``not``/``if``/``dependent*`` (``logic``) are rewritten into ``allOf``/``anyOf`` of
keywords the walk enforces, exactly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any
from urllib.parse import unquote

from wafer_grammar.convert.json_schema.divisible import MAX_DIVISOR, multiples
from wafer_grammar.convert.json_schema.formats import FORMATS, SPEC_FORMATS, format_lengths
from wafer_grammar.convert.json_schema.keywords import (
    ALL_TYPES,
    ANNOTATIONS,
    ENFORCED,
    FRACTION,
    JSON_TYPES,
    NOT_IN,
    TYPE_KEYWORDS,
    VALIDATION_ONLY,
    child,
    unescape_pointer,
)
from wafer_grammar.convert.json_schema.library import Library
from wafer_grammar.convert.json_schema.logic import Inexpressible, exclusive, expand
from wafer_grammar.convert.json_schema.merge import (
    COUNTS,
    MergeConflict,
    merge,
    normalize,
)
from wafer_grammar.convert.json_schema.numbers import alt, number_range, seq
from wafer_grammar.convert.json_schema.strings import json_encode, limit_length, string_of_length
from wafer_grammar.convert.json_schema.structure import Structure, not_in
from wafer_grammar.convert.json_schema.unevaluated import rewrite_unevaluated
from wafer_grammar.convert.regex import python_regex_to_expr
from wafer_grammar.convert.schema_coverage import Coverage
from wafer_grammar.ebnf.syntax import Choice, Expr, Literal, RuleOption, RuleRef
from wafer_grammar.errors import RegexUnsupported, UnsupportedSchema

Schema = dict[str, Any]
_MAX_DEPTH = 64
_NAME_BAD = re.compile(r"[^A-Za-z0-9_.\-]+")


def _check_not_in(validator: Any, words: Any, instance: Any, schema: Any) -> Any:
    if isinstance(instance, str) and instance in words:
        yield _error(f"{instance!r} is one of the excluded strings")


def _check_fraction(validator: Any, flag: Any, instance: Any, schema: Any) -> Any:
    if flag and validator.is_type(instance, "integer"):
        yield _error(f"{instance!r} is an integer")


def _error(message: str) -> Any:
    from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped,unused-ignore]

    return ValidationError(message)


class SchemaConverter:
    """Converts one schema; read :attr:`coverage` and call :meth:`rules` after :meth:`convert`."""

    def __init__(self, schema: Any, *, strict: bool, whitespace: str, closed: bool = True) -> None:
        if whitespace not in ("compact", "pretty"):
            raise ValueError(f'whitespace must be "compact" or "pretty", not {whitespace!r}')
        self.root_schema = schema
        self.strict = strict
        self.open_objects = not closed
        self.coverage = Coverage()
        self.library = Library(pretty=whitespace == "pretty")
        self.library.whole_floats = not closed
        self.shape = Structure(self.library, self)
        self.bodies: dict[str, Expr | None] = {"root": None}
        self.options: dict[str, tuple[RuleOption, ...]] = {}
        self.ref_names: dict[str, str] = {"": "root"}
        self._validator: Any = None
        self._multiples: dict[int, Expr] = {}
        self.first_empty: tuple[str, str, str] | None = None
        """``(keyword, pointer, reason)`` of the first piece found to admit no value:
        the cause to name when the whole schema admits none."""

    def empty(self, keyword: str, pointer: str, reason: str) -> None:
        """Note that the schema at ``pointer`` admits no value (returns nothing: callers
        return None); the first such note is the cause reported if the root is empty."""
        if self.first_empty is None:
            self.first_empty = (keyword, pointer, reason)

    # -- reporting ---------------------------------------------------------------------
    def unsupported(self, keyword: str, pointer: str, reason: str) -> None:
        """Raise (strict) or record ``keyword`` as checked after decoding."""
        if self.strict:
            raise UnsupportedSchema(keyword, pointer, reason)
        self.coverage.record(pointer, keyword, "checked-after-decoding", reason)

    def _classify(self, schema: Schema, pointer: str, *, values_only: bool) -> None:
        for key in schema:
            if key in ANNOTATIONS:
                self.coverage.record(pointer, key, "ignored", "does not constrain values")
            elif key in ENFORCED or (values_only and key in VALIDATION_ONLY):
                continue
            elif key == "$dynamicRef":
                self.unsupported(
                    key,
                    pointer,
                    "may resolve to one of several $dynamicAnchor (the dynamic scope decides): "
                    "a grammar cannot follow it",
                )
            elif key in VALIDATION_ONLY:
                self.unsupported(key, pointer, "is not supported: a grammar cannot enforce it")
            elif self.strict:
                raise UnsupportedSchema(
                    key, pointer, "is not a JSON Schema keyword this converter knows (a typo?)"
                )
            else:
                self.coverage.record(pointer, key, "ignored", "unknown keyword")

    # -- rules ----------------------------------------------------------------------------
    def new_rule(self, hint: str) -> str:
        """A fresh rule name made from ``hint``, reserved at once (its body comes later)."""
        base = _NAME_BAD.sub("-", hint).strip("-") or "schema"
        if base[0].isdigit() or base in ("true", "false"):
            base = "r-" + base
        name, n = base, 1
        while name in self.bodies or name in self.library.names:
            n += 1
            name = f"{base}-{n}"
        self.bodies[name] = None
        return name

    def define(self, name: str, body: Expr | None, *options: RuleOption) -> RuleRef | None:
        self.bodies[name] = body
        if options:
            self.options[name] = options
        return None if body is None else RuleRef(name)

    def resolve(self, ref: str, pointer: str) -> tuple[str, Any]:
        """The pointer and schema ``ref`` names (local references only)."""
        if not ref.startswith("#"):
            raise UnsupportedSchema(
                "$ref",
                pointer,
                f'points outside this schema ("{ref}"): only "#..." references are supported',
            )
        target_pointer = unquote(ref[1:])
        node: Any = self.root_schema
        for token in target_pointer.split("/")[1:]:
            token = unescape_pointer(token)
            if isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            elif isinstance(node, dict) and token in node:
                node = node[token]
            else:
                raise UnsupportedSchema("$ref", pointer, f'points to "{ref}", which does not exist')
        return target_pointer, node

    def ref_rule(self, ref: str, pointer: str) -> RuleRef | None:
        target_pointer, target = self.resolve(ref, pointer)
        if target_pointer in self.ref_names:
            return RuleRef(self.ref_names[target_pointer])
        name = self.new_rule(unescape_pointer(target_pointer.rsplit("/", 1)[-1]))
        self.ref_names[target_pointer] = name
        body = self.convert(target, target_pointer, rule=name)
        if body is None:
            raise UnsupportedSchema("$ref", pointer, f'points to "{ref}", which admits no value')
        return self.define(name, body)

    # -- the walk ------------------------------------------------------------------------
    def convert(
        self, schema: Any, pointer: str, *, rule: str | None = None, depth: int = 0
    ) -> Expr | None:
        """The expression for ``schema``; None when it admits no value.

        ``rule`` names the rule this expression will be the body of (objects
        then need no rule of their own).
        """
        if depth > _MAX_DEPTH:
            raise UnsupportedSchema(
                "allOf", pointer, "nests too deeply to merge (a reference cycle?)"
            )
        if schema is True or schema == {}:
            return self.library.ref("value")
        if schema is False:
            self.empty("false", pointer, "is false: no value is valid")
            return None
        if not isinstance(schema, dict):
            raise UnsupportedSchema("type", pointer, f"holds {type(schema).__name__}, not a schema")
        values_only = "enum" in schema or "const" in schema
        self._classify(schema, pointer, values_only=values_only)
        for key in schema:
            if key in ENFORCED or (values_only and key in VALIDATION_ONLY):
                self.coverage.record(pointer, key, "enforced")
        schema = normalize(schema)
        for key in COUNTS:
            value = schema.get(key)
            if value is not None and (type(value) is not int or value < 0):
                raise UnsupportedSchema(
                    key, pointer, f"must be a non-negative integer, not {value!r}"
                )
        if not values_only:  # enum/const filter their values with every keyword instead
            schema = self._expand(schema, pointer)
        constraints = [k for k in schema if k not in ANNOTATIONS]
        if "$ref" in schema and constraints == ["$ref"]:
            return self.ref_rule(schema["$ref"], pointer)
        if "$ref" in schema or "allOf" in schema:
            return self._all_of(schema, pointer, rule, depth)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self._any_of(key, schema, pointer, rule, depth)
        if values_only:
            return self._values(schema, pointer)
        return self._typed(schema, pointer, rule)

    def _resolver(self, pointer: str) -> Callable[[str], Any]:
        return lambda ref: self.resolve(ref, pointer)[1]

    def _expand(self, schema: Schema, pointer: str) -> Schema:
        def fail(keyword: str, reason: str) -> None:
            self.unsupported(keyword, pointer, reason)

        resolve = self._resolver(pointer)
        try:
            schema = rewrite_unevaluated(schema, resolve)
        except Inexpressible as exc:
            self.unsupported(exc.keyword, pointer, exc.reason)
            schema = {
                k: v
                for k, v in schema.items()
                if k not in ("unevaluatedProperties", "unevaluatedItems")
            }
        return expand(schema, resolve, fail)

    def _flatten(self, schema: Any, pointer: str, depth: int) -> list[Any]:
        if depth > _MAX_DEPTH:
            raise UnsupportedSchema(
                "allOf", pointer, "nests too deeply to merge (a reference cycle?)"
            )
        if not isinstance(schema, dict):
            return [schema]
        # Every part, enum ones too: unevaluated* must be read before parts merge.
        schema = self._expand(normalize(schema), pointer)
        rest = {k: v for k, v in schema.items() if k not in ("$ref", "allOf")}
        parts: list[Any] = [rest]
        if "$ref" in schema:
            parts += self._flatten(self.resolve(schema["$ref"], pointer)[1], pointer, depth + 1)
        for branch in schema.get("allOf", []):
            parts += self._flatten(branch, pointer, depth + 1)
        return parts

    def _all_of(self, schema: Schema, pointer: str, rule: str | None, depth: int) -> Expr | None:
        parts = self._flatten(schema, pointer, depth)
        if any(p is False for p in parts):
            return None
        merged: Schema = {}
        for part in parts:
            if part is True:
                continue
            try:
                merged = merge(merged, part)
            except MergeConflict as exc:
                self.unsupported("allOf", pointer, f"cannot be merged: {exc.reason}")
        return self.convert(merged, pointer, rule=rule, depth=depth + 1)

    def _any_of(
        self, key: str, schema: Schema, pointer: str, rule: str | None, depth: int
    ) -> Expr | None:
        branches = schema[key]
        base = {k: v for k, v in schema.items() if k != key}
        if key == "oneOf":
            try:
                branches = exclusive(branches, self._resolver(pointer))
            except Inexpressible as exc:
                self.unsupported(
                    "oneOf",
                    pointer,
                    "has branches that may overlap, and a grammar cannot exclude values that "
                    f"match two: {exc.reason}",
                )
        has_base = any(k not in ANNOTATIONS for k in base)
        exprs: list[Expr | None] = []
        for i, branch in enumerate(branches):
            where = child(pointer, key, i)
            if has_base:
                branch = {"allOf": [base, branch]}
            exprs.append(self.convert(branch, where, depth=depth + 1))
        return alt(*exprs)

    def _values(self, schema: Schema, pointer: str) -> Expr | None:
        values = [schema["const"]] if "const" in schema else list(schema["enum"])
        rest = {
            k: v for k, v in schema.items() if k not in ("enum", "const") and k not in ANNOTATIONS
        }
        if rest:
            values = [v for v in values if self.valid(v, rest)]
        return alt(*(self.library.value_literal(v) for v in values))

    def valid(self, value: Any, schema: Schema) -> bool:
        """Whether ``jsonschema`` finds ``value`` valid against ``schema`` (in this document)."""
        if self._validator is None:
            try:
                from jsonschema import validators  # type: ignore[import-untyped,unused-ignore]
            except ImportError as exc:  # pragma: no cover - jsonschema is a convert extra
                raise ImportError(
                    "enum/const with other keywords needs jsonschema: "
                    "pip install wafer-grammar[convert]"
                ) from exc
            root = self.root_schema if isinstance(self.root_schema, dict) else {}
            # The converter's own keywords (negations write them) must be checked too.
            cls = validators.extend(
                validators.validator_for(root),
                {NOT_IN: _check_not_in, FRACTION: _check_fraction},
            )
            self._validator = cls(root)
        return bool(self._validator.evolve(schema=schema).is_valid(value))

    # -- typed values ----------------------------------------------------------------------
    def _typed(self, schema: Schema, pointer: str, rule: str | None) -> Expr | None:
        raw = schema.get("type")
        if raw is None:
            if not any(k in schema for kws in TYPE_KEYWORDS.values() for k in kws):
                return self.library.ref("value")
            types = list(JSON_TYPES)
        else:
            types = raw if isinstance(raw, list) else [raw]
        for t in types:
            if t not in ALL_TYPES:
                raise UnsupportedSchema("type", pointer, f'names an unknown type "{t}"')
        if "number" in types and "integer" in types:
            types = [t for t in types if t != "integer"]
        return alt(*(self._one_type(t, schema, pointer, rule) for t in types))

    def _one_type(self, kind: str, schema: Schema, pointer: str, rule: str | None) -> Expr | None:
        if kind == "null":
            return Literal("null")
        if kind == "boolean":
            return Choice((Literal("true"), Literal("false")))
        if kind in ("integer", "number"):
            return self._number(schema, pointer, integer=kind == "integer")
        if kind == "string":
            return self._string(schema, pointer)
        if kind == "object":
            return self.shape.object(schema, pointer, rule)
        return self.shape.array(schema, pointer)

    def _number(self, schema: Schema, pointer: str, *, integer: bool) -> Expr | None:
        if schema.get(FRACTION):
            return self._fraction(schema, pointer, integer=integer)
        if "multipleOf" in schema:
            return self._multiple_of(schema, pointer)

        def bound(key: str) -> Fraction | None:
            value = schema.get(key)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UnsupportedSchema(key, pointer, f"must be a number, not {value!r}")
            return Fraction(value)

        lows = [
            (v, inc)
            for v, inc in ((bound("minimum"), True), (bound("exclusiveMinimum"), False))
            if v is not None
        ]
        highs = [
            (v, inc)
            for v, inc in ((bound("maximum"), True), (bound("exclusiveMaximum"), False))
            if v is not None
        ]
        if not lows and not highs:
            if integer and self.open_objects:  # the spec's reading: 1.0 is an integer
                return self.library.ref("whole")
            return self.library.ref("integer" if integer else "number")
        low = max(lows, key=lambda b: (b[0], not b[1])) if lows else (None, True)
        high = min(highs, key=lambda b: (b[0], b[1])) if highs else (None, True)
        found = number_range(low[0], low[1], high[0], high[1], integer=integer)
        if found is None:
            kind = "integer" if integer else "number"
            self.empty("minimum", pointer, f"and the maximum leave no {kind} between them")
        return found

    def _multiple_of(self, schema: Schema, pointer: str) -> Expr | None:
        """Integers divisible by an integer ``multipleOf`` (for type number too: a
        narrowing, ``4.0`` is left out): by remainders, or listed within small bounds."""
        k = schema["multipleOf"]
        # Not 2.0: jsonschema divides by a float divisor in floating point, where a large
        # multiple can fail (and a large non-multiple pass).
        if type(k) is not int or not 1 <= k <= MAX_DIVISOR:
            self.unsupported(
                "multipleOf", pointer, f"is supported for integer divisors 1..{MAX_DIVISOR} only"
            )
            rest = {key: v for key, v in schema.items() if key != "multipleOf"}
            return self._number(rest, pointer, integer="integer" in str(schema.get("type")))
        bounds: dict[str, Any] = {
            b: schema[b]
            for b in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
            if b in schema
        }
        if k not in self._multiples:
            names = [self.new_rule(f"multiple-of-{k}-r{r}") for r in range(k)]
            bodies, positive = multiples(k, names)
            for name, body in zip(names, bodies, strict=True):
                self.define(name, body)
            self._multiples[k] = positive
        positive = self._multiples[k]
        negative = seq(Literal("-"), positive)
        if not bounds:
            return alt(Literal("0"), negative, positive)
        lows = [schema[b] for b in ("minimum", "exclusiveMinimum") if b in schema]
        highs = [schema[b] for b in ("maximum", "exclusiveMaximum") if b in schema]
        low = math.floor(max(lows)) if lows else None
        high = math.ceil(min(highs)) if highs else None
        # Listed: the multiples between the bounds, or between a bound and 0 when the
        # other side of 0 is unbounded (there every multiple is in, by remainders).
        start = low if low is not None else 0
        end = high if high is not None else 0
        if end < start or (end - start) // k > 256:
            self.unsupported(next(iter(bounds)), pointer, "with multipleOf spans too many values")
            return alt(Literal("0"), negative, positive)
        listed = [
            Literal(str(n)) for n in range(start - start % k, end + 1, k) if self.valid(n, bounds)
        ]
        return alt(
            negative if low is None else None,
            *listed,
            positive if high is None else None,
        )

    def _fraction(self, schema: Schema, pointer: str, *, integer: bool) -> Expr | None:
        """Numbers that are not integers: at most 9 integer and 6 fraction digits, the last
        one non-zero, so the float a text decodes to is never integral (a narrowing)."""
        if integer:
            self.empty("type", pointer, "asks for an integer that is not one")
            return None
        bounded = [k for k in TYPE_KEYWORDS["number"] if k in schema and k != FRACTION]
        if bounded:
            self.unsupported(bounded[0], pointer, "cannot be combined with a non-integer number")
        return self.library.ref("fraction")

    def _string(self, schema: Schema, pointer: str) -> Expr | None:
        if NOT_IN in schema:
            return self._string_not_in(schema, pointer)
        low = schema.get("minLength", 0)
        high = schema.get("maxLength")
        fmt = schema.get("format")
        if fmt is not None and fmt not in SPEC_FORMATS:
            self.coverage.record(
                pointer, "format", "ignored", f'"{fmt}" is not a 2020-12 format: an annotation'
            )
            fmt = None
        if fmt is not None:
            if "pattern" in schema:
                self.unsupported(
                    "pattern", pointer, 'cannot be combined with "format" in one grammar'
                )
            return self._format(fmt, low, high, pointer)
        if "pattern" in schema:
            return self._pattern(schema["pattern"], low, high, pointer)
        if (low, high) == (0, None):
            return self.library.ref("string")
        if high is not None and high < low:
            self.empty(
                "minLength", pointer, f"is {low}, more than maxLength {high}: no string fits"
            )
            return None
        self.library.ref("char")
        return string_of_length(low, high)

    def _string_not_in(self, schema: Schema, pointer: str) -> Expr | None:
        """Any string but the listed ones (each character as ``json.dumps`` writes it)."""
        others = [k for k in TYPE_KEYWORDS["string"] if k in schema and k != NOT_IN]
        if others:
            self.unsupported(others[0], pointer, "cannot be combined with excluded strings")
        trie: dict[str, Any] = {}
        for word in schema[NOT_IN]:
            node = trie
            for ch in word:
                node = node.setdefault(ch, {})
            node[""] = {}
        return seq(Literal('"'), not_in(trie), Literal('"'))

    def _format(self, fmt: str, low: int, high: int | None, pointer: str) -> Expr | None:
        ref = self.library.ref(FORMATS[fmt])
        shortest, longest = format_lengths(fmt)
        if (high is not None and high < shortest) or (longest is not None and low > longest):
            return None
        if low > shortest:
            self.unsupported(
                "minLength", pointer, f'cannot be combined with format "{fmt}" in one grammar'
            )
        if high is not None and (longest is None or high < longest):
            # A format's JSON text has a character per character of the value, or more where
            # it escapes one: max_chars is never looser than maxLength.
            name = self.new_rule(f"{fmt}-max{high}")
            ref = self.define(name, ref, RuleOption("max_chars", high))  # type: ignore[assignment]
        return seq(Literal('"'), ref, Literal('"'))

    def _pattern(self, pattern: Any, low: int, high: int | None, pointer: str) -> Expr | None:
        try:
            if not isinstance(pattern, str):
                raise UnsupportedSchema("pattern", pointer, "must be a string")
            decoded = python_regex_to_expr(pattern, search=True, ecma_safe=True)
        except RegexUnsupported as exc:
            self.unsupported(
                "pattern",
                pointer,
                f"cannot be converted: {exc.construct} at position {exc.position} {exc.reason}",
            )
            self.library.ref("char")
            return string_of_length(low, high)
        cut = limit_length(decoded, low, high)
        if cut is None:
            return None
        capped = False
        if cut is False:
            if low:
                self.unsupported(
                    "minLength", pointer, "cannot be combined with this pattern in one grammar"
                )
            capped = high is not None
            cut = decoded
        assert not isinstance(cut, bool)
        content = json_encode(cut)
        if content is None:
            return None
        if capped:
            # max_chars counts the JSON text, where an escape is longer than its character:
            # stricter than maxLength for escaped characters, never looser.
            assert high is not None
            name = self.new_rule(f"pattern-max{high}")
            content = self.define(name, content, RuleOption("max_chars", high))
        return seq(Literal('"'), content, Literal('"'))
