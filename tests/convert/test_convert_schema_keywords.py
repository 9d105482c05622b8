"""Grammar.from_json_schema keyword by keyword: exact grammars, exact bounds, exact messages."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wafer_grammar import Grammar
from wafer_grammar.convert.json_schema.numbers import number_range
from wafer_grammar.ebnf.pyregex import expr_pattern
from wafer_grammar.errors import UnsupportedSchema


def ebnf(schema: Any, **kwargs: Any) -> str:
    return Grammar.from_json_schema(schema, **kwargs).to_ebnf()


def test_integer_bounds_are_exact() -> None:
    grammar = Grammar.from_json_schema({"type": "integer", "minimum": 3, "maximum": 117})
    assert grammar.to_ebnf() == 'root ::= [3-9] | [1-9] [0-9] | "1" ("0" [0-9] | "1" [0-7])\n'
    accepted = [n for n in range(-200, 1200) if grammar.accepts(str(n))]
    assert accepted == list(range(3, 118))


@settings(max_examples=60, deadline=None)
@given(
    low=st.none() | st.integers(-2000, 2000),
    high=st.none() | st.integers(-2000, 2000),
    exclusive=st.booleans(),
    probe=st.lists(st.integers(-2500, 2500), max_size=20),
)
def test_integer_ranges_agree_with_arithmetic(
    low: int | None, high: int | None, exclusive: bool, probe: list[int]
) -> None:
    import re

    expr = number_range(
        None if low is None else Fraction(low), not exclusive,
        None if high is None else Fraction(high), True, integer=True,
    )  # fmt: skip
    if expr is None:
        assert low is not None and high is not None and low + exclusive > high
        return
    pattern = re.compile(expr_pattern(expr, lambda n: ""))
    for n in [*probe, low or 0, high or 0, (low or 0) + 1, (high or 0) - 1]:
        inside = (low is None or n > low or (n == low and not exclusive)) and (
            high is None or n <= high
        )
        assert bool(pattern.fullmatch(str(n))) is inside, n
    assert not pattern.fullmatch("-0") and not pattern.fullmatch("007")


@settings(max_examples=80, deadline=None)
@given(
    low=st.none() | st.floats(-1e4, 1e4),
    high=st.none() | st.floats(-1e4, 1e4),
    low_inc=st.booleans(),
    high_inc=st.booleans(),
    x=st.floats(-2e4, 2e4) | st.integers(-20000, 20000),
)
def test_number_bounds_agree_with_jsonschema(
    low: float | None, high: float | None, low_inc: bool, high_inc: bool, x: float | int
) -> None:
    import jsonschema

    schema: dict[str, Any] = {"type": "number"}
    if low is not None:
        schema["minimum" if low_inc else "exclusiveMinimum"] = low
    if high is not None:
        schema["maximum" if high_inc else "exclusiveMaximum"] = high
    try:
        grammar = Grammar.from_json_schema(schema)
    except UnsupportedSchema:
        assert low is not None and high is not None and low >= high
        return
    text = json.dumps(x) if isinstance(x, int) else format(x, "f").rstrip("0") + "0"
    if grammar.accepts(text):
        assert jsonschema.Draft202012Validator(schema).is_valid(json.loads(text)), text
    elif jsonschema.Draft202012Validator(schema).is_valid(json.loads(text)):
        # The only values refused: "-0.0", and texts within a float step of an exclusive bound.
        import math

        near = [b for b in (low, high) if b is not None and abs(x - b) <= 2 * math.ulp(b)]
        assert text.startswith("-0.0") or near, text


def test_exclusive_bound_rounding_cannot_cross() -> None:
    grammar = Grammar.from_json_schema({"type": "number", "exclusiveMinimum": 0.1})
    # 0.1000000000000000001 is a larger decimal than 0.1 but json.loads rounds it to 0.1.
    assert not grammar.accepts("0.1000000000000000001")
    assert grammar.accepts("0.10000000000000002")
    assert not grammar.accepts("0.1") and grammar.accepts("1")


def test_strings_count_escapes_as_one_character() -> None:
    grammar = Grammar.from_json_schema({"type": "string", "minLength": 2, "maxLength": 2})
    assert grammar.accepts('"\\n\\u00e9"') and grammar.accepts('"ab"')
    assert not grammar.accepts('"a"') and not grammar.accepts('"abc"')
    assert not grammar.accepts('"\\ud83d\\ude00"')  # a surrogate pair would decode to one
    assert not grammar.accepts('"a\tb"'[:4] + '"')  # raw control characters never


def test_properties_in_declared_order_with_optional_ones_skippable() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "boolean"}, "b": {"type": "null"}, "c": {"const": 1}},
        "required": ["b"],
        "additionalProperties": False,
    }
    assert ebnf(schema) == (
        'root ::= "{" ("\\"a\\":" ("true" | "false") ",\\"b\\":null" ",\\"c\\":1"? '
        '| "\\"b\\":null" ",\\"c\\":1"?) "}"\n'
    )


def test_pretty_whitespace_is_bounded() -> None:
    grammar = Grammar.from_json_schema(
        {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "integer"}}}},
        whitespace="pretty",
    )
    assert grammar.accepts(json.dumps({"a": [1, 2]}, indent=2))
    assert grammar.accepts(json.dumps({"a": []}, indent=4))
    assert not grammar.accepts("{\n" + " " * 33 + '"a": []\n}')
    assert grammar.check() == []


def test_compact_grammars_have_no_whitespace_warnings() -> None:
    grammar = Grammar.from_json_schema({"type": "array", "items": True})
    assert grammar.check() == []
    assert not grammar.accepts("[1, 2]") and grammar.accepts("[1,2]")


def test_recursive_schema_is_a_recursive_rule() -> None:
    schema = {
        "$defs": {
            "list": {
                "anyOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "properties": {"next": {"$ref": "#/$defs/list"}},
                        "required": ["next"],
                    },
                ]
            }
        },
        "$ref": "#/$defs/list",
    }
    assert ebnf(schema) == (
        'root ::= list\nlist ::= "null" | list-2\nlist-2 ::= "{" "\\"next\\":" list "}"\n'
    )


def test_additional_keys_cannot_repeat_declared_names() -> None:
    grammar = Grammar.from_json_schema(
        {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": True}
    )
    assert grammar.accepts('{"a":1,"b":[true]}') and grammar.accepts('{"ab":1}')
    assert not grammar.accepts('{"a":1,"a":2}') and not grammar.accepts('{"a":"x"}')


def test_enum_values_must_satisfy_the_rest_of_the_schema() -> None:
    assert (
        ebnf({"type": "string", "enum": ["a", 2, "bb"], "maxLength": 1}) == 'root ::= "\\"a\\""\n'
    )


def test_allof_merges() -> None:
    schema = {
        "allOf": [
            {"type": "integer", "minimum": 0},
            {"maximum": 5},
            {"type": ["integer", "string"]},
        ]
    }
    assert ebnf(schema) == "root ::= [0-5]\n"


def test_oneof_with_overlapping_branches_is_refused() -> None:
    with pytest.raises(UnsupportedSchema) as info:
        Grammar.from_json_schema({"oneOf": [{"type": "string"}, {"pattern": "b"}]})
    assert str(info.value) == (
        'keyword "oneOf" at the root has branches that may overlap, and a grammar cannot exclude '
        'values that match two: cannot be negated: the values that fail "pattern" have no '
        "grammar; pass strict=False to get a grammar without it and a coverage report that "
        "lists it"
    )


MESSAGES = [
    (
        {"type": "object", "properties": {"n": {"type": "number", "multipleOf": 0.3}}},
        "multipleOf",
        "/properties/n",
        'keyword "multipleOf" at /properties/n is supported for integer divisors 1..1000 only; '
        "pass strict=False to get a grammar without it and a coverage report that lists it",
    ),
    (
        {"type": "array", "uniqueItems": True},
        "uniqueItems",
        "",
        'keyword "uniqueItems" at the root is supported over finitely many arrays only; '
        "pass strict=False to get a grammar without it and a coverage report that lists it",
    ),
    (
        {"properties": {"a/b": {"maxItem": 3}}},
        "maxItem",
        "/properties/a~1b",
        'keyword "maxItem" at /properties/a~1b is not a JSON Schema keyword this converter knows '
        "(a typo?); pass strict=False to get a grammar without it and a coverage report that lists it",
    ),
    (
        {"type": "string", "format": "date", "pattern": "^2"},
        "pattern",
        "",
        'keyword "pattern" at the root cannot be combined with "format" in one grammar; pass '
        "strict=False to get a grammar without it and a coverage report that lists it",
    ),
    (
        {"type": "string", "pattern": "(a)\\1"},
        "pattern",
        "",
        'keyword "pattern" at the root cannot be converted: backreference \\1 at position 3 is '
        "not regular: no grammar can express it; pass strict=False to get a grammar without it "
        "and a coverage report that lists it",
    ),
    (
        {"type": "string", "format": "email", "minLength": 10},
        "minLength",
        "",
        'keyword "minLength" at the root cannot be combined with format "email" in one grammar; '
        "pass strict=False to get a grammar without it and a coverage report that lists it",
    ),
    (
        {"$ref": "https://example.com/s.json"},
        "$ref",
        "",
        'keyword "$ref" at the root points outside this schema ("https://example.com/s.json"): '
        'only "#..." references are supported; pass strict=False to get a grammar without it and '
        "a coverage report that lists it",
    ),
    (
        {"not": {"type": "string", "pattern": "a"}},
        "not",
        "",
        'keyword "not" at the root cannot be negated: the values that fail "pattern" have no '
        "grammar; pass strict=False to get a grammar without it and a coverage report that "
        "lists it",
    ),
    (
        {"type": "integer", "minimum": 5, "maximum": 4},
        "minimum",
        "",
        'keyword "minimum" at the root and the maximum leave no integer between them, so the '
        "schema admits no value: nothing to generate",
    ),
    (
        {
            "type": "object",
            "properties": {"a": {"type": "string", "minLength": 5, "maxLength": 2}},
            "required": ["a"],
        },
        "minLength",
        "/properties/a",
        'keyword "minLength" at /properties/a is 5, more than maxLength 2: no string fits, so '
        "the schema admits no value: nothing to generate",
    ),
]


@pytest.mark.parametrize("schema,keyword,pointer,message", MESSAGES, ids=[m[1] for m in MESSAGES])
def test_strict_mode_names_keyword_and_pointer(
    schema: dict[str, Any], keyword: str, pointer: str, message: str
) -> None:
    with pytest.raises(UnsupportedSchema) as info:
        Grammar.from_json_schema(schema)
    assert (info.value.keyword, info.value.pointer) == (keyword, pointer)
    assert str(info.value) == message


def test_lenient_mode_reports_coverage() -> None:
    schema = {
        "title": "T",
        "type": "object",
        "properties": {"n": {"type": "number", "multipleOf": 0.3, "x-extra": 1}},
        "contentSchema": {"type": "string"},
    }
    grammar = Grammar.from_json_schema(schema, strict=False)
    assert grammar.coverage is not None
    assert str(grammar.coverage) == "\n".join(
        [
            "ignored                (root) title  (does not constrain values)",
            "checked-after-decoding (root) contentSchema  (is not supported: a grammar cannot enforce it)",
            "enforced               (root) type",
            "enforced               (root) properties",
            "enforced               (root) additionalProperties  (absent: read as false (only declared properties are generated))",
            "ignored                /properties/n x-extra  (unknown keyword)",
            "enforced               /properties/n type",
            "checked-after-decoding /properties/n multipleOf  (is supported for integer divisors 1..1000 only)",
        ]
    )
    assert not grammar.coverage.complete
    assert [e.keyword for e in grammar.coverage.with_status("checked-after-decoding")] == [
        "contentSchema",
        "multipleOf",
    ]
    assert grammar.accepts('{"n":4}')  # multipleOf is left to the validator


def test_strict_grammars_have_complete_coverage() -> None:
    grammar = Grammar.from_json_schema({"type": "string", "description": "d"})
    assert grammar.coverage is not None and grammar.coverage.complete


def test_bad_whitespace_option() -> None:
    with pytest.raises(
        ValueError, match=r'^whitespace must be "compact" or "pretty", not \'tabs\'$'
    ):
        Grammar.from_json_schema({}, whitespace="tabs")


def test_schema_as_json_text_and_booleans() -> None:
    assert Grammar.from_json_schema('{"const": [1, "a"]}').to_ebnf() == 'root ::= "[1,\\"a\\"]"\n'
    assert Grammar.from_json_schema(True).accepts('{"a":[null]}')
    with pytest.raises(UnsupportedSchema):
        Grammar.from_json_schema(False)


def test_huge_and_tiny_bounds_stay_small() -> None:
    big = Grammar.from_json_schema({"type": "number", "maximum": 1.1473685538164196e295})
    assert big.accepts("1") and big.accepts("-3.5") and not big.accepts("2" + "0" * 295)
    tiny = Grammar.from_json_schema({"type": "number", "exclusiveMinimum": 0, "maximum": 1e-300})
    assert tiny.accepts("0." + "0" * 299 + "1") and not tiny.accepts("0.0")
    assert len(big.to_ebnf()) + len(tiny.to_ebnf()) < 3000
