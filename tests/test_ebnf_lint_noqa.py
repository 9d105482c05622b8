"""``# noqa`` comments silence lint warnings on their line, and only there."""

from __future__ import annotations

from wafer_grammar import Grammar

SOURCE = 'root ::= "a" ws\nws ::= [ \\t]*{noqa}\nunused ::= "x"{noqa2}\n'


def codes(source: str) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in Grammar.from_ebnf(source).check()]


def test_without_noqa_both_warn() -> None:
    assert codes(SOURCE.format(noqa="", noqa2="")) == [("W301", 2), ("W101", 3)]


def test_noqa_with_codes_silences_only_those_codes() -> None:
    assert codes(SOURCE.format(noqa="  # noqa: W301", noqa2="  # noqa: W999")) == [("W101", 3)]
    assert codes(SOURCE.format(noqa="  # noqa: W101, W301", noqa2="")) == [("W101", 3)]


def test_bare_noqa_silences_the_line() -> None:
    assert codes(SOURCE.format(noqa="", noqa2="  # noqa")) == [("W301", 2)]


def test_noqa_inside_a_string_is_not_a_comment() -> None:
    assert codes('root ::= "# noqa" ws\nws ::= [ ]* "# noqa"\n') == [("W301", 2)]
