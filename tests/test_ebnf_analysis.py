"""Language facts: nullable, productive, reachable, recursive, lengths, finite languages."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from wafer_grammar.ebnf import analysis as A
from wafer_grammar.ebnf.charclass import (
    class_members,
    class_ranges,
    class_size,
    is_whitespace_class,
)
from wafer_grammar.ebnf.finite import finite_language
from wafer_grammar.ebnf.parser import parse_ebnf
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    Repeat,
    Rule,
    RuleRef,
    Sequence,
)


def g(source: str) -> GrammarAST:
    return parse_ebnf(source)


# --------------------------------------------------------------------------- graph


def test_reachable_through_macros_and_lookahead() -> None:
    ast = g(
        'root ::= TagDispatch(("<a>", a)) (= la)\na ::= "x" b\nb ::= "y"\nla ::= "z"\nlone ::= b\n'
    )
    assert A.reachable_rules(ast) == {"root", "a", "b", "la"}
    assert A.reachable_rules(ast, "lone") == {"lone", "b"}
    assert A.reachable_rules(ast, "nope") == set()
    assert A.rule_references(ast)["root"] == ["a", "la"]


def test_recursive_rules() -> None:
    ast = g(
        'root ::= list | atom\nlist ::= "(" items ")"\nitems ::= root ("," root)*\n'
        'atom ::= [a-z]+\nself ::= "x" self?\n'
    )
    assert A.recursive_rules(ast) == {"root", "list", "items", "self"}


def test_scc_order_puts_dependencies_first() -> None:
    graph = {"root": ["a", "c"], "a": ["b"], "b": ["a", "c"], "c": [], "d": ["missing"]}
    comps = A.strongly_connected_components(graph)
    assert sorted(map(sorted, comps)) == [["a", "b"], ["c"], ["d"], ["root"]]
    position = {name: i for i, comp in enumerate(comps) for name in comp}
    assert position["c"] < position["a"] < position["root"]


def test_scc_is_iterative() -> None:
    graph = {f"r{i}": [f"r{i + 1}"] for i in range(5000)}
    graph["r5000"] = ["r0"]
    assert len(A.strongly_connected_components(graph)) == 1


# --------------------------------------------------------------------------- nullable / productive

NULLABLE = [
    ('root ::= ""', True),
    ("root ::= ( )", True),
    ('root ::= "a"', False),
    ('root ::= "a"?', True),
    ('root ::= "a"{0}', True),
    ('root ::= "a"{0,3}', True),
    ('root ::= "a"{1,3}', False),
    ('root ::= "a" | ""', True),
    ('root ::= x x\nx ::= "b"*', True),
    ('root ::= x "c"\nx ::= "b"*', False),
    ("root ::= []*", True),
    ("root ::= [^]", False),
    ('root ::= Regex("a*")', True),
    ('root ::= Regex("a+")', False),
    ('root ::= Substring("ab", "c")', True),
    ('root ::= TagDispatch(("<t>", t))\nt ::= "x"', True),
    ("root ::= Token(1, 2)", False),
    ('root ::= ExcludeToken(5) | "a"', False),
    ('root[max_chars=3] ::= "a"*', True),
    ('root ::= "a"* (= "b")', True),
]


@pytest.mark.parametrize(("source", "nullable"), NULLABLE)
def test_nullable(source: str, nullable: bool) -> None:
    assert ("root" in A.nullable_rules(g(source))) is nullable


def test_regex_nullable() -> None:
    assert A.regex_nullable("(ab)?") is True
    assert A.regex_nullable("[0-9]") is False
    assert A.regex_nullable("(unclosed") is None
    # A FutureWarning from re must not escape (pytest turns warnings into errors).
    assert A.regex_nullable("[[a]") is False


PRODUCTIVE = [
    ('root ::= "a" root', set()),
    ('root ::= "a" root | "b"', {"root"}),
    ('root ::= a\na ::= b\nb ::= a | "x"', {"root", "a", "b"}),
    ('root ::= a | "x"\na ::= "y" a', {"root"}),
    ('root ::= "a" []', set()),
    ('root ::= ("a" [])*', {"root"}),
    ('root ::= ("a" [])+', set()),
    ('root ::= "x" | [] "y"', {"root"}),
    ('root[max_chars=2] ::= "abc"', set()),
    ('root[max_chars=2] ::= "abc" | "ab"', {"root"}),
    ('root ::= "a" (= x)\nx ::= "b" x', set()),
    ("root ::= Token(7)", {"root"}),
]


@pytest.mark.parametrize(("source", "productive"), PRODUCTIVE)
def test_productive(source: str, productive: set[str]) -> None:
    ast = g(source)
    assert A.productive_rules(ast) & {"root"} == productive & {"root"}
    assert A.productive_rules(ast) >= productive


def test_undefined_reference_matches_nothing() -> None:
    ast = GrammarAST((Rule("root", Choice((RuleRef("nope"), Literal("a")))),))
    assert A.min_lengths(ast) == {"root": 1}
    assert finite_language(ast) is None  # refuses to list a grammar XGrammar refuses
    assert A.min_lengths(GrammarAST((Rule("root", RuleRef("nope")),))) == {"root": None}


# --------------------------------------------------------------------------- lengths

LENGTHS: list[tuple[str, tuple[int, int | None] | None]] = [
    ('root ::= "ab" | "c"', (1, 2)),
    ('root ::= "ab"*', (0, None)),
    ('root ::= [0-9]{2,5} "."', (3, 6)),
    ('root ::= "(" root ")" | "x"', (1, None)),
    ('root ::= a\na ::= a | "xy"', (2, 2)),
    ('root ::= a\na ::= e a | "y"\ne ::= ""', (1, 1)),
    ('root ::= ("" | "a"?)*', (0, None)),
    ("root ::= []", None),
    ("root[max_chars=4] ::= [a-z]+", (1, 4)),
    ('root ::= w "!"\nw[max_chars=3] ::= "a" w | ""', (1, 4)),
    ('root ::= Substring("ab", "cde")', (0, 5)),
    ('root ::= Regex("[0-9]+")', (1, None)),
    ('root ::= TagDispatch(("<t>", t))\nt ::= "x"', (0, None)),
    ('root ::= "ab" (= "c")', (2, 2)),
]


@pytest.mark.parametrize(("source", "expected"), LENGTHS)
def test_length_range(source: str, expected: tuple[int, int | None] | None) -> None:
    assert A.length_range(g(source)) == expected


def test_length_range_of_a_named_rule() -> None:
    ast = g('root ::= "a" word\nword ::= [a-z]{3,8}')
    assert A.length_range(ast, "word") == (3, 8)
    assert A.length_range(ast, "missing") is None


# --------------------------------------------------------------------------- finite language

FINITE: list[tuple[str, list[str] | None]] = [
    ('root ::= "yes" | "no" | "maybe"', ["maybe", "no", "yes"]),
    ('root ::= ("a" | "b") ("x" | "y")?', ["a", "ax", "ay", "b", "bx", "by"]),
    ('root ::= "a" | "a"', ["a"]),
    ('root ::= ""', [""]),
    ("root ::= [a-c]{2}", ["aa", "ab", "ac", "ba", "bb", "bc", "ca", "cb", "cc"]),
    ('root ::= "-"? [0-1]', ["-0", "-1", "0", "1"]),
    ('root ::= label\nlabel ::= "pos" | "neg"', ["neg", "pos"]),
    ('root ::= a\na ::= a | "y"', ["y"]),
    ('root ::= a\na ::= e a | "y"\ne ::= ""', ["y"]),
    ('root ::= ("" | "")*', [""]),
    ("root ::= ([])*", [""]),
    ("root ::= []", []),
    ('root ::= "x" root', []),
    ('root ::= "a" | "b" []', ["a"]),
    ('root ::= Substring("ab", "c")', ["", "ab", "abc", "c"]),
    ('root ::= w "b"\nw[max_chars=2] ::= "x" w | ""', ["b", "xb", "xxb"]),
    ('root[max_chars=2] ::= "a" | "bb" | "ccc"', ["a", "bb"]),
    ('root ::= "a"*', None),
    ('root ::= "(" root ")" | "x"', None),
    ("root ::= [^a]", None),
    ('root ::= "a" (= "b")', None),
    ('root[lazy] ::= "a" | "ab"', None),
    ('root ::= Regex("a|b")', None),
    ('root ::= TagDispatch(("<t>", t))\nt ::= "x"', None),
    ("root ::= Token(1)", None),
    ('root[max_chars=3] ::= "a"*', None),
]


@pytest.mark.parametrize(("source", "expected"), FINITE)
def test_finite_language(source: str, expected: list[str] | None) -> None:
    assert finite_language(g(source)) == expected


def test_finite_language_limit() -> None:
    ast = g("root ::= [0-9]{3}")
    assert finite_language(ast, limit=999) is None
    language = finite_language(ast, limit=1000)
    assert language is not None and len(language) == 1000
    assert language[:2] == ["000", "001"]


def test_finite_language_of_a_long_exact_repeat_is_fast() -> None:
    assert finite_language(g('root ::= "ab"{100000}')) == ["ab" * 100000]


def test_finite_language_of_a_named_rule() -> None:
    ast = g('root ::= "x" item*\nitem ::= "a" | "b"')
    assert finite_language(ast) is None
    assert finite_language(ast, rule="item") == ["a", "b"]
    assert finite_language(ast, rule="missing") is None


def test_finite_language_gives_up_on_costly_products() -> None:
    # 2**40 distinct strings: must answer None quickly, not enumerate.
    assert finite_language(g('root ::= ("a" | "b"){40}')) is None


# --------------------------------------------------------------------------- classes


def test_class_helpers() -> None:
    cc = CharClass(((ord("c"), ord("e")), (ord("a"), ord("c"))))
    assert class_ranges(cc) == [(ord("a"), ord("e"))]
    assert class_size(cc) == 5
    assert class_members(cc, 5) == list("abcde")
    assert class_members(cc, 4) is None
    everything = CharClass((), True)
    assert class_size(everything) == 0x110000 - 0x800  # no surrogates
    assert class_size(CharClass(((0, 0xD7FF), (0xE000, 0x10FFFF)), True)) == 0
    assert class_size(CharClass(())) == 0
    assert is_whitespace_class(CharClass(((9, 10), (32, 32))))
    assert not is_whitespace_class(CharClass(((32, 33),)))
    assert not is_whitespace_class(CharClass(()))


# --------------------------------------------------------------------------- properties

_atoms = st.one_of(
    st.sampled_from(["", "a", "b", "ab", "ba"]).map(Literal),
    st.sampled_from([(("a", "b"),), (("b", "c"),), ()]).map(
        lambda rs: CharClass(tuple((ord(lo), ord(hi)) for lo, hi in rs))
    ),
)


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda xs: Sequence(tuple(xs))),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: Choice(tuple(xs))),
        st.tuples(children, st.integers(0, 2), st.integers(0, 2)).map(
            lambda t: Repeat(t[0], min(t[1], t[2]), max(t[1], t[2]))
        ),
    )


_exprs = st.recursive(_atoms, _extend, max_leaves=6)


class _TooBig(Exception):
    pass


def _reference(expr: Expr) -> set[str]:
    """The language by brute force, straight from the definitions (small ones only)."""
    if isinstance(expr, Literal):
        out = {expr.value}
    elif isinstance(expr, CharClass):
        out = set(class_members(expr, 100) or [])
    elif isinstance(expr, Sequence):
        out = {""}
        for item in expr.items:
            out = {a + b for a in out for b in _reference(item)}
    elif isinstance(expr, Choice):
        out = set().union(*map(_reference, expr.alternatives))
    else:
        assert isinstance(expr, Repeat) and expr.max is not None
        base = _reference(expr.item)
        out = {
            "".join(parts)
            for k in range(expr.min, expr.max + 1)
            for parts in itertools.product(sorted(base), repeat=k)
        }
    if len(out) > LIMIT:
        raise _TooBig
    return out


def _language(expr: Expr) -> list[str] | None:
    try:
        return sorted(_reference(expr))
    except _TooBig:
        return None


LIMIT = 200


@settings(max_examples=150, deadline=None)
@given(_exprs)
def test_finite_language_matches_brute_force(expr: Expr) -> None:
    ast = GrammarAST((Rule("root", expr),))
    expected = _language(expr)
    assume(expected is not None)
    assert expected is not None
    assert finite_language(ast, limit=LIMIT) == expected
    assert ("root" in A.nullable_rules(ast)) == ("" in expected)
    bounds = A.length_range(ast)
    if expected:
        assert bounds == (min(map(len, expected)), max(map(len, expected)))
    else:
        assert bounds is None


@settings(max_examples=100, deadline=None)
@given(_exprs, _exprs)
def test_finite_language_through_rules(first: Expr, second: Expr) -> None:
    # root uses helper twice and a recursion that adds nothing: same language as inlining.
    inlined = Sequence((first, second, first))
    ast = GrammarAST(
        (
            Rule("root", Sequence((RuleRef("h"), RuleRef("s"), RuleRef("h")))),
            Rule("h", first),
            Rule("s", Choice((RuleRef("s"), second))),
        )
    )
    expected = _language(inlined)
    assume(expected is not None)
    assert finite_language(ast, limit=LIMIT) == expected
