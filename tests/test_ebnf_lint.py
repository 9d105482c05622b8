"""The semantic lint: every message and hint, next to a grammar that triggers it."""

from __future__ import annotations

import pytest

from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.ebnf.lint import CODES, PROFILES, lint
from wafer_grammar.ebnf.parser import parse_ebnf
from wafer_grammar.ebnf.syntax import GrammarAST, Literal, Rule, RuleRef, Sequence

Row = tuple[str, int, int, str, str]

UNUSED_HINT = 'remove it, or refer to it from a rule that "root" reaches'
BASE_CASE = "add an alternative that does not refer back to it (a base case)"
NOTHING = "each alternative uses something that matches nothing; fix that first"
NULLABLE_ROOT = (
    'root rule "root" matches the empty string, so an empty answer is accepted',
    "require at least one element (e.g. + instead of *) if empty is not an answer",
)
NULL_REP_HINT = 'make the repeated item non-empty, e.g. ("a")* rather than ("a"?)*'
EMPTY_CLASS_HINT = "add the characters it should match, or remove it"
DEAD_END = "{} can start but never complete: a model that begins it is stuck (XGrammar's matcher allows the start)"
DEAD_END_HINT = "remove it, or fix what it uses that matches nothing"

# (grammar, [(code, line, column, message, hint), ...]): like lark's table of
# malformed inputs next to the messages they produce.
CASES: list[tuple[str, list[Row]]] = [
    (
        'root ::= "a"\nhelper ::= "b"\n',
        [("W101", 2, 1, 'rule "helper" is never used', UNUSED_HINT)],
    ),
    (
        # A rule that only refers to itself is still unused.
        'root ::= "a"\nloop ::= "x" loop | "y"\n',
        [("W101", 2, 1, 'rule "loop" is never used', UNUSED_HINT)],
    ),
    (
        'root ::= "a"\nouter ::= inner\ninner ::= "b"\n',
        [
            ("W101", 2, 1, 'rule "outer" is never used', UNUSED_HINT),
            (
                "W102",
                3,
                1,
                'rule "inner" is unreachable from "root": only unreachable rules use it ("outer")',
                'remove it with the rules that use it, or refer to one of them from "root"',
            ),
        ],
    ),
    (
        'root ::= "a" | b\nb ::= "x" b\n',
        [
            ("W206", 1, 16, DEAD_END.format("b"), DEAD_END_HINT),
            ("W201", 2, 1, 'rule "b" cannot match any finite string', BASE_CASE),
        ],
    ),
    (
        'root ::= "a" | "b" x\nx ::= x\n',
        [
            ("W206", 1, 16, DEAD_END.format('"b" x'), DEAD_END_HINT),
            ("W201", 2, 1, 'rule "x" cannot match any finite string', BASE_CASE),
        ],
    ),
    (
        'root ::= "a" ("b" [])?\n',
        [
            ("W206", 1, 15, DEAD_END.format('"b" []'), DEAD_END_HINT),
            ("W204", 1, 19, "character class [] matches no character", EMPTY_CLASS_HINT),
        ],
    ),
    (
        'root ::= "a" | b\nb ::= c\nc ::= "x" []\n',
        [
            ("W206", 1, 16, DEAD_END.format("b"), DEAD_END_HINT),
            ("W201", 2, 1, 'rule "b" cannot match any finite string', NOTHING),
            ("W201", 3, 1, 'rule "c" cannot match any finite string', NOTHING),
            ("W204", 3, 11, "character class [] matches no character", EMPTY_CLASS_HINT),
        ],
    ),
    (
        'root ::= "x" root\n',
        [
            (
                "W202",
                1,
                1,
                'the grammar accepts no string: root rule "root" cannot match any finite string',
                BASE_CASE,
            )
        ],
    ),
    (
        'root ::= "a" [] "b"\n',
        [
            (
                "W202",
                1,
                1,
                'the grammar accepts no string: root rule "root" cannot match any finite string',
                NOTHING,
            ),
            ("W204", 1, 14, "character class [] matches no character", EMPTY_CLASS_HINT),
        ],
    ),
    ('root ::= "a"?\n', [("W203", 1, 1, *NULLABLE_ROOT)]),
    (
        'root ::= ("a"?)*\n',
        [
            ("W203", 1, 1, *NULLABLE_ROOT),
            (
                "W205",
                1,
                11,
                '("a"?)* repeats an item that can match the empty string',
                NULL_REP_HINT,
            ),
        ],
    ),
    (
        'root ::= "a" (x*)+\nx ::= "b"?\n',
        [
            ("W205", 1, 15, "(x*)+ repeats an item that can match the empty string", NULL_REP_HINT),
            ("W205", 1, 15, "x* repeats an item that can match the empty string", NULL_REP_HINT),
        ],
    ),
    (
        'root ::= "{" ws "}"\nws ::= [ \\t\\n]*\n',
        [
            (
                "W301",
                2,
                8,
                "[ \\t\\n]* allows unbounded whitespace: a model can emit whitespace forever",
                'bound it, e.g. [ \\t\\n]{0,4}, or use a single optional space " "?',
            )
        ],
    ),
    (
        'root ::= "a" [ \\t\\n\\r]+ "b"\n',
        [
            (
                "W301",
                1,
                14,
                "[ \\t\\n\\r]+ allows unbounded whitespace: a model can emit whitespace forever",
                'bound it, e.g. [ \\t\\n\\r]{1,4}, or use a single optional space " "?',
            )
        ],
    ),
    (
        'root ::= "a" (" " | "\\n"){2,} "b"\n',
        [
            (
                "W301",
                1,
                15,
                '(" " | "\\n"){2,} allows unbounded whitespace: a model can emit whitespace '
                "forever",
                'bound it, e.g. (" " | "\\n"){2,4}, or use a single optional space " "?',
            )
        ],
    ),
    (
        'root ::= "Yes" | "Yes, but" | "No"\n',
        [
            (
                "W302",
                1,
                10,
                'alternative "Yes" is a prefix of alternative "Yes, but": '
                'a model can stop after "Yes"',
                "make no alternative a prefix of another, e.g. end each with the same delimiter",
            )
        ],
    ),
    (
        'root ::= "a" | "b" | "a"\n',
        [
            (
                "W303",
                1,
                22,
                'alternative "a" appears more than once in this choice',
                "remove the repeated alternative",
            )
        ],
    ),
    (
        'root ::= "x" "a"{0,5000}\n',
        [
            (
                "W401",
                1,
                14,
                "repetition bound 5000 is above 1000: the compiled grammar gets large and slow "
                "to build",
                "use a smaller bound, or * / + with the length capped by max_tokens",
            )
        ],
    ),
    (
        'root ::= ("a"{1,200}){1,100}\n',
        [
            (
                "W401",
                1,
                11,
                "nested repetitions multiply to 20000 copies (above 10000): the compiled "
                "grammar gets large and slow to build",
                "use smaller bounds, or move the inner part into its own rule",
            )
        ],
    ),
    (
        'root ::= [^\\u0000-\\U0010FFFF] | "c"\n',
        [
            (
                "W204",
                1,
                10,
                "character class [^\\u0000-\\U0010FFFF] matches no character",
                EMPTY_CLASS_HINT,
            )
        ],
    ),
]

