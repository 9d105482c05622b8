"""The incremental Earley chart (earley_run) against the one-shot exact recognizer.

Same algorithm, fed in chunks: after every chunk its verdicts must be the
recognizer's on the text so far, on generated grammars (lazy and max_chars
included: only Earley implements them) and their near-members.
"""

from __future__ import annotations

import random

import pytest
from ebnf_fuzz import _Gen, strings_for

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
    rec = grammar._acceptor.recognizer()
    for s in strings_for(rng, grammar, text):
        run, fed = EarleyRun(rec.g), ""
        while len(fed) < len(s):
            chunk = s[len(fed) : len(fed) + rng.randint(1, 3)]
            fed += chunk
            alive = run.feed(chunk)
            chart = rec.run(fed)
            assert (run.accepted, alive) == (chart.accepted, chart.alive_at_end), (text, fed)
            if not alive:
                break
        if not s:
            chart = rec.run("")
            assert (run.accepted, run.alive) == (chart.accepted, chart.alive_at_end), text


def test_the_matcher_uses_the_chart_for_lazy_rules() -> None:
    grammar = Grammar.from_ebnf('root ::= a "!"\na[lazy] ::= [a-z]+ ","\n')
    m = grammar.matcher()
    assert isinstance(m._state, EarleyRun)
    assert m.feed("ab") and m.feed("c,") and not m.is_complete and m.feed("!")
    assert m.is_complete
    fork = m.copy()
    assert not fork.feed("x") and m.is_complete
    assert isinstance(Matcher(grammar._acceptor)._state, EarleyRun)


def _dispatch_grammars() -> list[str]:
    rng, out = random.Random(21), []
    tags = ["<x>", "<xy>", "<y>", "x>", "<"]
    bodies = ['"a"', '[a-c]+ "</>"', '"b"? "!"', 'n "."', '""']
    while len(out) < 40:
        chosen = rng.sample(tags, rng.randint(1, 3))
        calls = ", ".join(f'("{t}", n{k})' for k, t in enumerate(chosen))
        extra = ""
        if rng.random() < 0.5:
            extra += (
                ", excludes=("
                + ", ".join(f'"{e}"' for e in rng.sample(["</>", "ab", "q"], 2))
                + ")"
            )
        if rng.random() < 0.4:
            extra += ", loop_after_dispatch=false"
        head = rng.choice(["", '"s" ', "[a-c] "])
        rules = [f"root ::= {head}TagDispatch({calls}{extra})"]
        rules += [f"n{k} ::= {rng.choice(bodies)}" for k in range(len(chosen))]
        rules.append("n ::= [ab]")
        out.append("\n".join(rules))
    return out


@pytest.mark.parametrize("text", _dispatch_grammars(), ids=lambda x: "")
def test_tag_dispatch_resumes_across_chunks_as_the_recognizer_judges(text: str) -> None:
    grammar = Grammar.from_ebnf(text)
    rec = grammar._acceptor.recognizer()
    rng = random.Random(text)
    pieces = ["<x>", "<xy>", "<y>", "x>", "<", "a", "b", "c", "</>", "ab", "q", "!", ".", "s"]
    for _ in range(25):
        s = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        run, fed = EarleyRun(rec.g), ""
        while len(fed) < len(s):
            chunk = s[len(fed) : len(fed) + rng.randint(1, 4)]  # chunks cut tags apart
            fed += chunk
            alive = run.feed(chunk)
            chart = rec.run(fed)
            assert (run.accepted, alive) == (chart.accepted, chart.alive_at_end), (text, fed)
            if not alive:
                break


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
    # One chart position per character read, and each resumed scan keeps a bounded window.
    assert m._state.n == len(text)
    assert all(len(scan.window) < len("<call>") for scan in m._state.pending)
    assert not m.feed("<call>1")
    mismatch = m.mismatch()
    assert mismatch is not None and mismatch.offset == len(text) + len("<call>")
