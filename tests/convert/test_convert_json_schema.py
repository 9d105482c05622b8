"""Grammar.from_json_schema, differentially: hypothesis-jsonschema instances are accepted,
and every string the grammar generates ``json.loads`` and validates with ``jsonschema``."""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import date, datetime
from typing import Any

import jsonschema
import pytest
from convert_support import dumps, patch_hypothesis_jsonschema
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from schemas import ALL

from wafer_grammar import Grammar
from wafer_grammar.testing import strings

patch_hypothesis_jsonschema()
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
STYLES = ["compact", "pretty"]
VALIDATOR_FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER
_GRAMMARS: dict[tuple[str, str], Grammar] = {}


def grammar(name: str, style: str) -> Grammar:
    if (name, style) not in _GRAMMARS:
        _GRAMMARS[name, style] = Grammar.from_json_schema(ALL[name], whitespace=style)
    return _GRAMMARS[name, style]


def declared_order(schema: Any) -> dict[str, int]:
    """Every property name, ranked by where the schema first declares it."""
    rank: dict[str, int] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    for name in value:
                        rank.setdefault(name, len(rank))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema)
    return rank


def reorder(value: Any, rank: dict[str, int]) -> Any:
    """Objects' keys in declared order (extra keys last): the order the grammar writes."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: rank.get(k, len(rank)))
        return {k: reorder(value[k], rank) for k in keys}
    if isinstance(value, list):
        return [reorder(v, rank) for v in value]
    return value


def closed(value: Any, schema: dict[str, Any]) -> bool:
    """No object has undeclared keys where the schema leaves additionalProperties out."""
    names = set(declared_order(schema))
    open_schema = any(
        "additionalProperties" in s and s["additionalProperties"] not in (False,)
        for s in _subschemas(schema)
    )
    if open_schema:
        return True

    def ok(v: Any) -> bool:
        if isinstance(v, dict):
            return set(v) <= names and all(ok(x) for x in v.values())
        if isinstance(v, list):
            return all(ok(x) for x in v)
        return True

    return ok(value)


def openapi_nullable(node: Any) -> Any:
    """``nullable: true`` (OpenAPI) spelled as JSON Schema, which jsonschema ignores."""
    if isinstance(node, list):
        return [openapi_nullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: openapi_nullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def _subschemas(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            out += _subschemas(v)
    elif isinstance(node, list):
        for v in node:
            out += _subschemas(v)
    return out


#: hypothesis-jsonschema cannot resolve recursive references: tree instances by hand.
trees = st.recursive(
    st.builds(lambda v: {"value": v}, st.integers(0, 99)),
    lambda kids: st.builds(
        lambda v, c: {"value": v, "children": c}, st.integers(0, 99), st.lists(kids, max_size=2)
    ),
    max_leaves=6,
)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("name", sorted(ALL))
@SETTINGS
@given(data=st.data())
def test_schema_instances_are_accepted(name: str, style: str, data: st.DataObject) -> None:
    schema = ALL[name]
    value = data.draw(trees if name == "tree" else from_schema(schema))
    assume(closed(value, schema))
    # hypothesis-jsonschema reads drafts 4-7: skip what 2020-12 (prefixItems) rejects.
    assume(
        jsonschema.Draft202012Validator(schema, format_checker=VALIDATOR_FORMATS).is_valid(value)
    )
    text = dumps(reorder(value, declared_order(schema)), style)
    assert grammar(name, style).accepts(text), text


def _formats_hold(value: Any, schema: dict[str, Any]) -> None:
    """Checks jsonschema skips without optional packages (date-time, time, uri)."""
    if isinstance(value, dict):
        if "date-time" in value:
            datetime.fromisoformat(value["date-time"].replace("Z", "+00:00"))
        if "time" in value:
            datetime.fromisoformat("2000-01-01T" + value["time"].replace("Z", "+00:00"))
        if "date" in value:
            date.fromisoformat(value["date"])
        if "ipv6" in value:
            ipaddress.IPv6Address(value["ipv6"])
        if "uri" in value:
            assert re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]*", value["uri"])  # RFC 3986


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("name", sorted(ALL))
@SETTINGS
@given(data=st.data())
def test_generated_strings_load_and_validate(name: str, style: str, data: st.DataObject) -> None:
    schema = ALL[name]
    text = data.draw(strings(grammar(name, style), max_size=300))
    value = json.loads(text)
    jsonschema.validate(value, openapi_nullable(schema), format_checker=VALIDATOR_FORMATS)
    _formats_hold(value, schema)
    outside = re.sub(r'"(?:[^"\\]|\\.)*"', "", text)
    if style == "compact":  # no whitespace at all outside strings
        assert not re.search(r"\s", outside), text
    else:  # a line break and at most 32 spaces, or one space after a colon
        assert re.fullmatch(r"(?:[^\s]|\n {0,32}|(?<=:) )*", outside), text
