"""Acceptance, parse trees, prefixes and mismatch messages of the Acceptor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from wafer_grammar.ebnf.acceptor import Acceptor
from wafer_grammar.ebnf.parser import parse_ebnf
from wafer_grammar.errors import GrammarError, OutputMismatch, TextUnjudgeable

HERE = Path(__file__).parent
CONFORMANCE = HERE / "conformance" / "visible.jsonl"
if not CONFORMANCE.exists():  # the shared copy, when the repo's is absent
    CONFORMANCE = Path("/work/shared/conformance/visible.jsonl")


def _load(path: Path) -> list[dict[str, Any]]:
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()
    ]
    return [r for r in rows if "_comment" not in r]


def acceptor(text: str) -> Acceptor:
    return Acceptor(parse_ebnf(text))


VALID = [c for c in _load(CONFORMANCE) if c["valid"]]
SEMANTICS = _load(HERE / "data" / "xgrammar_semantics.jsonl")


def _labelled(cases: list[dict[str, Any]]) -> list[Any]:
    params = []
    for case in cases:
        known = set(case.get("known_disagreement", ()))
        for verdict in ("accept", "reject"):
            for i, text in enumerate(case.get(verdict, ())):
                marks = (
                    [pytest.mark.xfail(strict=True, reason="known XGrammar quirk")]
                    if text in known
                    else []
                )
                params.append(
                    pytest.param(
                        case["grammar"],
                        text,
                        verdict == "accept",
                        id=f"{case['id']}-{verdict}{i}",
                        marks=marks,
                    )
                )
    return params


@pytest.mark.parametrize(("grammar", "text", "expected"), _labelled(VALID))
def test_conformance_visible(grammar: str, text: str, expected: bool) -> None:
    a = acceptor(grammar)
    assert a.accepts(text) is expected
    assert a.accepts_earley(text) is expected
    lalr = a.accepts_lalr(text)
    assert lalr is None or lalr is False or expected  # an LALR accept is always right


@pytest.mark.parametrize(("grammar", "text", "expected"), _labelled(SEMANTICS))
def test_xgrammar_semantics(grammar: str, text: str, expected: bool) -> None:
    assert acceptor(grammar).accepts(text) is expected


@pytest.mark.parametrize("grammar", [c["grammar"] for c in SEMANTICS if "compile_error" in c])
def test_regexes_xgrammar_cannot_compile_are_refused(grammar: str) -> None:
    # XGrammar's parser takes these and its compiler refuses them: from_ebnf says so.
    with pytest.raises(GrammarError) as info:
        parse_ebnf(grammar)
    assert info.value.diagnostics[0].code == "E306"


def test_regex_error_message() -> None:
    with pytest.raises(GrammarError) as info:
        parse_ebnf('root ::= Regex("a\\\\b")')
    assert str(info.value) == (
        "line 1, column 10: error[E306]: Regex() in rule 'root' cannot be compiled: "
        "word boundary assertion \\b is not supported (at position 1 of the pattern)\n"
        '  root ::= Regex("a\\\\b")\n'
        "           ^~~~~~~~~~~~~\n"
        "  = hint: XGrammar's regex engine has no \\b, \\p{...}, backreferences or lookaround"
    )


def test_unreachable_regex_xgrammar_cannot_compile_is_never_judged() -> None:
    # XGrammar compiles only what the root reaches: this grammar is fine there.
    a = acceptor('root ::= "a"\nx ::= Regex("(")')
    assert a.accepts("a") and not a.accepts("b")


# -- OutputMismatch: exact text ---------------------------------------------------------


def _mismatch(grammar: str, text: str) -> OutputMismatch:
    with pytest.raises(OutputMismatch) as info:
        acceptor(grammar).parse(text)
    return info.value


def test_mismatch_message_wrong_character() -> None:
    exc = _mismatch('root ::= "[" [0-9]+ ("," [0-9]+)* "]"', "[1,2;3]")
    assert (exc.offset, exc.line, exc.column) == (4, 1, 5)
    assert exc.expected == ['","', '"]"', "[0-9]"]
    assert (
        str(exc) == 'line 1, column 5: unexpected ";"; expected ",", "]", [0-9]\n  [1,2;3]\n      ^'
    )


def test_mismatch_message_second_line_and_trailing_text() -> None:
    exc = _mismatch('root ::= ("- " [a-z]+ "\\n")+', "- ab\n- cd\nx")
    assert (exc.line, exc.column) == (3, 1)
    assert str(exc) == 'line 3, column 1: unexpected "x"; expected "- ", end of text\n  x\n  ^'


def test_mismatch_message_end_of_text() -> None:
    exc = _mismatch('root ::= "yes" | "no"', "ye")
    assert str(exc) == 'line 1, column 3: unexpected end of text; expected "yes"\n  ye\n    ^'


def test_mismatch_extra_text() -> None:
    exc = _mismatch('root ::= "yes"', "yess")
    assert str(exc) == 'line 1, column 4: unexpected "s"; expected end of text\n  yess\n     ^'


# -- parse trees ------------------------------------------------------------------------

JSONISH = """
root ::= value
value ::= "[" ws (value (ws "," ws value)*)? ws "]" | num
num ::= [0-9]+
ws ::= [ ]*
"""


def test_parse_tree_shape() -> None:
    tree = acceptor(JSONISH).parse("[1, [22]]")
    assert tree == Tree(
        "root",
        [
            Tree(
                "value",
                [
                    Token("TEXT", "["),
                    Tree("value", [Token("num", "1")]),
                    Token("TEXT", ","),
                    Token("ws", " "),
                    Tree(
                        "value",
                        [
                            Token("TEXT", "["),
                            Tree("value", [Token("num", "22")]),
                            Token("TEXT", "]"),
                        ],
                    ),
                    Token("TEXT", "]"),
                ],
            )
        ],
    )


def test_parse_tree_same_from_both_paths() -> None:
    a = acceptor(JSONISH)
    text = "[ 1 ,[ ], 3]"
    lalr_tree = a.parse(text)
    chart = a.recognizer().run(text)
    from wafer_grammar.ebnf.derivation import build_tree

    assert build_tree(a.recognizer().g, chart) == lalr_tree
    assert "".join(t.value for t in lalr_tree.scan_values(lambda v: isinstance(v, Token))) == text


def test_parse_falls_back_when_lalr_misses_a_split() -> None:
    # `w w` over one class: the longest-match lexer takes all of "abc" as one w.
    a = acceptor('root ::= w w x\nx ::= "" | x "!"\nw ::= [a-z]+')
    parser = a._lalr_parser()  # the faithful variant parse() uses first
    assert parser is not None
    with pytest.raises(UnexpectedInput):
        parser.parse("abc")
    assert a.accepts("abc")
    tree = a.parse("abc!")
    assert [t.value for t in tree.children if isinstance(t, Token)][:2] in (
        ["a", "bc"],
        ["ab", "c"],
    )


def test_parse_regular_root() -> None:
    assert acceptor('root ::= [a-z]+ "!"').parse("hi!") == Tree("root", [Token("root", "hi!")])


# -- is_prefix ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grammar", "text", "expected"),
    [
        ('root ::= "yes" | "no"', "", True),
        ('root ::= "yes" | "no"', "y", True),
        ('root ::= "yes" | "no"', "yes", True),
        ('root ::= "yes" | "no"', "yess", False),
        ('root ::= "yes" | "no"', "x", False),
        ('root ::= "a" | loop\nloop ::= loop "b"', "b", False),  # loop never completes
        ("root ::= []", "", False),
        ('root ::= "{" [a-z]* "}"', "{abc", True),
        ('root ::= "<" n ">"\nn[lazy] ::= [a-z]+', "<a", True),
        ('root ::= "<" n ">"\nn[lazy] ::= [a-z]+', "<ab", False),
        ('root ::= t "!"\nt[max_chars=2] ::= [a-z]*', "abc", False),
        ('root ::= TagDispatch(("<n>", n))\nn ::= [0-9]+ "</n>"', "x<n>1", True),
        ('root ::= TagDispatch(("<n>", n))\nn ::= [0-9]+ "</n>"', "x<n>a", False),
    ],
)
def test_is_prefix(grammar: str, text: str, expected: bool) -> None:
    assert acceptor(grammar).is_prefix(text) is expected


# -- token-level macros -------------------------------------------------------------------


@pytest.mark.parametrize("method", ["accepts", "parse", "is_prefix", "to_lark"])
def test_token_level_macros_are_unjudgeable(method: str) -> None:
    a = acceptor('root ::= "x" t\nt ::= Token(1, 2)')
    with pytest.raises(TextUnjudgeable) as info:
        getattr(a, method)(*(["x"] if method != "to_lark" else []))
    assert str(info.value) == (
        "rule 't' uses Token(...), which matches model token IDs, not text: this grammar's "
        "outputs cannot be judged on text alone; check them with the engine (XGrammar) on "
        "token IDs instead"
    )


def test_unreachable_token_macro_is_fine() -> None:
    assert acceptor('root ::= "x"\nt ::= Token(1)').accepts("x")


def test_parsers_are_cached() -> None:
    a = acceptor(JSONISH)
    a.accepts("[1]")
    first = a._fast_parser()
    a.accepts("[2]")
    assert a._fast_parser() is first
    assert a.recognizer() is a.recognizer()
