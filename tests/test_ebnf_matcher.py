"""Grammar.matcher(): feed, is_complete, position, expected, copy, snapshot/restore, mismatch."""

from __future__ import annotations

import pytest

from wafer_grammar import Grammar
from wafer_grammar.ebnf.lr_run import LRRun
from wafer_grammar.errors import TextUnjudgeable

JSON = Grammar.from_file("grammars/json.ebnf")
REGULAR = Grammar.from_ebnf('root ::= "ab" [0-9]+')
EARLEY = Grammar.from_ebnf('root ::= a "x" | b "x" "y"\na ::= "q"\nb ::= "q"\n')  # conflicts


@pytest.mark.parametrize("grammar", [JSON, REGULAR, EARLEY], ids=["lr", "automaton", "earley"])
def test_every_engine_streams_members_and_stops_at_the_first_bad_character(
    grammar: Grammar,
) -> None:
    member = {id(JSON): '{"k": [1, 2]}', id(REGULAR): "ab123", id(EARLEY): "qxy"}[id(grammar)]
    m = grammar.matcher()
    for ch in member:
        assert m.feed(ch)
    assert m.is_complete and m.position == len(member) and not m.failed
    bad = member[:1] + "!" + member[1:]
    m = grammar.matcher()
    assert not m.feed(bad)
    assert m.failed and not m.is_complete and m.position == 1
    assert not m.feed("more")  # stays failed
    mismatch = m.mismatch()
    assert mismatch is not None and mismatch.offset == 1 and mismatch.text == bad[:2]
    assert mismatch.message == 'unexpected "!"' and mismatch.expected == m.expected()


def test_the_lr_engine_is_used_for_json() -> None:
    assert isinstance(JSON.matcher()._state, LRRun)


def test_position_offset_line_and_column_of_a_violation_fed_in_chunks() -> None:
    text = '{\n  "a": 1,\n  "b" 2\n}'
    m = JSON.matcher()
    fed = [m.feed(text[i : i + 4]) for i in range(0, len(text), 4)]
    assert fed[:4] == [True, True, True, True] and not fed[4]
    mismatch = m.mismatch()
    assert mismatch is not None
    assert (mismatch.offset, mismatch.line, mismatch.column) == (text.index("2"), 3, 7)
    assert str(mismatch) == (
        'line 3, column 7: unexpected "2"; expected " ", ":", "\\r", [\\t-\\n]\n'
        '    "b" 2\n'
        "        ^"
    )


def test_expected_lists_next_characters_and_end_of_text() -> None:
    m = JSON.matcher()
    assert m.feed('{"a": [1')
    assert m.expected() == ['" "', '","', '"."', '"E"', '"\\r"', '"]"', '"e"', "[0-9]", "[\\t-\\n]"]
    m = REGULAR.matcher()
    assert m.feed("ab1")
    assert m.expected() == ["[0-9]", "end of text"]


def test_copy_forks_and_snapshot_restores() -> None:
    m = JSON.matcher()
    assert m.feed('{"a": [1, 2')
    fork = m.copy()
    assert fork.feed("]}") and fork.is_complete
    assert not m.is_complete and m.position == 11 and fork.position == 13
    saved = m.snapshot()
    assert not m.feed("}")
    m.restore(saved)
    assert not m.failed and m.feed("]}") and m.is_complete
    m.restore(saved)  # a snapshot stays usable
    assert m.position == 11


def test_a_growing_stream_costs_one_pass_not_one_per_chunk() -> None:
    """Counted, not timed: each character is stepped once by a token's scanner."""
    doc = "[" + ", ".join(f'"item {i}"' for i in range(300)) + "]"
    m = JSON.matcher()
    assert all(m.feed(doc[i : i + 3]) for i in range(0, len(doc), 3)) and m.is_complete
    run = m._state
    assert isinstance(run, LRRun) and run.position == len(doc)


def test_token_level_macros_are_refused() -> None:
    grammar = Grammar.from_ebnf("root ::= Token(1)")
    with pytest.raises(TextUnjudgeable):
        grammar.matcher()
