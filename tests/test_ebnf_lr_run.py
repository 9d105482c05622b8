"""The exact LR path (lr_table, lr_run) against the exact Earley recognizer.

Both are exact, so they must agree on every grammar the LR path takes, for
``accepts``, ``is_prefix`` and a stream fed in chunks of any size.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wafer_grammar import Grammar
from wafer_grammar.ebnf.acceptor import Acceptor
from wafer_grammar.ebnf.analysis import productive_rules
from wafer_grammar.ebnf.lr_run import LIMIT
from wafer_grammar.ebnf.lr_table import RESUMED_CHUNK, RESUMED_PER_STATE
from wafer_grammar.ebnf.parser import parse_ebnf
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

JSON = Grammar.from_file("grammars/json.ebnf")
DOC = '{"a": [1, -2.5e3, true, null], "b": {"c": "x\\"y", "d": []}, "e": {}}'


def _exact(acceptor: Acceptor, text: str) -> tuple[bool, bool]:
    chart = acceptor.recognizer().run(text)
    return chart.accepted, chart.alive_at_end


def _lr(acceptor: Acceptor, text: str) -> tuple[bool, bool] | None:
    run = acceptor.lr_run(text)
    return None if run is None else (run.complete(), run.alive)


def test_json_takes_the_lr_path_and_agrees_on_every_prefix_and_edit() -> None:
    acceptor = JSON._acceptor
    assert acceptor.lr_tables() is not None
    rng = random.Random(5)
    texts = [DOC[:k] for k in range(len(DOC) + 1)]
    for _ in range(150):
        i = rng.randrange(len(DOC))
        texts.append(DOC[:i] + rng.choice('{}[]",:.-eE1 \\tnul') + DOC[i + 1 :])
        texts.append(DOC[:i] + DOC[i + 1 :])
    for text in texts:
        assert _lr(acceptor, text) == _exact(acceptor, text), text
        assert (JSON.accepts(text), JSON.is_prefix(text)) == _exact(acceptor, text), text


def test_a_split_the_longest_match_lexer_misses_is_found() -> None:
    acceptor = Acceptor(parse_ebnf('root ::= w w | "(" root ")"\nw ::= [a-z]+\n'))
    assert acceptor.accepts_lalr("(abc)") is False  # lark's longest match takes all of "abc"
    assert _lr(acceptor, "(abc)") == (True, True)
    assert _lr(acceptor, "((a") == (False, True)
    assert _lr(acceptor, "(a1") == (False, False)
    assert acceptor.accepts("(abc)") and not acceptor.accepts("(a)")


def test_too_many_tokenizations_fall_back_to_earley() -> None:
    acceptor = Acceptor(parse_ebnf('root ::= w root | ""\nw ::= [a-z]+\n'))
    assert acceptor.lr_tables() is not None
    text = "a" * (LIMIT + 10)
    assert acceptor.lr_run(text) is None  # one stack depth per split: Overflow
    assert acceptor.accepts(text) and acceptor.is_prefix(text + "b")
    assert not acceptor.accepts(text + "1")


def test_a_conflicting_grammar_has_no_tables() -> None:
    acceptor = Acceptor(parse_ebnf('root ::= a "x" | b "x" "y"\na ::= "q"\nb ::= "q"\n'))
    assert acceptor.lr_tables() is None  # reduce/reduce: lark would pick one rule
    assert acceptor.accepts("qxy") and acceptor.is_prefix("qx") and not acceptor.is_prefix("qz")


# Random three-rule grammars over "ab," (as in the XGrammar differential tests).
_NAMES = ("root", "a", "b")
_leaves = st.one_of(
    st.text(st.sampled_from("ab,"), min_size=1, max_size=2).map(Literal),
    st.builds(
        CharClass,
        st.lists(st.sampled_from([(97, 97), (97, 98), (44, 44)]), min_size=1, max_size=2).map(
            tuple
        ),
        st.just(False),
    ),
    st.sampled_from(_NAMES).map(RuleRef),
)


def _flat(kind: type[Sequence] | type[Choice], parts: list[Expr]) -> Expr:
    return parts[0] if len(parts) == 1 else kind(tuple(parts))


_exprs = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: _flat(Sequence, xs)),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: _flat(Choice, xs)),
        st.builds(Repeat, inner, st.integers(0, 1), st.sampled_from([None, 2])),
    ),
    max_leaves=6,
)


def _chunks(text: str, rnd: random.Random) -> list[str]:
    out, i = [], 0
    while i < len(text):
        k = rnd.randint(1, 3)
        out.append(text[i : i + k])
        i += k
    return out


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(st.lists(_exprs, min_size=3, max_size=3), st.randoms(use_true_random=False))
def test_random_grammars_lr_agrees_with_earley(bodies: list[Expr], rnd: random.Random) -> None:
    nested = Sequence((Literal("("), RuleRef("root"), Literal(")")))
    bodies = [Choice((bodies[0], nested)), *bodies[1:]]  # recursive: never a regular root
    ast = GrammarAST(tuple(Rule(name, body) for name, body in zip(_NAMES, bodies, strict=True)))
    assume(productive_rules(ast) == set(_NAMES))
    grammar = Grammar.from_ebnf(render_ebnf(ast))
    acceptor = grammar._acceptor
    assume(acceptor.automaton is None and acceptor.lr_tables() is not None)
    for _ in range(30):
        s = "".join(rnd.choice("ab,") for _ in range(rnd.randint(0, 7)))
        exact = _exact(acceptor, s)
        lr = _lr(acceptor, s)
        assert lr is None or lr == exact, (render_ebnf(ast), s)
        m = grammar.matcher()
        alive = all(m.feed(c) for c in _chunks(s, rnd))
        assert (m.is_complete, alive) == exact, (render_ebnf(ast), s)


def test_a_remembered_chunk_reads_as_scanning_it_and_memory_stays_bounded() -> None:
    tables = Acceptor(parse_ebnf(JSON.source)).lr_tables()
    assert tables is not None
    string = tables.scanners["STRING"]
    inside = string.step(string.start, '"')
    rng = random.Random(3)
    for _ in range(300):
        chunk = "".join(rng.choice('ab"\\u0 ,:') for _ in range(rng.randint(1, 6)))
        first = string.resume(chunk, inside)
        again = string.resume(chunk, inside)  # the remembered answer
        ends, final = string.scan(chunk, 0, inside)
        assert first == again == (tuple(ends), final), chunk
    long_chunk = "x" * (RESUMED_CHUNK + 1)
    ends, final = string.scan(long_chunk, 0, inside)
    assert string.resume(long_chunk, inside) == ((), final) and final >= 0
    assert long_chunk not in string.resumed[inside]  # too long to keep
    for k in range(RESUMED_PER_STATE + 10):
        string.resume(str(k), inside)
    assert len(string.resumed[inside]) == RESUMED_PER_STATE
