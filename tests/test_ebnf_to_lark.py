"""AST -> lark grammar text, and the Python regexes inside it."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st
from lark import Lark

from wafer_grammar.ebnf.desugar import desugar
from wafer_grammar.ebnf.parser import parse_ebnf
from wafer_grammar.ebnf.pyregex import class_pattern, escape_char
from wafer_grammar.ebnf.regex import normalize
from wafer_grammar.ebnf.syntax import CharClass
from wafer_grammar.ebnf.to_lark import to_lark


def lark_text(grammar: str, **kw: bool) -> str:
    return to_lark(desugar(parse_ebnf(grammar)), **kw).text


def test_regular_rules_become_terminals_and_nullable_ones_optional() -> None:
    text = lark_text(
        'root ::= "[" ws (item (ws "," ws item)*)? ws "]"\n'
        "item ::= num | root\n"
        "num ::= [0-9]+\n"
        "ws ::= [ ]*"
    )
    assert text == (
        "root: T0 WS? (item (WS? T1 WS? item)*)? WS? T2\n"
        "item: NUM\n"
        "    | root\n"
        "\n"
        "T0: /\\[/\n"
        "WS: / +/\n"
        "T1: /\\,/\n"
        "T2: /\\]/\n"
        "NUM: /[0-9]+/\n"
    )


def test_fast_variant_folds_regular_runs() -> None:
    text = lark_text(
        'root ::= "[" ws (root (ws "," ws root)*)? ws "]"\nws ::= [ ]*', merge_regular=True
    )
    assert text.splitlines()[0] == "root: T0 (root (T1 root)*)? T2"
    assert "T1: /(?: *)\\,(?: *)/" in text
    assert re.fullmatch(text.split("T1: /")[1].split("/\n")[0], " , ")


def test_regular_root_is_one_terminal() -> None:
    lg = to_lark(desugar(parse_ebnf('root ::= "a" b?\nb ::= [0-9]{2}')))
    assert lg.text == "root: ROOT\n\nROOT: /a(?:[0-9]{2})?/\n"
    assert lg.root_pattern == "a(?:[0-9]{2})?"


def test_nullable_regular_root() -> None:
    lg = to_lark(desugar(parse_ebnf("root ::= [a-z]*")))
    assert lg.text.splitlines()[0] == "root: ROOT |"
    parser = Lark(lg.text, start=lg.start, parser="lalr")
    parser.parse("")
    parser.parse("abc")


def test_rule_names_are_mangled_and_mapped_back() -> None:
    lg = to_lark(
        desugar(
            parse_ebnf('root ::= List-Item x.y\nList-Item ::= "a" root | "b"\nx.y ::= "c" root?')
        )
    )
    assert lg.rule_names == {"root": "root", "list_item": "List-Item", "x_y": "x.y"}


def test_inexact_features_are_flagged() -> None:
    lg = to_lark(desugar(parse_ebnf("root ::= t\nt[max_chars=3] ::= [a-z]+")))
    assert not lg.exact
    assert lg.text.startswith(
        "// approximate, not used for acceptance: rule 't' has option max_chars"
    )


def test_lookahead_is_dropped() -> None:
    assert lark_text('root ::= a "b"\na ::= "a" (= "b")') == lark_text('root ::= a "b"\na ::= "a"')


ranges = st.lists(
    st.tuples(st.integers(0, 0x10FFFF), st.integers(0, 300)).map(
        lambda t: (t[0], min(t[0] + t[1], 0x10FFFF))
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(ranges, st.lists(st.integers(0, 0x10FFFF), min_size=1, max_size=8), st.booleans())
@example(rs=[(0, 0)], probes=[0xD800, 0xDFFF], negated=True)  # a complement has no surrogates
def test_class_pattern_matches_exactly_the_class(
    rs: list[tuple[int, int]], probes: list[int], negated: bool
) -> None:
    cc = CharClass(tuple(rs), negated)
    pattern = class_pattern(normalize(rs) if not negated else _comp(rs))
    compiled = re.compile(pattern)
    lark_compiled = (
        Lark(f"start: T\nT: /{pattern}/", parser="lalr").terminals[0].pattern.to_regexp()
    )
    edges = [c for lo, hi in rs for c in (lo - 1, lo, hi, hi + 1) if 0 <= c <= 0x10FFFF]
    for cp in probes + edges:
        ch = chr(cp)
        assert bool(compiled.fullmatch(ch)) == cc.contains(ch)
        assert bool(re.fullmatch(lark_compiled, ch)) == cc.contains(ch)


def _comp(rs: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    from wafer_grammar.ebnf.regex import complement

    return complement(normalize(rs))


def test_escape_char_survives_lark() -> None:
    specials = "\"'\\/[]^-$.|?*+(){}#&~\x00\x08\n\r\t\x7f é😀\ud800"
    pattern = "".join(escape_char(c) for c in specials)
    parser = Lark(f"start: T\nT: /{pattern}/", parser="lalr")
    assert parser.parse(specials).children[0] == specials
