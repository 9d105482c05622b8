"""Objects and arrays: counted members, any order, and the specification's reading
(``closed=False``) of absent ``additionalProperties`` and ``items`` (issue 20)."""

from __future__ import annotations

from typing import Any

import pytest
from exactness import check

from wafer_grammar import Grammar
from wafer_grammar.errors import UnsupportedSchema

OBJECTS: list[Any] = [
    {},
    {"a": 1},
    {"b": 1},
    {"x": 1},
    {"a": 1, "b": 2},
    {"b": 2, "a": 1},
    {"a": 1, "x": 2},
    {"x": 1, "y": 2},
    {"a": 1, "b": 2, "x": 3},
    {"a": "s", "b": 2},
    {"x": 1, "y": 2, "z": 3},
]


@pytest.mark.parametrize("closed", [True, False])
@pytest.mark.parametrize(
    "counts",
    [{"minProperties": 1}, {"maxProperties": 1}, {"minProperties": 2, "maxProperties": 2}],
)
def test_min_and_max_properties_are_exact(closed: bool, counts: dict[str, int]) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {}}, **counts}
    if closed:  # only declared properties: the counts apply to them
        check(schema, [o for o in OBJECTS if set(o) <= {"a", "b"}], closed=True)
    else:  # other keys count once towards a minimum (they might repeat): a narrowing
        some = [o for o in OBJECTS if len(set(o) - {"a", "b"}) < 2 or "minProperties" not in counts]
        check(schema, some, closed=False)


def test_min_properties_that_needs_two_other_keys_is_refused() -> None:
    # {"x":1,"x":2} decodes to one member: a grammar cannot count other keys as distinct.
    schema = {"type": "object", "additionalProperties": {"type": "integer"}, "minProperties": 2}
    with pytest.raises(UnsupportedSchema) as info:
        Grammar.from_json_schema(schema)
    assert (info.value.keyword, info.value.pointer) == ("minProperties", "")
    lenient = Grammar.from_json_schema(schema, strict=False)
    assert [e.keyword for e in lenient.coverage.with_status("checked-after-decoding")] == [
        "minProperties"
    ]


def test_open_reading_takes_properties_in_any_order_each_once() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {}},
        "required": ["a"],
    }
    grammar = check(schema, OBJECTS, closed=False)
    assert grammar.accepts('{"b":1,"a":2}')
    assert not grammar.accepts('{"a":1,"a":2}')


def test_closed_reading_is_unchanged_by_default() -> None:
    grammar = Grammar.from_json_schema({"type": "object", "properties": {"a": {}, "b": {}}})
    assert grammar.accepts('{"a":1,"b":2}')
    assert not grammar.accepts('{"b":2,"a":1}')
    assert not grammar.accepts('{"c":1}')


def test_open_reading_of_items_after_prefix_items() -> None:
    schema = {"type": "array", "prefixItems": [{"type": "integer"}]}
    check(schema, [[], [1], [1, "a", None], ["a"]], closed=False)
    assert not Grammar.from_json_schema(schema).accepts('[1,"a"]')


@pytest.mark.parametrize("schema", [{"type": "integer"}, {"const": 2}, {"enum": [[1], {"a": 0}]}])
def test_open_reading_writes_integral_numbers_either_way(schema: Any) -> None:
    check(schema, [1, 1.0, 2, 2.0, 2.5, -0.0, 0, [1.0], {"a": 0.0}, {"a": 0.5}, True], closed=False)


ARRAYS: list[Any] = [
    [],
    [1],
    [5],
    [1, 5],
    [5, 5],
    [5, 1, 5, 5],
    [1, 2, 3],
    ["a", 5],
    [None, True, 5, 7],
    {},
    "x",
]


@pytest.mark.parametrize(
    "schema",
    [
        {"contains": {"minimum": 5}},
        {"contains": {"const": 5}, "minContains": 2},
        {"contains": {"const": 5}, "maxContains": 1},
        {"contains": {"const": 5}, "minContains": 0, "maxContains": 1},
        {"contains": {"const": 5}, "minContains": 2, "maxContains": 3},
        {"type": "array", "items": {"type": "integer"}, "contains": {"minimum": 5}},
        {"contains": False},
        {"contains": {"type": "null"}, "minContains": 0},
        {"not": {"contains": {"const": 5}}},
        {"minContains": 2},
    ],
)
def test_contains_counts_matches_exactly(schema: Any) -> None:
    check(schema, ARRAYS, closed=False)


def test_max_contains_of_what_cannot_be_negated_is_refused() -> None:
    with pytest.raises(UnsupportedSchema) as info:
        Grammar.from_json_schema({"contains": {"pattern": "a"}, "maxContains": 1})
    assert (info.value.keyword, info.value.pointer) == ("maxContains", "")


