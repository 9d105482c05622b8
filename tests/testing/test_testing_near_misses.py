"""near_misses(grammar): rejected strings, each one small edit from a member."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import FailedHealthCheck, Unsatisfiable

from wafer_grammar import Grammar
from wafer_grammar.testing import near_misses
from wafer_grammar.testing.generate import Bounds, Generator, RandomChooser
from wafer_grammar.testing.near_miss import edit_member, sample_near_misses
from wafer_grammar.testing.plan import make_plan

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GRAMMARS = {
    "list": 'root ::= "[" (item ("," item)*)? "]"\nitem ::= [0-9]+',
    "json-ish": 'root ::= "{" ws key ws ":" ws val ws "}"\nkey ::= "\\"" [a-z]+ "\\""\nval ::= [0-9] | "true"\nws ::= " "?',
    "escapes": 'root ::= "\\"" (c | "\\\\" [nt"\\\\])* "\\""\nc ::= [a-z]',
    "recursive": 'root ::= "(" root ")" | "x"',
    "lazy": 'root ::= "<" n ">"\nn[lazy] ::= [a-z]+',
    "tags": 'root ::= TagDispatch(("<n>", n))\nn ::= [0-9]+ "</n>"',
}


@pytest.mark.parametrize("name", sorted(GRAMMARS))
def test_near_misses_are_never_members(name: str) -> None:
    grammar = Grammar.from_ebnf(GRAMMARS[name])

    @FAST
    @given(near_misses(grammar))
    def check(text: str) -> None:
        assert not grammar.accepts(text)

    check()
    for miss in sample_near_misses(grammar, 10, seed=0):
        assert not grammar.accepts(miss.text)
        assert grammar.accepts(miss.member)


def test_edits_are_described() -> None:
    grammar = Grammar.from_ebnf('root ::= "[" [0-9]{2} "]"')
    plan = make_plan(grammar)
    chooser = RandomChooser(random.Random(0))
    edits = set()
    for _ in range(200):
        tree = Generator(plan, chooser, Bounds()).member()
        miss = edit_member(grammar, plan, tree, chooser)
        assert miss is not None
        edits.add(miss.edit.split(" ")[0])
    assert edits >= {"dropped", "doubled", "swapped", "one", "cut", "stray"}


def test_repetition_off_by_one() -> None:
    grammar = Grammar.from_ebnf('root ::= "a"{3}')
    misses = {m.text: m.edit for m in sample_near_misses(grammar, 10, seed=0)}
    assert "aa" in misses and "aaaa" in misses


def test_bad_escape_near_miss() -> None:
    grammar = Grammar.from_ebnf('root ::= "\\"" ("\\\\" [nt])+ "\\""')
    edits = [m.edit for m in sample_near_misses(grammar, 30, seed=0)]
    assert any(e.startswith("bad escape ") for e in edits)


def test_a_language_with_no_near_misses_fails_loudly() -> None:
    @settings(max_examples=5, deadline=None, database=None)
    @given(near_misses("root ::= [^]*"))
    def check(text: str) -> None:
        pass

    with pytest.raises((FailedHealthCheck, Unsatisfiable)):
        check()
    assert sample_near_misses(Grammar.from_ebnf("root ::= [^]*"), 5, seed=0) == []
