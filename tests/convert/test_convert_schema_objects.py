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
