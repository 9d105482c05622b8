"""Grammar.choice: exact labels, any characters, errors and prefix warnings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wafer_grammar import Grammar
from wafer_grammar.errors import InvalidLabels


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=5, unique=True),
    st.text(max_size=7),
)
def test_exactly_the_labels(labels: list[str], other: str) -> None:
    grammar = Grammar.choice(labels)
    assert all(grammar.accepts(label) for label in labels)
    assert grammar.accepts(other) is (other in labels)
    assert Grammar.from_ebnf(grammar.to_ebnf()).ast == grammar.ast
    assert Grammar.from_ebnf(grammar.to_ebnf()) != grammar  # the labels are part of equality


def test_escaping_of_any_character() -> None:
    grammar = Grammar.choice(['say "hi"', "back\\slash", "new\nline", "tab\t", "\x00", "😀"])
    assert grammar.to_ebnf() == (
        'root ::= "say \\"hi\\"" | "back\\\\slash" | "new\\nline" | "tab\\t" | "\\u0000" | "😀"\n'
    )
    assert grammar.accepts("new\nline") and not grammar.accepts("newline")


def test_prefix_labels_warn() -> None:
    grammar = Grammar.choice(["yes", "yes please", "no"])
    [diag] = grammar.check()
    assert (diag.code, diag.message) == (
        "W302",
        'alternative "yes" is a prefix of alternative "yes please": a model can stop after "yes"',
    )


def test_case_insensitive() -> None:
    grammar = Grammar.choice(["Yes", "no"], case_sensitive=False)
    assert grammar.to_ebnf() == "root ::= [Yy] [Ee] [Ssſ] | [Nn] [Oo]\n"
    assert grammar.accepts("YES") and grammar.accepts("nO") and not grammar.accepts("yess")
    assert grammar.check() == []


def test_case_insensitive_prefix_warns() -> None:
    grammar = Grammar.choice(["stop", "STOPPED"], case_sensitive=False)
    [diag] = grammar.check()
    assert diag.message == (
        'alternative "stop" is a prefix of alternative "STOPPED" (ignoring case): a model can '
        'stop after "stop"'
    )


ERRORS = [
    ([], {}, "no labels: a choice needs at least one label"),
    (["a", ""], {}, "the empty string is not a valid label"),
    (["a", "b", "a", "b"], {}, "duplicate labels: 'a', 'b'"),
    (["Yes", "yes"], {"case_sensitive": False}, "duplicate labels (ignoring case): 'yes'"),
    (["a", 3], {}, "labels must be strings, not 3"),
    ("abc", {}, "labels must be a list of strings, not the string 'abc'"),
]


@pytest.mark.parametrize("labels,kwargs,message", ERRORS, ids=[e[2][:20] for e in ERRORS])
def test_errors(labels: object, kwargs: dict[str, bool], message: str) -> None:
    with pytest.raises(InvalidLabels) as info:
        Grammar.choice(labels, **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)
