"""The parser agrees with XGrammar on validity and explains every refusal exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wafer_grammar import Grammar, GrammarError, GrammarSyntaxError
from wafer_grammar.ebnf.parser import parse_ebnf
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Literal,
    MacroCall,
    MacroInt,
    MacroName,
    MacroString,
    MacroTuple,
    Repeat,
    RuleOption,
    RuleRef,
    Sequence,
)

CONFORMANCE = Path(__file__).parent / "conformance"


def _cases(name: str) -> list[dict[str, object]]:
    lines = (CONFORMANCE / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


VALIDITY_CASES = _cases("visible.jsonl") + _cases("xgrammar-validity.jsonl")


@pytest.mark.parametrize("case", VALIDITY_CASES, ids=lambda c: str(c["id"]))
def test_validity_agrees_with_xgrammar(case: dict[str, object]) -> None:
    text = str(case["grammar"])
    # "compiles": false marks grammars XGrammar's parser takes and its compiler refuses.
    if case["valid"] and case.get("compiles", True):
        parse_ebnf(text)
    else:
        with pytest.raises(GrammarError) as info:
            parse_ebnf(text)
        assert info.value.diagnostics, "a refusal must carry diagnostics"


# Each bad grammar next to the exact diagnostics it produces: (code, line, column, message).
MESSAGES = [
    ('root ::= "\\z"', [("E102", 1, 11, "invalid escape sequence '\\z' in string")]),
    ('root ::= "\\u12"', [("E102", 1, 11, "invalid escape sequence in string: '\\u' needs exactly 4 hex digits")]),
    ('root ::= [\\x]', [("E102", 1, 11, "invalid escape sequence in character class: '\\x' needs at least one hex digit")]),
    ("root ::= 'a'", [("E101", 1, 10, "strings are written in double quotes, not single quotes")]),
    ('root ::= "a" @', [("E101", 1, 14, "unexpected character '@'")]),
    ('root ::= a :\na ::= "x"', [("E101", 1, 12, "unexpected ':' (did you mean '::='?)")]),
    ('root ::= "abc', [("E103", 1, 14, "unterminated string literal")]),
    ("root ::= [abc", [("E104", 1, 14, "unterminated character class")]),
    ('root ::= [ab\n]', [("E104", 1, 13, "unterminated character class (a newline is not allowed inside [...])"),
                         ("E101", 2, 1, "unexpected character ']'")]),
    ("root ::= [\\d]", [("E105", 1, 11, "character class escape '\\d' is not supported in EBNF")]),
    ("root ::= [z-a]", [("E106", 1, 11, "character class range z-a is reversed")]),
    ('root ::= "a"{10000000000000000}', [("E107", 1, 14, "integer 10000000000000000 is too large (the maximum is 1000000000000000)")]),
    ('::= "a"', [("E201", 1, 1, "'::=' must follow a rule name"), ("E304", 1, 1, 'the root rule "root" is not defined')]),
    ('root ::= x\nx [lazy] ::= "a"', [("E201", 2, 10, "'::=' must follow a rule name, not '[lazy]'")]),
    ('root ::= "a" other ::= "b"', [("E202", 1, 14, 'the rule name "other" must be at the beginning of its line')]),
    ('root ::= "a" |', [("E203", 1, 15, "expected an element (a string, a [class], a rule name or a group), found end of input")]),
    ('root ::= | "a"', [("E203", 1, 10, "expected an element (a string, a [class], a rule name or a group), found '|'")]),
    ('root ::= ("a"', [("E204", 1, 14, "expected ')' to close the group opened at line 1, column 10, found end of input")]),
    ('root ::= ("a" (= "b"))', [("E204", 1, 15, "expected ')' to close the group opened at line 1, column 10, found '(='")]),
    ('root ::= "a"*+', [("E205", 1, 14, "'+' cannot follow another repetition operator")]),
    ('root ::= "a"{2}*', [("E205", 1, 16, "'*' cannot follow another repetition operator")]),
    ('root ::= "a"{-1}', [("E206", 1, 14, "expected a non-negative integer in repetition range, found '-1'")]),
    ('root ::= "a"{,3}', [("E206", 1, 14, "expected a non-negative integer in repetition range, found ','")]),
    ('root ::= "a"{3,2}', [("E206", 1, 16, "repetition range {3,2}: the lower bound is larger than the upper bound")]),
    ('root ::= "a"{3 4}', [("E206", 1, 16, "expected ',' or '}' in repetition range, found '4'")]),
    ('root ::= "a" (= "b" | "c")', [("E207", 1, 14, "choices (|) are not supported in a lookahead assertion")]),
    ('root ::= "a")', [("E208", 1, 13, "unexpected ')' after the end of rule \"root\"")]),
    ('root ::= "a" (= "b") "c"', [("E208", 1, 22, "unexpected '\"c\"' after the end of rule \"root\"")]),
    ("root ::= " + "(" * 1001 + '"a"' + ")" * 1001, [("E209", 1, 1010, "groups are nested more than 1000 deep")]),
    ('root ::= x\nx[foo] ::= "a"', [("E301", 2, 3, "unknown rule option 'foo'")]),
    ('root ::= x\nx[max_chars=2, max_chars=3] ::= "a"', [("E301", 2, 16, "rule option 'max_chars' is given more than once")]),
    ('root ::= x\nx[lazy=1] ::= "a"', [("E301", 2, 3, "rule option 'lazy' takes no value")]),
    ('root ::= x\nx[max_chars] ::= "a"', [("E301", 2, 3, "rule option 'max_chars' needs a value, e.g. max_chars=1")]),
    ('root ::= x\nx[capture=""] ::= "a"', [("E301", 2, 3, "the capture name must not be empty")]),
    ('root ::= x\nx[capture=a] ::= "a"', [("E301", 2, 3, 'rule option capture takes a quoted name without escapes, e.g. capture="x"')]),
    ('root ::= x\nx[temperature=-1] ::= "a"', [("E301", 2, 3, "the temperature must be a finite non-negative number")]),
    ('root ::= x\nx[temperature=hot] ::= "a"', [("E301", 2, 3, "rule option 'temperature' takes a number, not 'hot'")]),
    ('root ::= x\nx[max_tokens=abc] ::= "a"', [("E301", 2, 3, "rule option 'max_tokens' takes a non-negative integer of at most 10 digits, not 'abc'")]),
    ('root ::= x\nx[] ::= "a"', [("E301", 2, 3, "empty rule option list '[]'")]),
    ('root ::= x\nx[lazy,] ::= "a"', [("E301", 2, 3, "trailing comma in rule options")]),
    ('root ::= a\na ::= "1"\na ::= "2"', [("E302", 3, 1, 'rule "a" is defined more than once (first at line 2, column 1)')]),
    ("root ::= b | c", [("E303", 1, 10, 'rule "b" is not defined'), ("E303", 1, 14, 'rule "c" is not defined')]),
    ('main ::= "m"', [("E304", 1, 1, 'the root rule "root" is not defined')]),
    ("root ::= Regex()", [("E305", 1, 10, "Regex expects exactly one string argument (the pattern)")]),
    ("root ::= Regex(x)", [("E305", 1, 16, "the Regex pattern must be a string literal")]),
    ('root ::= Regex("a", flags="q")', [("E305", 1, 27, "regular-expression flag 'q' is not supported (supported: i, s, u)")]),
    ('root ::= Regex("a", json_string=1)', [("E305", 1, 33, "Regex's json_string must be true or false")]),
    ('root ::= Regex("a", bogus=1)', [("E305", 1, 27, "Regex has no argument named 'bogus' (it takes json_string and flags)")]),
    ("root ::= Regex", [("E305", 1, 15, "Regex is a macro: call it as Regex(...)")]),
    ("root ::= Substring(1)", [("E305", 1, 20, "Substring() arguments must be strings")]),
    ('root ::= Substring("a", x=1)', [("E305", 1, 27, "Substring() takes no named arguments")]),
    ('root ::= TagDispatch("a")', [("E305", 1, 22, 'each TagDispatch argument must be a ("tag", rule) pair')]),
    ('root ::= TagDispatch(("", x))\nx ::= "b"', [("E305", 1, 23, "a TagDispatch tag must be a non-empty string")]),
    ('root ::= TagDispatch(("a", "x"))', [("E305", 1, 28, "a TagDispatch target must be a rule name")]),
    ('root ::= TagDispatch(("a", y))', [("E303", 1, 28, 'rule "y" is not defined')]),
    ('root ::= TagDispatch(("ab", x), excludes=("a",))\nx ::= "b"', [("E305", 1, 43, "the exclude 'a' is a prefix of the tag 'ab'")]),
    ('root ::= TagDispatch(("a", x), excludes="b")\nx ::= "b"', [("E305", 1, 41, 'TagDispatch\'s excludes must be a tuple of strings, e.g. ("x",)')]),
    ('root ::= TagDispatch(("a", x), loop_after_dispatch=1)\nx ::= "b"', [("E305", 1, 52, "TagDispatch's loop_after_dispatch must be true or false")]),
    ('root ::= TagDispatch(("a", x), stop=true)\nx ::= "b"', [("E305", 1, 37, "TagDispatch has no argument named 'stop' (it takes loop_after_dispatch and excludes)")]),
    ("root ::= Token()", [("E305", 1, 10, "Token() needs at least one token ID")]),
    ("root ::= Token(-1)", [("E305", 1, 16, "Token() arguments must be non-negative integer token IDs")]),
    ("root ::= ExcludeToken(1, x=2)", [("E305", 1, 28, "ExcludeToken() takes no named arguments")]),
    ('root ::= TokenTagDispatch(("a", x))\nx ::= "b"', [("E305", 1, 28, "a TokenTagDispatch trigger must be a non-negative integer token ID")]),
    ('root ::= TokenTagDispatch((1, x), excludes=(1,))\nx ::= "b"', [("E305", 1, 45, "token ID 1 is both a trigger and excluded")]),
    ("root ::= Token(1,", [("E305", 1, 18, "expected a string, integer, boolean, rule name or tuple as macro argument, found end of input")]),
    ('root ::= TagDispatch(("a" x))', [("E305", 1, 27, "expected ',' or ')' in tuple, found 'x'")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), MESSAGES, ids=[m[0][:40] for m in MESSAGES])
def test_error_messages_exact(text: str, expected: list[tuple[str, int, int, str]]) -> None:
    with pytest.raises(GrammarError) as info:
        parse_ebnf(text)
    got = [(d.code, d.line, d.column, d.message) for d in info.value.diagnostics]
    assert got == expected


def test_syntax_and_semantic_errors_use_the_right_class() -> None:
    with pytest.raises(GrammarSyntaxError):
        Grammar.from_ebnf('root ::= "a')
    with pytest.raises(GrammarError) as info:
        Grammar.from_ebnf("root ::= nothing")
    assert not isinstance(info.value, GrammarSyntaxError)
    assert isinstance(info.value, ValueError)


def test_all_errors_are_collected_in_source_order() -> None:
    text = 'root ::= a "\\q"\nb ::= [z-a] | c\nb ::= "x"\n'
    with pytest.raises(GrammarError) as info:
        parse_ebnf(text)
    assert [d.code for d in info.value.diagnostics] == ["E303", "E102", "E106", "E303", "E302"]


def test_exception_text_renders_the_first_error_with_caret() -> None:
    with pytest.raises(GrammarError) as info:
        parse_ebnf('root ::= "a" | b\nb ::= "\\q" | c')
    assert str(info.value) == (
        "line 2, column 8: error[E102]: invalid escape sequence '\\q' in string\n"
        '  b ::= "\\q" | c\n'
        "         ^~\n"
        '  = hint: valid escapes: \\" \\\\ \\n \\r \\t \\xHH \\uHHHH \\UHHHHHHHH\n'
        "(and 1 more error)"
    )
    assert info.value.render().splitlines()[-4:] == [
        'line 2, column 14: error[E303]: rule "c" is not defined',
        '  b ::= "\\q" | c',
        "               ^",
        '  = hint: define it ("c ::= ...") or fix the spelling',
    ]


def test_diagnostic_fields() -> None:
    with pytest.raises(GrammarError) as info:
        parse_ebnf('root ::= x\nx ::= "a" | y')
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.severity, diag.line, diag.column, diag.rule) == (
        "E303",
        "error",
        2,
        13,
        "x",
    )
    assert diag.hint == 'define it ("y ::= ...") or fix the spelling'


def test_ast_shapes() -> None:
    ast = parse_ebnf(
        'root ::= "a" (b | [^a-c\\]-])* "" ( ) x{2,} x{0,3}\n'
        'b ::= Regex("\\\\d", flags="i") | TagDispatch(("<t>", x), excludes=("E",))\n'
        'x[max_chars=3, capture="c", lazy, temperature=0.5] ::= "q" (= "z" "w")\n'
    )
    root, b, x = ast.rules
    assert root.body == Sequence((
        Literal("a"),
        Repeat(Choice((RuleRef("b"), CharClass(((97, 99), (93, 93), (45, 45)), True))), 0, None),
        Literal(""),
        Literal(""),
        Repeat(RuleRef("x"), 2, None),
        Repeat(RuleRef("x"), 0, 3),
    ))  # fmt: skip
    assert b.body == Choice((
        MacroCall("Regex", (MacroString("\\d"),), (("flags", MacroString("i")),)),
        MacroCall(
            "TagDispatch",
            (MacroTuple((MacroString("<t>"), MacroName("x"))),),
            (("excludes", MacroTuple((MacroString("E"),))),),
        ),
    ))  # fmt: skip
    assert x.options == (
        RuleOption("max_chars", 3), RuleOption("capture", "c"),
        RuleOption("lazy"), RuleOption("temperature", 0.5),
    )  # fmt: skip
    assert x.lookahead == Sequence((Literal("z"), Literal("w")))
    assert parse_ebnf("root ::= Token(1, 2)").rules[0].body == MacroCall(
        "Token", (MacroInt(1), MacroInt(2))
    )


@pytest.mark.parametrize(
    ("escape", "char"),
    [("\\x41", "A"), ("\\x9", "\t"), ("\\x1F600", "😀"), ("\\u00e9", "é"), ("\\U0001F600", "😀"),
     ("\\e", "\x1b"), ("\\0", "\0"), ("\\a", "\a"), ("\\v", "\v"), ("\\/", "/"), ("\\'", "'"),
     ("\\?", "?"), ('\\"', '"'), ("\\\\", "\\")],
)  # fmt: skip
def test_string_escapes(escape: str, char: str) -> None:
    assert parse_ebnf(f'root ::= "{escape}"').rules[0].body == Literal(char)


def test_layout_is_free_but_rule_names_start_lines() -> None:
    a = parse_ebnf('root ::=\n  "a" # one\n  # two\n  "b"\r\nc ::= "c"\rd ::= "d"')
    assert [r.name for r in a.rules] == ["root", "c", "d"]
    assert a.rules[0].body == Sequence((Literal("a"), Literal("b")))


def test_custom_root() -> None:
    assert Grammar.from_ebnf('main ::= "m"', root="main").root == "main"


# Any text at all: the parser either returns a grammar or raises GrammarError.
_ALPHABET = st.sampled_from(
    list('root::= "ab"[^a-z\\]x(=)|*+?{1,2}#\n\t-\'Regex(TagDispatch,_.é😀\\xu0')
)


@settings(max_examples=300, deadline=None)
@given(st.text(_ALPHABET, max_size=60) | st.text(max_size=40))
def test_parser_never_raises_anything_else(text: str) -> None:
    try:
        parse_ebnf(text)
    except GrammarError as exc:
        assert exc.diagnostics
        for diag in exc.diagnostics:
            assert diag.line >= 1 and diag.column >= 1
            diag.render(text)


def test_an_undefined_rule_close_to_a_defined_one_suggests_it() -> None:
    from wafer_grammar.errors import GrammarError

    with pytest.raises(GrammarError) as info:
        parse_ebnf('root ::= greting\ngreeting ::= "hi"\n')
    (d,) = info.value.diagnostics
    assert (d.code, d.hint) == (
        "E303",
        'did you mean "greeting"? (or define it: "greting ::= ...")',
    )
