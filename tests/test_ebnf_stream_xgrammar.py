"""``is_prefix`` and ``matcher()`` against XGrammar, chunk by chunk, on generated grammars.

XGrammar runs in the fuzzer's crash-proof worker (tests/ebnf_fuzz.py): its
``accept_string`` segfaults on a few odd grammars, which must cost one grammar,
not the test run. Grammars here are recursive (so they exercise the exact LR
path and, where LALR has conflicts, the Earley one); after every chunk our
matcher's verdict must be XGrammar's verdict on the text so far.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from ebnf_fuzz import Oracle, strings_for, tag_dispatch_grammars, tag_dispatch_texts
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wafer_grammar import Grammar
from wafer_grammar.ebnf.analysis import productive_rules
from wafer_grammar.ebnf.render import render_ebnf
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
from wafer_grammar.engines.xgrammar_oracle import xgrammar_available

pytestmark = pytest.mark.skipif(
    not xgrammar_available(),
    reason="needs xgrammar: run `make venv` (installs xgrammar==0.2.8 without triton)",
)

_ORACLE: list[Oracle] = []


@pytest.fixture(scope="module", autouse=True)
def _oracle() -> Iterator[None]:
    _ORACLE.append(Oracle())
    yield
    _ORACLE.pop().close()


_NAMES = ("root", "a", "b")
_leaves = st.one_of(
    st.sampled_from(["a", "b", ",", "(", ")", "ab", "a,"]).map(Literal),
    st.sampled_from([(97, 97), (97, 98), (44, 44)]).map(lambda r: CharClass((r,))),
    st.sampled_from(_NAMES).map(RuleRef),
)
_exprs = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Sequence(tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Choice(tuple(xs))),
        st.builds(Repeat, inner, st.integers(0, 1), st.sampled_from([None, 2])),
        inner.map(lambda x: Sequence((Literal("("), x, Literal(")")))),
    ),
    max_leaves=6,
)


def _chunk_ends(text: str, rnd: random.Random) -> list[int]:
    ends, k = [], 0
    while k < len(text):
        k = min(len(text), k + rnd.randint(1, 3))
        ends.append(k)
    return ends


def _dead_ends(grammar: Grammar) -> bool:
    # Ours means "can still become a member"; XGrammar also walks into dead ends,
    # which lint reports: prefixes are compared on grammars without them.
    return any(d.code in ("W201", "W202", "W206") for d in grammar.check())


def _check(grammar: Grammar, strings: list[str], rnd: random.Random) -> None:
    cuts = {s: _chunk_ends(s, rnd) for s in strings}
    asked = sorted({s[:k] for s in strings for k in cuts[s]} | set(strings))
    theirs = _ORACLE[0].judge(grammar.to_ebnf(), asked)
    if theirs is None or theirs["parse_error"] or theirs["compile_error"]:
        return  # XGrammar crashed or hung on this grammar: nothing to compare
    accepts = dict(zip(asked, theirs["accepts"], strict=True))
    prefix = dict(zip(asked, theirs["prefix"], strict=True))
    prefixes = not _dead_ends(grammar)
    for s in strings:
        assert grammar.accepts(s) == accepts[s], (grammar.to_ebnf(), s)
        if prefixes:
            assert grammar.is_prefix(s) == prefix[s], (grammar.to_ebnf(), s)
        m, start = grammar.matcher(), 0
        for end in cuts[s]:
            alive = m.feed(s[start:end])
            start = end
            if prefixes:
                assert alive == prefix[s[:end]], (grammar.to_ebnf(), s[:end])
            if not alive:
                break
        assert m.is_complete == accepts[s], (grammar.to_ebnf(), s)


# derandomize: the same grammars every run, so CI never depends on a seed.
@settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(st.lists(_exprs, min_size=3, max_size=3), st.randoms(use_true_random=False))
def test_generated_grammars_stream_like_xgrammar(bodies: list[Expr], rnd: random.Random) -> None:
    nested = Sequence((Literal("("), RuleRef("root"), Literal(")")))
    bodies = [Choice((bodies[0], nested)), *bodies[1:]]  # recursive: never a regular root
    ast = GrammarAST(tuple(Rule(name, body) for name, body in zip(_NAMES, bodies, strict=True)))
    assume(productive_rules(ast) == set(_NAMES))
    text = render_ebnf(ast)
    grammar = Grammar.from_ebnf(text)
    strings = strings_for(random.Random(text), grammar, text)
    strings += ["".join(rnd.choice("ab,()") for _ in range(rnd.randint(0, 8))) for _ in range(8)]
    _check(grammar, sorted(set(strings)), rnd)


def test_json_streams_like_xgrammar() -> None:
    grammar = Grammar.from_file("grammars/json.ebnf")
    doc = '{"a": [1, -2.5e3, true, null], "b": {"c": "x\\"y\\u00e9", "d": []}, "e": {}}'
    rng = random.Random(11)
    strings = [doc, doc[:-1], doc[:30]]
    for _ in range(40):
        i = rng.randrange(len(doc))
        strings.append(doc[:i] + rng.choice('{}[]",:.-eE1 \\tnul') + doc[i + 1 :])
    _check(grammar, strings, rng)


@pytest.mark.parametrize("text", tag_dispatch_grammars(24, 33), ids=lambda x: "")
def test_tag_dispatch_streams_like_xgrammar(text: str) -> None:
    # The Earley chart resumes tag scans across chunks: cuts inside a tag must not matter.
    rnd = random.Random(text)
    _check(Grammar.from_ebnf(text), sorted(set(tag_dispatch_texts(rnd, 20))), rnd)
