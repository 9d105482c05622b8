"""The incremental Earley chart (earley_run) against the one-shot exact recognizer.

Same algorithm, fed in chunks: after every chunk its verdicts must be the
recognizer's on the text so far, on generated grammars (lazy and max_chars
included: only Earley implements them) and their near-members.
"""

from __future__ import annotations

import random

import pytest
from ebnf_fuzz import _Gen, strings_for, tag_dispatch_grammars, tag_dispatch_texts

from wafer_grammar import Grammar, GrammarError
from wafer_grammar.ebnf.earley_run import EarleyRun
from wafer_grammar.ebnf.matcher import Matcher
from wafer_grammar.errors import TextUnjudgeable


def _grammars(count: int, seed: int) -> list[tuple[str, Grammar]]:
    rng, out = random.Random(seed), []
    gen = _Gen(rng)
    while len(out) < count:
        text = gen.grammar()
        try:
            grammar = Grammar.from_ebnf(text)
            grammar._acceptor.recognizer()
        except (GrammarError, TextUnjudgeable):
            continue
        out.append((text, grammar))
    return out


@pytest.mark.parametrize(("text", "grammar"), _grammars(120, 14), ids=lambda x: "")
def test_chunked_chart_agrees_with_the_recognizer(text: str, grammar: Grammar) -> None:
    rng = random.Random(text)
    for s in strings_for(rng, grammar, text):
        _agrees_chunk_by_chunk(grammar, s, rng, longest=3)


def _agrees_chunk_by_chunk(grammar: Grammar, s: str, rng: random.Random, longest: int) -> None:
    """Feed ``s`` in random chunks: after each, the chart's verdicts are the recognizer's."""
    rec = grammar._acceptor.recognizer()
    run, fed = EarleyRun(rec.g), ""
    chart = rec.run("")
    assert (run.accepted, run.alive) == (chart.accepted, chart.alive_at_end), grammar.source
    while len(fed) < len(s):
        chunk = s[len(fed) : len(fed) + rng.randint(1, longest)]
        fed += chunk
        alive = run.feed(chunk)
        chart = rec.run(fed)
        assert (run.accepted, alive) == (chart.accepted, chart.alive_at_end), (grammar.source, fed)
        if not alive:
            break


def test_the_matcher_uses_the_chart_for_lazy_rules() -> None:
    grammar = Grammar.from_ebnf('root ::= a "!"\na[lazy] ::= [a-z]+ ","\n')
    m = grammar.matcher()
    assert isinstance(m._state, EarleyRun)
    assert m.feed("ab") and m.feed("c,") and not m.is_complete and m.feed("!")
    assert m.is_complete
    fork = m.copy()
    assert not fork.feed("x") and m.is_complete
    assert isinstance(Matcher(grammar._acceptor)._state, EarleyRun)


@pytest.mark.parametrize("text", tag_dispatch_grammars(40, 21), ids=lambda x: "")
def test_tag_dispatch_resumes_across_chunks_as_the_recognizer_judges(text: str) -> None:
    grammar, rng = Grammar.from_ebnf(text), random.Random(text)
    for s in tag_dispatch_texts(rng, 25):
        _agrees_chunk_by_chunk(grammar, s, rng, longest=4)  # chunks cut tags apart


def test_a_tag_dispatch_stream_is_read_once() -> None:
    grammar = Grammar.from_ebnf(
        'root ::= TagDispatch(("<call>", call))\ncall ::= [a-z]+ "</call>"\n'
    )
    m = grammar.matcher()
    assert isinstance(m._state, EarleyRun)
    text = ("some words " * 400 + "<call>go</call> ") * 5
    for i in range(0, len(text), 3):
        assert m.feed(text[i : i + 3])
    assert m.is_complete
    # One chart position per character read; a resumed scan keeps a node, not the text.
    assert m._state.n == len(text)
    assert m._state.pending and all(scan.node >= 0 for scan in m._state.pending)
    assert not m.feed("<call>1")
    mismatch = m.mismatch()
    assert mismatch is not None and mismatch.offset == len(text) + len("<call>")