PROFILE_CASES: list[tuple[str, str, list[Row]]] = [
    (
        'root ::= "a"{2,3} (= "b")\n',
        "gbnf",
        [
            # {m,n} is GBNF since 2024 (llama.cpp): only the lookahead is flagged
            (
                "W501",
                1,
                22,
                'lookahead assertion (= ...) is not in profile "gbnf"',
                'drop the (= ...) assertion, or target profile "xgrammar-0.1" if the server has it',
            ),
        ],
    ),
    ('root ::= "a"{2,3} (= "b")\n', "xgrammar-0.1", []),
    (
        'root[max_chars=5] ::= Regex("[a-z]+")\n',
        "xgrammar-0.1",
        [
            (
                "W501",
                1,
                6,
                'rule option "max_chars" is not in profile "xgrammar-0.1"',
                'drop the [...] options, or target profile "xgrammar-0.2" if the server has it',
            ),
            (
                "W501",
                1,
                23,
                'macro Regex(...) is not in profile "xgrammar-0.1"',
                'write the language out as EBNF rules, or target profile "xgrammar-0.2" '
                "if the server has it",
            ),
        ],
    ),
    ('root[max_chars=5] ::= Regex("[a-z]+") "a"{3,}\n', "xgrammar-0.2", []),
    # ?, * and + are in every dialect.
    ('root ::= "a"? "b"* "c"+\n', "gbnf", []),
    # in step with to_gbnf(): Regex and Substring are expanded, other macros refused
    ('root ::= Regex("[a-z]+") Substring("ab")\n', "gbnf", []),
    (
        'root ::= "a" TagDispatch(("<", b))\nb ::= "x"\n',
        "gbnf",
        [
            (
                "W501",
                1,
                14,
                'macro TagDispatch(...) is not in profile "gbnf"',
                'write the language out as EBNF rules, or target profile "xgrammar-0.2" '
                "if the server has it",
            )
        ],
    ),
]


