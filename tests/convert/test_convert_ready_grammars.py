"""grammars/: every ready grammar is lint-clean, has a case file, and agrees with XGrammar."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import uuid
from pathlib import Path

import pytest
import tomllib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wafer_grammar import Grammar
from wafer_grammar.engines.xgrammar_oracle import XGrammarMatcher, xgrammar_available
from wafer_grammar.testing import strings

GRAMMARS = Path(__file__).resolve().parents[2] / "grammars"
NAMES = sorted(p.name[: -len(".ebnf")] for p in GRAMMARS.glob("*.ebnf"))
EXPECTED = {
    "json", "json-object", "integer", "number", "boolean", "yes-no", "iso-date", "iso-datetime",
    "email", "url", "uuid", "csv-row", "arithmetic", "sql-select", "key-value", "markdown-list",
}  # fmt: skip


def load(name: str) -> tuple[Grammar, dict[str, list[str]]]:
    grammar = Grammar.from_file(GRAMMARS / f"{name}.ebnf")
    cases = tomllib.loads((GRAMMARS / f"{name}.cases.toml").read_text(encoding="utf-8"))
    return grammar, cases


def test_the_set_of_ready_grammars() -> None:
    assert set(NAMES) == EXPECTED
    assert sorted(p.name for p in GRAMMARS.glob("*.cases.toml")) == sorted(
        f"{n}.cases.toml" for n in EXPECTED
    )


@pytest.mark.parametrize("name", NAMES)
def test_lint_clean_and_cases_hold(name: str) -> None:
    grammar, cases = load(name)
    assert grammar.check() == []
    for text in cases["accept"]:
        assert grammar.accepts(text), text
        if cases.get("downstream") == "json":
            json.loads(text)
    for text in cases["reject"]:
        assert not grammar.accepts(text), text


@pytest.mark.skipif(
    not xgrammar_available(),
    reason="xgrammar is not installed: run `make venv` to compare with the server's engine",
)
@pytest.mark.parametrize("name", NAMES)
def test_xgrammar_agrees_on_the_cases(name: str) -> None:
    grammar, cases = load(name)
    matcher = XGrammarMatcher(grammar.to_ebnf())
    for text in cases["accept"]:
        assert matcher.accepts(text), text
    for text in cases["reject"]:
        assert not matcher.accepts(text), text


PARSERS = {
    "iso-date": dt.date.fromisoformat,
    "iso-datetime": lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00")),
    "uuid": uuid.UUID,
    "integer": int,
    "number": json.loads,
    "json": json.loads,
    "json-object": lambda s: json.loads(s).keys(),
}


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_members_parse_with_python(name: str, data: st.DataObject) -> None:
    grammar, _ = load(name)
    PARSERS[name](data.draw(strings(grammar, max_size=120)))


@settings(max_examples=40, deadline=None)
@given(st.dates())
def test_every_real_date_is_accepted(day: dt.date) -> None:
    grammar, _ = load("iso-date")
    assert grammar.accepts(day.isoformat())


@settings(max_examples=30, deadline=None)
@given(st.ip_addresses(v=6))
def test_ipv6_format_accepts_python_spellings(address: ipaddress.IPv6Address) -> None:
    grammar = Grammar.from_json_schema({"type": "string", "format": "ipv6"})
    assert grammar.accepts(json.dumps(str(address)))
