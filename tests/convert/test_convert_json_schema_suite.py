"""The official JSON Schema Test Suite (draft 2020-12) as referee, and the shapes it exposed.

The suite is read from ``.venv/json-schema-test-suite/`` (``make suite`` unpacks it from
the ``jsonschema`` sdist: MIT licence, Copyright (c) 2012 Julian Berman; see
``suite_support``); these tests skip when it is absent. Every judged group either
converts soundly or is refused with ``UnsupportedSchema``; members are sampled with a
fixed seed, so nothing here depends on chance or timing.
"""

from __future__ import annotations

import json

import pytest
from suite_support import MEMBERS, SEED, SUITE, SUITE_MISSING, Group, groups, judge

from wafer_grammar import Grammar
from wafer_grammar.errors import UnsupportedSchema
from wafer_grammar.testing.generate import Bounds
from wafer_grammar.testing.strategies import sample_members

GROUPS = list(groups()) if SUITE.is_dir() else []
needs_suite = pytest.mark.skipif(not GROUPS, reason=SUITE_MISSING)


def _verdict(group: Group) -> tuple[Grammar | None, str | None]:
    try:
        return Grammar.from_json_schema(group.schema, closed=False), None
    except UnsupportedSchema as exc:
        return None, f"{exc.keyword} at {exc.pointer!r}"


@needs_suite
@pytest.mark.parametrize("group", [g for g in GROUPS if g.skip is None], ids=lambda g: g.name)
def test_suite_group_is_converted_soundly_or_refused(group: Group) -> None:
    grammar, refused = _verdict(group)
    if grammar is None:
        assert refused  # refused, naming keyword and pointer: allowed
        return
    trees = sample_members(grammar, MEMBERS, seed=SEED, bounds=Bounds(max_size=400))
    verdict = judge(group, grammar.accepts, [t.flatten() for t in trees])
    assert verdict.false_accepts == [], grammar.to_ebnf()
    assert verdict.bad_members == [], grammar.to_ebnf()


@needs_suite
def test_suite_skips_only_remote_refs_and_custom_metaschemas() -> None:
    skipped = {g.name: g.skip for g in GROUPS if g.skip}
    assert all(r.startswith(("remote $ref", "custom metaschema")) for r in skipped.values())
    assert len(GROUPS) - len(skipped) >= 360, skipped


# -- the shapes the suite exposed (issue 20) -------------------------------------------


def test_anchor_ref_resolves_to_its_anchor_not_the_root() -> None:
    schema = {
        "type": "array",
        "items": {"$ref": "#foo"},
        "$defs": {"s": {"$anchor": "foo", "type": "string"}},
    }
    grammar = Grammar.from_json_schema(schema)
    assert grammar.accepts('["a"]')
    assert not grammar.accepts("[[]]")


def test_id_scoped_ref_resolves_inside_its_resource() -> None:
    schema = {
        "$id": "http://example.com/root.json",
        "properties": {"a": {"$ref": "item.json"}},
        "required": ["a"],
        "$defs": {"item": {"$id": "item.json", "type": "integer"}},
    }
    grammar = Grammar.from_json_schema(schema)
    assert grammar.accepts('{"a":1}')
    assert not grammar.accepts('{"a":"x"}')


def test_unknown_anchor_is_refused_with_its_pointer() -> None:
    with pytest.raises(UnsupportedSchema) as info:
        Grammar.from_json_schema({"properties": {"a": {"$ref": "#nope"}}})
    assert (info.value.keyword, info.value.pointer) == ("$ref", "/properties/a")


@pytest.mark.parametrize(
    "schema",
    [{"$ref": "#"}, {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}}],
)
def test_reference_cycle_without_a_value_is_refused_not_converted(schema: object) -> None:
    with pytest.raises(UnsupportedSchema, match="admits no value"):
        Grammar.from_json_schema(schema)  # type: ignore[arg-type]


def test_all_of_items_false_applies_from_the_first_position() -> None:
    schema = {"type": "array", "prefixItems": [{"type": "integer"}], "allOf": [{"items": False}]}
    grammar = Grammar.from_json_schema(schema)
    assert grammar.accepts("[]")
    assert not grammar.accepts("[1]")


def test_all_of_merges_prefix_items_position_by_position() -> None:
    schema = {
        "type": "array",
        "prefixItems": [{"type": "integer"}],
        "items": False,
        "allOf": [{"prefixItems": [True, {"type": "string"}]}],
    }
    grammar = Grammar.from_json_schema(schema)
    assert grammar.accepts("[1]")
    assert not grammar.accepts('[1,"a"]')


@pytest.mark.parametrize(
    ("key", "text", "ok"),
    [
        ("maxLength", '"ab"', True),
        ("maxLength", '"abc"', False),
        ("minLength", '"a"', False),
        ("minLength", '"ab"', True),
    ],
)
def test_count_written_as_float_is_an_integer(key: str, text: str, ok: bool) -> None:
    grammar = Grammar.from_json_schema({"type": "string", key: 2.0})
    assert grammar.accepts(text) is ok


@pytest.mark.parametrize("value", [2.5, -1, True, "2"])
def test_count_that_is_not_a_non_negative_integer_is_refused(value: object) -> None:
    with pytest.raises(UnsupportedSchema, match="non-negative integer"):
        Grammar.from_json_schema({"type": "string", "maxLength": value})


def test_items_ref_to_the_root_is_one_recursive_rule() -> None:
    grammar = Grammar.from_json_schema({"type": "array", "items": {"$ref": "#"}})
    assert grammar.accepts("[[],[[]]]")
    assert not grammar.accepts("[1]")
    assert json.loads("[[],[[]]]") == [[], [[]]]


def test_format_outside_2020_12_is_an_annotation_recorded_in_coverage() -> None:
    grammar = Grammar.from_json_schema({"type": "string", "format": "my-format"})
    assert grammar.accepts('"anything"')
    [entry] = [e for e in grammar.coverage if e.keyword == "format"]
    assert (entry.status, entry.pointer) == ("ignored", "")
    assert entry.note == '"my-format" is not a 2020-12 format: an annotation'


def test_every_2020_12_format_is_enforced() -> None:
    grammar = Grammar.from_json_schema({"type": "string", "format": "duration"})
    assert grammar.accepts('"P4DT12H30M5S"')
    assert not grammar.accepts('"P1Y2W"')
    [entry] = [e for e in grammar.coverage if e.keyword == "format"]
    assert entry.status == "enforced"


def test_dynamic_ref_with_one_dynamic_anchor_of_its_name_is_a_ref() -> None:
    schema = {
        "type": "array",
        "items": {"$dynamicRef": "#items"},
        "$defs": {"foo": {"$dynamicAnchor": "items", "type": "string"}},
    }
    grammar = Grammar.from_json_schema(schema)
    assert grammar.accepts('["a"]')
    assert not grammar.accepts("[1]")


def test_dynamic_ref_that_dynamic_scope_could_change_is_refused() -> None:
    schema = {
        "$id": "https://example.com/root",
        "$ref": "list",
        "$defs": {
            "foo": {"$dynamicAnchor": "items", "type": "string"},
            "list": {
                "$id": "list",
                "type": "array",
                "items": {"$dynamicRef": "#items"},
                "$defs": {"items": {"$dynamicAnchor": "items"}},
            },
        },
    }
    with pytest.raises(UnsupportedSchema) as info:
        Grammar.from_json_schema(schema)
    assert (info.value.keyword, info.value.pointer) == ("$dynamicRef", "/$defs/list/items")