def rows(diagnostics: list[Diagnostic]) -> list[Row]:
    out = []
    for d in diagnostics:
        assert d.severity == "warning"
        assert d.code in CODES
        assert d.hint is not None
        out.append((d.code, d.line, d.column, d.message, d.hint))
    return out


@pytest.mark.parametrize(("source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_lint_messages(source: str, expected: list[Row]) -> None:
    assert rows(lint(parse_ebnf(source))) == expected


@pytest.mark.parametrize(("source", "profile", "expected"), PROFILE_CASES)
def test_profile_messages(source: str, profile: str, expected: list[Row]) -> None:
    assert rows(lint(parse_ebnf(source), profile=profile)) == expected


def test_every_code_has_a_case() -> None:
    seen = {row[0] for _, expected in CASES for row in expected}
    seen |= {row[0] for _, _, expected in PROFILE_CASES for row in expected}
    assert seen == set(CODES)


def test_clean_grammar_has_no_findings() -> None:
    source = (
        'root ::= "[" ws? (item (", " item)*)? "]"\n'
        'item ::= "yes" | "no" | num\n'
        "num ::= [0-9]{1,3}\n"
        "ws ::= [ \\t]{1,4}\n"
    )
    assert lint(parse_ebnf(source)) == []
    assert lint(parse_ebnf(source), profile="xgrammar-0.1") == []


def test_unknown_profile() -> None:
    with pytest.raises(ValueError) as info:
        lint(parse_ebnf('root ::= "a"'), profile="llama")
    assert str(info.value) == (
        'unknown profile "llama"; choose one of "gbnf", "xgrammar-0.1", "xgrammar-0.2"'
    )
    assert set(PROFILES) == {"gbnf", "xgrammar-0.1", "xgrammar-0.2"}


def test_sorted_by_position_and_deterministic() -> None:
    source = 'root ::= "a" | "a" | b\nb ::= "x" b\nz ::= ""\n'
    first = lint(parse_ebnf(source))
    assert [(d.line, d.column) for d in first] == sorted((d.line, d.column) for d in first)
    assert lint(parse_ebnf(source)) == first
    assert [d.code for d in first] == ["W303", "W206", "W201", "W101"]


def test_rendered_with_caret_under_the_rule_name() -> None:
    source = 'root ::= "a"\nhelper ::= "b" "c"\n'
    (diag,) = lint(parse_ebnf(source))
    assert diag.rule == "helper"
    assert (diag.end_line, diag.end_column) == (2, 7)
    assert diag.render(source) == (
        'line 2, column 1: warning[W101]: rule "helper" is never used\n'
        '  helper ::= "b" "c"\n'
        "  ^~~~~~\n"
        f"  = hint: {UNUSED_HINT}"
    )


def test_rule_of_nested_diagnostic() -> None:
    (diag,) = lint(parse_ebnf('root ::= "x" inner\ninner ::= "a" ("b"?)+\n'))
    assert (diag.code, diag.rule) == ("W205", "inner")


def test_tag_dispatch_target_counts_as_used() -> None:
    source = 'root ::= TagDispatch(("<t>", body))\nbody ::= "x" "</t>"\n'
    assert [d.code for d in lint(parse_ebnf(source))] == ["W203"]


def test_lookahead_reference_counts_as_used() -> None:
    assert lint(parse_ebnf('root ::= "a" (= end)\nend ::= ";"\n')) == []


def test_undefined_references_skip_productivity() -> None:
    # A hand-built AST the parser would refuse: no cascade of W201/W202 on top of E303.
    ast = GrammarAST((Rule("root", Sequence((Literal("a"), RuleRef("missing")))),))
    assert lint(ast) == []


def test_missing_root_does_not_crash() -> None:
    ast = GrammarAST((Rule("other", Literal("a")),))
    assert lint(ast) == []


def test_whitespace_through_a_rule() -> None:
    source = 'root ::= "a" sp+ "b"\nsp ::= " " | "\\t"\n'
    assert [d.message for d in lint(parse_ebnf(source))] == [
        "sp+ allows unbounded whitespace: a model can emit whitespace forever"
    ]


def test_bounded_whitespace_and_non_whitespace_runs_are_fine() -> None:
    source = 'root ::= "a" [ ]{0,3} [a-z ]* "b" ""*\n'
    assert [d.code for d in lint(parse_ebnf(source))] == ["W205"]


def test_prefix_pairs_are_all_reported() -> None:
    found = lint(parse_ebnf('root ::= "a" | "ab" | "abc"\n'))
    pairs = [d.message.split(":")[0] for d in found]
    assert pairs == [
        'alternative "a" is a prefix of alternative "ab"',
        'alternative "a" is a prefix of alternative "abc"',
        'alternative "ab" is a prefix of alternative "abc"',
    ]