@pytest.mark.parametrize(
    "schema",
    [
        {"prefixItems": [{"type": "boolean"}, {"enum": [True, 1]}], "items": False},
        {"uniqueItems": True, "maxItems": 1},
        {"uniqueItems": False},
    ],
)
def test_unique_items_over_finitely_many_arrays(schema: Any) -> None:
    schema = {**schema, "uniqueItems": schema.get("uniqueItems", True)}
    values = [[], [True], [1], [True, True], [True, 1], [False, True], [1, 1], [[], []]]
    check(schema, values, closed=False)


def test_unique_items_over_infinitely_many_arrays_is_refused() -> None:
    with pytest.raises(UnsupportedSchema) as info:
        Grammar.from_json_schema({"items": {"type": "integer"}, "uniqueItems": True})
    assert (info.value.keyword, info.value.pointer) == ("uniqueItems", "")


KEYED: list[Any] = [
    {},
    {"foo": 1},
    {"foo": "x"},
    {"fo": 1},
    {"a": 1},
    {"aaa": 30},
    {"aaa": 3},
    {"bar": None},
    {"xbar": None, "foo": 2},
    {"v1": True, "bar": 1},
    {"quux": 1},
    {'f"o': 2},
    {"é": 1},
    {"abcdef": 1.5},
]


@pytest.mark.parametrize(
    "schema",
    [
        {"patternProperties": {"f.*o": {"type": "integer"}}},
        {"patternProperties": {"a*": {"type": "integer"}, "aaa*": {"maximum": 20}}},
        {"patternProperties": {"^.*bar$": {"type": "null"}, "b.*": False}},
        {
            "properties": {"foo": {}, "bar": {}},
            "patternProperties": {"^v": {}},
            "additionalProperties": False,
        },
        {
            "patternProperties": {"^a": {"type": "integer"}},
            "additionalProperties": {"type": "null"},
        },
        {"propertyNames": {"maxLength": 3}},
        {"propertyNames": {"pattern": "^a+$"}},
        {"propertyNames": {"enum": ["foo", "bar"]}},
        {"propertyNames": False},
        {"propertyNames": {"maxLength": 3}, "additionalProperties": {"type": "number"}},
        {
            "properties": {"foo": {"type": "string"}},
            "allOf": [{"patternProperties": {"^b": {"type": "null"}}}],
            "unevaluatedProperties": False,
        },
    ],
)
def test_key_languages_are_exact(schema: Any) -> None:
    check(schema, KEYED, closed=False)


def test_patterns_meeting_another_additional_properties_are_refused() -> None:
    schema = {
        "allOf": [{"patternProperties": {"^a": {}}}, {"additionalProperties": False}],
    }
    with pytest.raises(UnsupportedSchema) as info:
        Grammar.from_json_schema(schema)
    assert (info.value.keyword, info.value.pointer) == ("allOf", "")


def test_open_reading_writes_small_const_objects_in_any_order() -> None:
    schema = {"const": {"a": 1, "b": {"c": None, "d": [2]}}}
    values = [
        {"a": 1, "b": {"c": None, "d": [2]}},
        {"b": {"d": [2], "c": None}, "a": 1.0},
        {"b": {"d": [2]}, "a": 1},
        {"a": 1, "b": {"c": None, "d": [2], "e": 0}},
    ]
    check(schema, values, closed=False)
    assert not Grammar.from_json_schema(schema).accepts('{"b":{"c":null,"d":[2]},"a":1}')


def test_required_key_that_a_pattern_matches_is_not_additional() -> None:
    schema = {
        "patternProperties": {"^a": {"type": "integer"}},
        "additionalProperties": False,
        "required": ["ab"],
    }
    check(schema, [{}, {"ab": 1}, {"ab": "x"}, {"ab": 1, "ac": 2}, {"ab": 1, "b": 2}])


@pytest.mark.parametrize(
    ("schema", "keyword", "pointer"),
    [
        (
            {
                "allOf": [
                    {"patternProperties": {"\\p{L}": {}}, "additionalProperties": False},
                    {"properties": {"x": {}}},
                ]
            },
            "allOf",
            "",
        ),
        ({"propertyNames": {"maxLength": 2.5}}, "maxLength", "/propertyNames"),
    ],
)
def test_unreadable_key_constraints_are_refused_not_crashed(
    schema: Any, keyword: str, pointer: str
) -> None:
    with pytest.raises(UnsupportedSchema) as info:
        Grammar.from_json_schema(schema)
    assert (info.value.keyword, info.value.pointer) == (keyword, pointer)
