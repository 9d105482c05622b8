"""Testing a grammar like code: `pytest examples/test_my_grammar.py examples/answer.cases.toml`.

Three layers, from cheapest to strongest:

1. ``answer.cases.toml`` beside ``answer.ebnf``: hand-written accept/reject
   cases, collected by the wafer-grammar pytest plugin (one test per case).
2. ``assert_accepts`` / ``assert_rejects`` in ordinary tests: failures show the
   offset, a caret, what was expected there and the rule path.
3. Property tests: ``strings(grammar)`` generates members, so "everything my
   grammar allows, my code can read" is checked on hundreds of outputs, and
   ``near_misses(grammar)`` generates the almost-right outputs it must refuse.

Add ``--grammar-engine=xgrammar`` to check every verdict against XGrammar, the
engine the server runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings

from wafer_grammar import Grammar
from wafer_grammar.testing import Engine, assert_accepts, assert_rejects, near_misses, strings

GRAMMAR = Grammar.from_file(Path(__file__).with_name("answer.ebnf"))
LABELS = {"positive", "negative", "neutral"}


def read_answer(text: str) -> tuple[str, float]:
    """The downstream code: what the application does with a model's output."""
    answer = json.loads(text)
    label, score = answer["label"], float(answer["score"])
    if label not in LABELS or not 0.0 <= score <= 1.0:
        raise ValueError(f"not an answer: {text!r}")
    return label, score


@settings(max_examples=50, deadline=None)
@given(strings(GRAMMAR))
def test_every_output_the_grammar_allows_is_readable(text: str) -> None:
    label, score = read_answer(text)
    assert label in LABELS and 0.0 <= score <= 1.0


@settings(max_examples=30, deadline=None)
@given(near_misses(GRAMMAR))
def test_near_misses_are_refused(text: str) -> None:
    assert not GRAMMAR.accepts(text)


def test_a_typical_answer(grammar_engine: Engine) -> None:
    # grammar_engine: "xgrammar" under --grammar-engine=xgrammar, else "wafer".
    assert_accepts(GRAMMAR, '{"label": "positive", "score": 0.5}', engine=grammar_engine)


def test_a_truncated_answer_is_refused() -> None:
    assert_rejects(GRAMMAR, '{"label": "positive", "score": 0.')
