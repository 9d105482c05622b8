"""strings(grammar): members only, every feature of the dialect, shrinking toward simple."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from wafer_grammar import Grammar, TextUnjudgeable
from wafer_grammar.testing import EmptyLanguage, strings
from wafer_grammar.testing.generate import Bounds
from wafer_grammar.testing.strategies import sample_members

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# One grammar per feature the generator must handle; each is also checked with
# accepts() on every value (the strategy filters, so we check it never needs to).
FEATURES = {
    "literal-seq": 'root ::= "a" "b" "c"',
    "class-ranges": "root ::= [a-cx-z0-9]+",
    "class-negated": 'root ::= "<" [^<>\\n]* ">"',
    "class-any": "root ::= [^] [^]",
    "class-unicode": "root ::= [α-ω\\u4e00-\\u4e0f\\U0001F600-\\U0001F64F]{2}",
    "repeat-bounds": 'root ::= "a"{2,4} "b"{3} "c"{0,1} "d"{2,}',
    "repeat-zero": 'root ::= "a"{0} "b"',
    "recursive": 'root ::= "(" root ")" | "x"',
    "left-recursive": 'root ::= root "+" "1" | "1"',
    "nullable-loop": 'root ::= a "!"\na ::= a | ""',
    "regex": 'root ::= Regex("[a-f]{2}-\\\\d+(x|yz)?")',
    "regex-flags": 'root ::= Regex("ab.", flags="i")',
    "substring": 'root ::= "[" Substring("alpha", " beta", " gamma") "]"',
    "lookahead": 'root ::= n ("," n)*\nn ::= [0-9]+ (= [,]?)',
    "max-chars": 'root ::= t " " t\nt[max_chars=2] ::= [a-z]*',
    "max-chars-recursive": 'root ::= t\nt[max_chars=5] ::= "(" t ")" | "x"',
    "lazy": 'root ::= "<" n ">"\nn[lazy] ::= [a-z]+',
    "lazy-tail": 'root ::= "<" n [a-z]* ">"\nn[lazy] ::= [a-z]+',
    "tag-dispatch": 'root ::= TagDispatch(("<n>", n))\nn ::= [0-9]+ "</n>"',
    "tag-dispatch-excludes": 'root ::= b "END"\nb ::= TagDispatch(("<t>", t), excludes=("END",))\nt ::= "x"',
    "tag-dispatch-once": 'root ::= TagDispatch(("<a>", a), ("<b>", b), loop_after_dispatch=false)\na ::= "1"\nb ::= "2"',
    "dead-alternative": 'root ::= [] "x" | "y" | undefined_free\nundefined_free ::= "z" []',
}


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_every_generated_string_is_a_member(name: str) -> None:
    grammar = Grammar.from_ebnf(FEATURES[name])
    seen: list[str] = []

    @FAST
    @given(strings(grammar))
    def check(text: str) -> None:
        assert grammar.accepts(text)
        seen.append(text)

    check()
    assert seen
    # The seeded sampler (the CLI's) walks the same generator.
    for tree in sample_members(grammar, 10, seed=1):
        assert grammar.accepts(tree.flatten())


@pytest.mark.parametrize(
    ("ebnf", "shortest"),
    [
        ('root ::= "(" root ")" | "x"', "x"),
        ('root ::= "long-one" | "s" | "mid"', "s"),
        ("root ::= [^] [^]", "aa"),
        ("root ::= [\\x00-\\x1F] [5-9]", "\x005"),
        ('root ::= "{" ws "}"\nws ::= [ \\t]*', "{}"),
        ('root ::= item ("," item)*\nitem ::= [0-9]+', "0"),
    ],
)
def test_shrinks_to_the_simplest_member(ebnf: str, shortest: str) -> None:
    found = find(strings(ebnf), lambda s: True, settings=settings(database=None))
    assert found == shortest


def test_recursion_depth_is_bounded() -> None:
    grammar = Grammar.from_ebnf('root ::= "(" root ")" | "x"')
    for tree in sample_members(grammar, 50, seed=0, bounds=Bounds(max_depth=3)):
        assert tree.flatten().count("(") <= 3


def test_generated_text_stays_near_max_size() -> None:
    grammar = Grammar.from_ebnf('root ::= "[" (root ("," root)*)? "]"')
    for tree in sample_members(grammar, 30, seed=0, bounds=Bounds(max_size=40)):
        assert len(tree.flatten()) < 400


def test_large_exact_repetition() -> None:
    grammar = Grammar.from_ebnf('root ::= [ab]{300} "."')
    texts = [t.flatten() for t in sample_members(grammar, 3, seed=0)]
    assert texts and all(len(t) == 301 for t in texts)


def test_no_surrogates_in_generated_text() -> None:
    grammar = Grammar.from_ebnf("root ::= [^a]{20}")
    for tree in sample_members(grammar, 40, seed=2):
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in tree.flatten())


def test_accepts_ebnf_text_directly() -> None:
    @FAST
    @given(strings('root ::= "yes" | "no"'))
    def check(text: str) -> None:
        assert text in ("yes", "no")

    check()


def test_token_level_macros_cannot_be_generated() -> None:
    with pytest.raises(TextUnjudgeable) as err:
        strings("root ::= Token(1, 2)")
    assert str(err.value) == (
        "rule 'root' uses Token(...), which matches model token IDs, not text: this "
        "grammar's outputs cannot be judged on text alone; check them with the engine "
        "(XGrammar) on token IDs instead"
    )


def test_empty_language_is_reported() -> None:
    with pytest.raises(EmptyLanguage) as err:
        strings('root ::= [] "x"')
    assert str(err.value) == (
        "rule 'root' matches no string (every alternative needs an empty character class, "
        "an undefined rule or endless recursion): there is nothing to generate; run "
        "`wafer-grammar check` to see why"
    )


def test_finite_language_samples_stop_at_its_size() -> None:
    grammar = Grammar.from_ebnf('root ::= "a" | "b"')
    texts = sorted(t.flatten() for t in sample_members(grammar, 10, seed=0))
    assert texts == ["a", "b"]


@FAST
@given(st.data())
def test_json_members_parse_with_json_loads(data: st.DataObject) -> None:
    import json
    from pathlib import Path

    grammar = Grammar.from_file(Path(__file__).parents[2] / "grammars" / "json.ebnf")
    json.loads(data.draw(strings(grammar)))
