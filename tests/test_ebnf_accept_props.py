"""Property tests: the LALR fast path and the exact recognizer agree."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wafer_grammar.ebnf.acceptor import Acceptor
from wafer_grammar.ebnf.parser import parse_ebnf

# Grammars with recursion (so LALR is in play), nullable regular rules, ambiguity.
GRAMMARS = {
    "list": 'root ::= "[" ws (item (ws "," ws item)*)? ws "]"\nitem ::= [0-9]+ | root\nws ::= [ ]*',
    "balanced": 'root ::= pair*\npair ::= "(" pair* ")" | "[" root "]"',
    "split": 'root ::= w w tail\ntail ::= "" | tail "!"\nw ::= [ab]+',
    "expr": 'root ::= e\ne ::= e "+" t | t\nt ::= t "*" f | f\nf ::= "(" e ")" | [0-9]+ | "x"',
    "palindrome": 'root ::= "a" root "a" | "b" root "b" | "a" | "b" | ""',
    "words": 'root ::= (w " ")* w? x\nx ::= "" | "." x\nw ::= [a-b]+ ("-" [a-b]+)?',
}
ALPHABET = "ab01+*()[],!.- x"
ACCEPTORS = {name: Acceptor(parse_ebnf(text)) for name, text in GRAMMARS.items()}

MEMBERS = {
    "list": ["[]", "[1, [2 ,3],[ ]]", "[ [ [] ] ]"],
    "balanced": ["", "()", "([()])", "[]([])"],
    "split": ["ab", "abab!!", "ba!"],
    "expr": ["1+2*x", "(x+1)*3", "((1))"],
    "palindrome": ["", "abba", "ababa"],
    "words": ["a b.", "a-b ab", "b.."],
}


def check(acceptor: Acceptor, text: str) -> None:
    exact = acceptor.accepts_earley(text)
    lalr = acceptor.accepts_lalr(text)
    if lalr:  # an LALR accept is a real derivation
        assert exact
    assert acceptor.accepts(text) is exact
    if exact:
        assert acceptor.is_prefix(text)
        assert acceptor.is_prefix(text[: len(text) // 2])


@pytest.mark.parametrize("name", sorted(GRAMMARS))
@settings(max_examples=40, deadline=None)
@given(text=st.text(alphabet=ALPHABET, max_size=12))
def test_random_strings(name: str, text: str) -> None:
    check(ACCEPTORS[name], text)


@pytest.mark.parametrize("name", sorted(GRAMMARS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_mutated_members(name: str, data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(MEMBERS[name]))
    assert ACCEPTORS[name].accepts_earley(text)
    at = data.draw(st.integers(0, len(text)))
    ch = data.draw(st.sampled_from(ALPHABET))
    how = data.draw(st.sampled_from(["insert", "delete", "replace", "double"]))
    if how == "insert":
        text = text[:at] + ch + text[at:]
    elif how == "delete":
        text = text[:at] + text[at + 1 :]
    elif how == "replace":
        text = text[:at] + ch + text[at + 1 :]
    else:
        text = text + text
    check(ACCEPTORS[name], text)


def test_lalr_is_used_where_possible() -> None:
    assert ACCEPTORS["list"].accepts_lalr("[1]") is True
    assert ACCEPTORS["expr"].accepts_lalr("1+2*x") is True
