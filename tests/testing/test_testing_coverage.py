"""Coverage from derivations, rule paths, and the assertion helpers' messages."""

from __future__ import annotations

import pytest

from wafer_grammar import Grammar
from wafer_grammar.testing import GrammarAssertionError, assert_accepts, assert_rejects
from wafer_grammar.testing.case_coverage import Trace, coverage

JSONISH = """root ::= value
value ::= object | array | "true" | number
object ::= "{" (pair ("," pair)*)? "}"
pair ::= key ":" value
key ::= "\\"" [a-z]+ "\\""
array ::= "[" (value ("," value)*)? "]"
number ::= "-"? ("0" | [1-9] [0-9]*)
"""


def test_full_coverage() -> None:
    trace = Trace(Grammar.from_ebnf(JSONISH))
    report = coverage(trace, ['{"a":[true,-10,0]}', "{}", "[]"])
    assert report.complete
    assert report.render() == "coverage 100%: 7 of 7 rules, 6 of 6 alternatives"


def test_missed_rules_and_alternatives() -> None:
    trace = Trace(Grammar.from_ebnf(JSONISH))
    report = coverage(trace, ["[true]", "not a member"])
    assert not report.complete
    assert report.missed_rules == ["object", "pair", "key", "number"]
    assert report.render() == (
        "coverage 38%: 3 of 7 rules, 2 of 6 alternatives\n"
        "  not exercised: rule 'object'\n"
        "  not exercised: rule 'pair'\n"
        "  not exercised: rule 'key'\n"
        "  not exercised: rule 'number'\n"
        "  not exercised: rule 'value', alternative 1 of 4 (line 2, column 11): object\n"
        "  not exercised: rule 'value', alternative 4 of 4 (line 2, column 37): number"
    )


def test_group_alternatives_are_counted() -> None:
    trace = Trace(Grammar.from_ebnf('root ::= "x" ("a" | "b" | "c") "y"'))
    report = coverage(trace, ["xay", "xcy"])
    assert [a.describe() for a in report.missed_alternatives] == [
        "rule 'root', alternative 2 of 3 of a group (line 1, column 21): \"b\""
    ]


def test_macros_and_lookahead_do_not_count_as_alternatives() -> None:
    grammar = Grammar.from_ebnf(
        'root ::= Regex("a|b") Substring("x", "y") n\nn ::= "1" (= m)\nm ::= "2" | "3"'
    )
    report = coverage(Trace(grammar), ["a1"])
    assert report.complete and report.alternatives == []


def test_tag_dispatch_targets_are_rules() -> None:
    grammar = Grammar.from_ebnf(
        'root ::= TagDispatch(("<a>", a), ("<b>", b))\na ::= "1"\nb ::= "2"'
    )
    report = coverage(Trace(grammar), ["x<a>1"])
    assert report.missed_rules == ["b"]


def test_rule_paths() -> None:
    trace = Trace(Grammar.from_ebnf(JSONISH))
    assert trace.rule_path('{"a" 1}') == ["root", "value", "object", "pair"]
    assert trace.rule_path("[true,]") == ["root", "value", "array"]
    assert trace.rule_path("x") == ["root"]


def test_assert_accepts_message() -> None:
    grammar = Grammar.from_ebnf(JSONISH)
    with pytest.raises(GrammarAssertionError) as err:
        assert_accepts(grammar, '{"a":tru}')
    assert str(err.value) == (
        '\'{"a":tru}\' was rejected at offset 8: line 1, column 9: unexpected "}"; '
        'expected "true"\n'
        '  {"a":tru}\n'
        "          ^\n"
        "  rule path: root > value > object > pair"
    )
    assert err.value.mismatch is not None and err.value.mismatch.offset == 8
    assert_accepts(JSONISH, "[]")


def test_assert_accepts_multiline_and_long_texts() -> None:
    grammar = Grammar.from_ebnf('root ::= ("ab" "\\n")+')
    with pytest.raises(GrammarAssertionError) as err:
        assert_accepts(grammar, "ab\n" * 30 + "ax\n")
    assert str(err.value) == (
        "'ab\\nab\\nab\\nab\\nab\\nab\\nab\\na...nab\\nab\\nab\\nab\\nab\\nab\\nax\\n' was "
        'rejected at offset 91: line 31, column 2: unexpected "x"; expected "ab"\n'
        "  ax\n"
        "   ^\n"
        "  rule path: root"
    )


def test_assert_rejects_message() -> None:
    with pytest.raises(GrammarAssertionError) as err:
        assert_rejects('root ::= "a"+', "aaa")
    assert str(err.value) == "'aaa' was accepted, but must be rejected"
    assert_rejects('root ::= "a"+', "b")
