"""unevaluatedProperties / unevaluatedItems where evaluation is static (issue 20): exactly the
valid values among the probes are accepted, members validate, and what depends on more
(patterns, contains) is refused with keyword and pointer."""

from __future__ import annotations

from typing import Any

import pytest
from exactness import check

from wafer_grammar import Grammar
from wafer_grammar.errors import UnsupportedSchema

OBJECTS: list[Any] = [
    {},
    {"foo": "x"},
    {"foo": 1},
    {"bar": "b"},
    {"baz": "z"},
    {"foo": "x", "bar": "b"},
    {"foo": "x", "bar": "b", "baz": "z"},
    {"foo": "x", "extra": 1},
    {"foo": "then", "bar": "b"},
    {"foo": "then", "baz": "z"},
    {"foo": "no", "baz": "z"},
    {"foo": "no", "bar": "b"},
    {"extra": "abc"},
    3,
]

ARRAYS: list[Any] = [[], ["a"], ["a", 1], ["a", 1, True], [1], ["foo", "bar"], ["foo", "baz", 2]]


@pytest.mark.parametrize(
    "schema",
    [
        {"unevaluatedProperties": False},
        {"unevaluatedProperties": {"type": "string", "minLength": 3}},
        {"properties": {"foo": {"type": "string"}}, "unevaluatedProperties": False},
        {"additionalProperties": {"type": "string"}, "unevaluatedProperties": False},
        {
            "properties": {"foo": {"type": "string"}},
            "allOf": [{"properties": {"bar": {"type": "string"}}}],
            "unevaluatedProperties": False,
        },
        {
            "properties": {"foo": {"type": "string"}},
            "anyOf": [
                {"properties": {"bar": {"const": "b"}}, "required": ["bar"]},
                {"properties": {"baz": {"const": "z"}}, "required": ["baz"]},
            ],
            "unevaluatedProperties": False,
        },
        {
            "properties": {"foo": {"type": "string"}},
            "oneOf": [
                {"properties": {"bar": {"const": "b"}}, "required": ["bar"]},
                {"properties": {"baz": {"const": "z"}}, "required": ["baz"]},
            ],
            "unevaluatedProperties": False,
        },
        {
            "if": {"properties": {"foo": {"const": "then"}}, "required": ["foo"]},
            "then": {"properties": {"bar": {"type": "string"}}, "required": ["bar"]},
            "else": {"properties": {"baz": {"type": "string"}}, "required": ["baz"]},
            "unevaluatedProperties": False,
        },
        {
            "properties": {"foo": {"type": "string"}},
            "dependentSchemas": {"foo": {"properties": {"bar": {"const": "b"}}}},
            "unevaluatedProperties": False,
        },
        {"allOf": [{"properties": {"foo": True}}, {"unevaluatedProperties": False}]},
        {
            "properties": {"foo": {"type": "string"}},
            "allOf": [{"unevaluatedProperties": True}],
            "unevaluatedProperties": False,
        },
        {"not": {"not": {"properties": {"foo": True}}}, "unevaluatedProperties": False},
    ],
)
def test_unevaluated_properties_exact(schema: Any) -> None:
    check(schema, OBJECTS, closed=False)


@pytest.mark.parametrize(
    "schema",
    [
        {"unevaluatedItems": False},
        {"prefixItems": [{"type": "string"}], "unevaluatedItems": False},
        {"items": {"type": "number"}, "unevaluatedItems": {"type": "string"}},
        {
            "prefixItems": [{"type": "string"}],
            "allOf": [{"prefixItems": [True, {"type": "number"}]}],
            "unevaluatedItems": False,
        },
        {
            "prefixItems": [{"const": "foo"}],
            "anyOf": [
                {"prefixItems": [True, {"const": "bar"}]},
                {"prefixItems": [True, {"const": "baz"}]},
            ],
            "unevaluatedItems": False,
        },
        {"allOf": [{"prefixItems": [True]}, {"unevaluatedItems": False}]},
    ],
)
def test_unevaluated_items_exact(schema: Any) -> None:
    check(schema, ARRAYS, closed=False)


@pytest.mark.parametrize(
    ("schema", "keyword"),
    [
        (
            {
                "anyOf": [{"properties": {name: True}} for name in "abcde"],
                "unevaluatedProperties": False,
            },
            "unevaluatedProperties",
        ),
        ({"contains": {"type": "string"}, "unevaluatedItems": False}, "unevaluatedItems"),
    ],
)
def test_unevaluated_that_depends_on_more_is_refused(schema: Any, keyword: str) -> None:
    with pytest.raises(UnsupportedSchema) as info:
        Grammar.from_json_schema({"properties": {"p": schema}})
    assert (info.value.keyword, info.value.pointer) == (keyword, "/properties/p")
