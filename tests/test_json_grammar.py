"""grammars/json.ebnf accepts exactly what json.loads accepts (minus NaN / Infinity)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wafer_grammar.ebnf.acceptor import Acceptor
from wafer_grammar.ebnf.parser import parse_ebnf

GRAMMARS = Path(__file__).resolve().parent.parent / "grammars"
JSON = Acceptor(parse_ebnf((GRAMMARS / "json.ebnf").read_text(encoding="utf-8")))


def loads_ok(text: str) -> bool:
    """json.loads, without its NaN / Infinity extensions."""

    def refuse(name: str) -> Any:
        raise ValueError(name)

    try:
        json.loads(text, parse_constant=refuse)
    except (ValueError, RecursionError):
        return False
    return True


def _load_cases() -> list[dict[str, Any]]:
    import tomllib

    data = tomllib.loads((GRAMMARS / "json.cases.toml").read_text(encoding="utf-8"))
    return [{"text": t, "accept": True} for t in data["accept"]] + [
        {"text": t, "accept": False} for t in data["reject"]
    ]


CASES = _load_cases()


@pytest.mark.parametrize("case", CASES, ids=lambda c: repr(c["text"])[:40])
def test_case_file(case: dict[str, Any]) -> None:
    assert loads_ok(case["text"]) is case["accept"]  # the labels are json.loads' own
    assert JSON.accepts(case["text"]) is case["accept"]
    assert JSON.accepts_earley(case["text"]) is case["accept"]


def test_json_takes_the_lalr_fast_path() -> None:
    assert JSON.accepts_lalr('{"a": [1, 2.5e3, true, null]}') is True


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=5), kids, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    value = draw(values)
    indent = draw(st.none() | st.integers(0, 3) | st.sampled_from(["\t", " \r\n"]))
    item_sep = draw(st.sampled_from([",", ", ", " ,\t", ",\n"]))
    key_sep = draw(st.sampled_from([":", ": ", " :\r\n "]))
    text = json.dumps(
        value, indent=indent, separators=(item_sep, key_sep), ensure_ascii=draw(st.booleans())
    )
    pad = st.text(alphabet=" \t\n\r", max_size=3)
    return draw(pad) + text + draw(pad)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_are_accepted(text: str) -> None:
    assert loads_ok(text)
    assert JSON.accepts(text)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(documents())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        ch = draw(st.sampled_from([*'{}[],:"\\ 0-1.eE+tfnaul\t\n\x00\x1f', draw(st.characters())]))
        if op == "insert":
            text = text[:at] + ch + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + ch + text[at + 1 :]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_documents_agree_with_json_loads(text: str) -> None:
    expected = loads_ok(text)
    assert JSON.accepts(text) is expected
    assert JSON.accepts_lalr(text) is expected  # this grammar needs no fallback


def test_whitespace_is_unbounded_as_in_the_rfc() -> None:
    text = " " * 200 + "{\n" + "\t" * 100 + '"a" :\r\n 1}' + "\n" * 100
    assert json.loads(text) == {"a": 1}
    assert JSON.accepts(text)
