"""The Python grammar builder: structure, flattening, round trips and errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wafer_grammar.builder import (
    Fragment,
    GrammarBuilder,
    any_char,
    choice,
    cls,
    empty,
    lit,
    many,
    many1,
    opt,
    ref,
    regex,
    rep,
    seq,
    substring,
)
from wafer_grammar.ebnf.parser import parse_ebnf
from wafer_grammar.ebnf.render import render_ebnf, render_expr
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    GrammarAST,
    Literal,
    Repeat,
    RuleOption,
    RuleRef,
    Sequence,
)
from wafer_grammar.errors import GrammarError
from wafer_grammar.grammar import Grammar


def text(fragment: Fragment) -> str:
    return render_expr(fragment.expr)


def roundtrip(ast: GrammarAST) -> None:
    assert parse_ebnf(render_ebnf(ast), root=ast.root) == ast


def test_readme_example() -> None:
    b = GrammarBuilder()
    items = opt(seq(b.ref("item"), many(seq(lit(", "), b.ref("item")))))
    b["root"] = seq(lit("["), items, lit("]"))
    b["item"] = choice(lit("yes"), lit("no"))
    ast = b.build()
    assert render_ebnf(ast) == 'root ::= "[" (item (", " item)*)? "]"\nitem ::= "yes" | "no"\n'
    roundtrip(ast)


def test_operators_match_functions() -> None:
    item = ref("item")
    assert "[" + (item + many(", " + item)).opt() + "]" == seq(
        "[", opt(seq(item, many(seq(", ", item)))), "]"
    )
    assert (lit("a") | "b" | "c") == choice("a", "b", "c")
    assert ("a" | lit("b")) == choice("a", "b")
    assert lit("x").many() == many("x")
    assert lit("x").many1() == many1("x")
    assert lit("x").rep(2, 5) == rep("x", 2, 5)


def test_flattening_like_the_parser() -> None:
    nested = seq("a", seq("b", seq("c")), "d")
    assert nested.expr == Sequence(tuple(Literal(c) for c in "abcd"))
    assert ((lit("a") | "b") | ("c" | lit("d"))).expr == Choice(tuple(Literal(c) for c in "abcd"))
    assert seq("a").expr == Literal("a")
    assert choice("a").expr == Literal("a")
    assert seq().expr == Literal("")
    # A choice inside a sequence stays a unit (it renders in parentheses).
    mixed = lit("a") + (lit("b") | "c")
    assert text(mixed) == '"a" ("b" | "c")'
    assert parse_ebnf(f"root ::= {text(mixed)}").rules[0].body == mixed.expr


REPEATS = [
    (opt("a"), '"a"?', (0, 1)),
    (many("a"), '"a"*', (0, None)),
    (many1("a"), '"a"+', (1, None)),
    (rep("a", 3), '"a"{3}', (3, 3)),
    (rep("a", 2, 5), '"a"{2,5}', (2, 5)),
    (rep("a", 2, None), '"a"{2,}', (2, None)),
    (rep("a", 0), '"a"{0}', (0, 0)),
    (many(many("a")), '("a"*)*', (0, None)),
    (many(seq("a", "b")), '("a" "b")*', (0, None)),
]


@pytest.mark.parametrize(("fragment", "rendered", "bounds"), REPEATS)
def test_repetitions(fragment: Fragment, rendered: str, bounds: tuple[int, int | None]) -> None:
    assert isinstance(fragment.expr, Repeat)
    assert (fragment.expr.min, fragment.expr.max) == bounds
    assert text(fragment) == rendered


CLASSES = [
    (cls("a-z"), "[a-z]"),
    (cls("a-zA-Z_", "0-9"), "[a-zA-Z_0-9]"),
    (cls("-a"), "[\\-a]"),
    (cls("a-"), "[a\\-]"),
    (cls(("0", "9"), "."), "[0-9.]"),
    (cls("a-z", negate=True), "[^a-z]"),
    (~cls('"\\'), '[^"\\\\]'),
    (~~cls("x"), "[x]"),
    (cls(" \t\n"), "[ \\t\\n]"),
    (cls("]^["), "[\\]\\^\\[]"),
    (any_char(), "[^]"),
    (cls(), "[]"),
]


@pytest.mark.parametrize(("fragment", "rendered"), CLASSES)
def test_classes(fragment: Fragment, rendered: str) -> None:
    assert text(fragment) == rendered
    assert parse_ebnf(f"root ::= {rendered}").rules[0].body == fragment.expr


def test_class_members() -> None:
    expr = cls("a-c", "_").expr
    assert isinstance(expr, CharClass)
    assert [expr.contains(ch) for ch in "ab_d"] == [True, True, True, False]


def test_macros_and_options_round_trip() -> None:
    b = GrammarBuilder()
    b["root"] = b.ref("num") + " " + b.ref("word")
    b.rule("num", regex(r"[0-9]+\.?"), max_chars=12, capture="n")
    b.rule("word", substring("ab", 'c"d'), lazy=True, max_tokens=5, temperature=0.5)
    b.rule("tail", "x", lookahead=cls(",;"), capture=True, lazy=False)
    b["root2"] = b.ref("tail")
    ast = b.build()
    assert render_ebnf(ast) == (
        'root ::= num " " word\n'
        'num[max_chars=12, capture="n"] ::= Regex("[0-9]+\\\\.?")\n'
        'word[lazy, max_tokens=5, temperature=0.5] ::= Substring("ab", "c\\"d")\n'
        'tail[capture] ::= "x" (= [,;])\n'
        "root2 ::= tail\n"
    )
    assert ast.rule_map()["tail"].options == (RuleOption("capture"),)
    roundtrip(ast)


def test_rule_returns_a_reference_and_forward_refs_work() -> None:
    b = GrammarBuilder()
    value = b.ref("value")
    b["root"] = value
    b["value"] = "[" + opt(value + many("," + value)) + "]" | "x"
    item = b.rule("unused", "u")
    assert item.expr == RuleRef("unused")
    assert "value" in b and "nope" not in b
    ast = b.build()
    assert [r.name for r in ast.rules] == ["root", "value", "unused"]
    roundtrip(ast)


def test_custom_root_and_grammar() -> None:
    b = GrammarBuilder(root="start")
    b["start"] = lit("ok")
    grammar = b.grammar()
    assert isinstance(grammar, Grammar)
    assert grammar.root == "start"
    assert grammar == Grammar.from_ebnf('start ::= "ok"', root="start")


def test_grammar_diagnostics_have_positions() -> None:
    b = GrammarBuilder()
    b["root"] = lit("yes") | "yes, but"
    b["ws"] = many(cls(" \t"))
    grammar = b.grammar()
    assert grammar.source == 'root ::= "yes" | "yes, but"\nws ::= [ \\t]*\n'
    found = [(d.code, d.line, d.column) for d in grammar.check()]
    assert found == [("W302", 1, 10), ("W101", 2, 1), ("W301", 2, 8)]


def test_build_collects_every_error() -> None:
    b = GrammarBuilder()
    b["item"] = b.ref("missing") + b.ref("other") + b.ref("missing")
    b["item"] = "x"
    b.rule("look", "a", lookahead=lit("b") | "c")
    with pytest.raises(GrammarError) as info:
        b.build()
    found = [(d.code, d.rule, d.message, d.hint) for d in info.value.diagnostics]
    assert found == [
        (
            "E302",
            "item",
            'rule "item" is defined more than once',
            "rename one of them or merge their bodies with |",
        ),
        ("E304", None, 'the root rule "root" is not defined', 'define it: builder["root"] = ...'),
        (
            "E303",
            "item",
            'rule "missing" is not defined',
            'define it ("missing ::= ...") or fix the spelling',
        ),
        (
            "E303",
            "item",
            'rule "other" is not defined',
            'define it ("other ::= ...") or fix the spelling',
        ),
        (
            "E207",
            "look",
            "choices (|) are not supported in a lookahead assertion",
            "move the choice into a helper rule, or assert only the common part",
        ),
    ]
    assert all(d.severity == "error" for d in info.value.diagnostics)
    assert str(info.value).startswith(
        'line 1, column 1: error[E302]: rule "item" is defined more than once'
    )


def test_undefined_reference_in_lookahead() -> None:
    b = GrammarBuilder()
    b.rule("root", "a", lookahead=ref("end"))
    with pytest.raises(GrammarError) as info:
        b.build()
    assert [d.message for d in info.value.diagnostics] == ['rule "end" is not defined']


MISUSE = [
    (lambda: ref("9lives"), ValueError, "invalid rule name '9lives': use ASCII letters, digits, "
     "'_', '-' and '.', not starting with a digit"),
    (lambda: ref(""), ValueError, "invalid rule name '': use ASCII letters, digits, '_', '-' "
     "and '.', not starting with a digit"),
    (lambda: ref("Regex"), ValueError, "'Regex' is reserved and cannot name a rule"),
    (lambda: ref("true"), ValueError, "'true' is reserved and cannot name a rule"),
    (lambda: GrammarBuilder(root="a b"), ValueError, "invalid rule name 'a b': use ASCII "
     "letters, digits, '_', '-' and '.', not starting with a digit"),
    (lambda: rep("a", 3, 2), ValueError, "repetition range {3,2}: the lower bound is larger"),
    (lambda: rep("a", -1), ValueError, "repetition bound -1 is outside 0..1000000000000000"),
    (lambda: rep("a", 1.5), TypeError, "repetition bounds must be integers, not 1.5"),  # type: ignore[arg-type]
    (lambda: cls("z-a"), ValueError, "reversed character range 'z'-'a'"),
    (lambda: cls(("ab", "c")), ValueError, "a range needs two single characters, not ('ab', 'c')"),
    (lambda: choice(), ValueError, "choice() needs at least one alternative"),
    (lambda: substring(), ValueError, "substring() needs at least one chunk"),
    (lambda: ~lit("a"), TypeError, 'only a character class can be negated, not "a"'),
    (lambda: seq(3), TypeError, "expected a Fragment, str or AST node, not int"),  # type: ignore[arg-type]
    (lambda: lit(3), TypeError, "lit() takes a str, not int"),  # type: ignore[arg-type]
    (lambda: GrammarBuilder().rule("r", "a", greedy=True), ValueError,
     "unknown rule option 'greedy'; known: max_chars, max_tokens, capture, lazy, temperature"),
    (lambda: GrammarBuilder().rule("r", "a", max_chars=-1), ValueError,
     "max_chars must be a non-negative integer of at most 10 digits"),
    (lambda: GrammarBuilder().rule("r", "a", max_chars="3"), ValueError,
     "invalid value for rule option 'max_chars': '3'"),
    (lambda: GrammarBuilder().rule("r", "a", capture='a"b'), ValueError,
     "capture name must be non-empty, without quotes or escapes: 'a\"b'"),
    (lambda: GrammarBuilder().rule("r", "a", temperature=float("inf")), ValueError,
     "temperature must be a finite non-negative number"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "error", "message"), MISUSE)
def test_misuse_is_reported_at_once(call: object, error: type[Exception], message: str) -> None:
    assert callable(call)
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


def test_fragment_repr_and_hash() -> None:
    assert repr(lit("a") + cls("0-9")) == 'Fragment("a" [0-9])'
    assert len({lit("a"), lit("a"), lit("b")}) == 2
    assert empty() == lit("")


# --------------------------------------------------------------------------- property

_leaves = st.one_of(
    st.text(max_size=3).map(lit),
    st.sampled_from(["a-z", "0-9_", " \t\n", '"\\-', "]^"]).map(cls),
    st.sampled_from(["a-z", "x"]).map(lambda s: cls(s, negate=True)),
    st.sampled_from(["r0", "r1"]).map(ref),
)


def _combine(children: st.SearchStrategy[Fragment]) -> st.SearchStrategy[Fragment]:
    pairs = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        pairs.map(lambda xs: seq(*xs)),
        pairs.map(lambda xs: choice(*xs)),
        children.map(opt),
        children.map(many),
        children.map(many1),
        st.tuples(children, st.integers(0, 3), st.integers(0, 3)).map(
            lambda t: rep(t[0], min(t[1], t[2]), max(t[1], t[2]))
        ),
    )


@settings(max_examples=200, deadline=None)
@given(st.recursive(_leaves, _combine, max_leaves=8), st.recursive(_leaves, _combine, max_leaves=5))
def test_build_render_parse_round_trip(first: Fragment, second: Fragment) -> None:
    b = GrammarBuilder()
    b["root"] = first + b.ref("r0")
    b["r0"] = second | b.ref("r1")
    b["r1"] = lit("end")
    roundtrip(b.build())


def test_invariants_of_built_trees() -> None:
    frag = seq(seq("a", "b") | ("c" | lit("d")), seq(seq("e")))
    for node in [frag.expr, *getattr(frag.expr, "items", ())]:
        if isinstance(node, Sequence):
            assert not any(isinstance(item, Sequence) for item in node.items)
            assert len(node.items) >= 2
        if isinstance(node, Choice):
            assert not any(isinstance(alt, Choice) for alt in node.alternatives)
            assert len(node.alternatives) >= 2
