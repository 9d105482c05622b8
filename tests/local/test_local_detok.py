"""TextStream: whole characters only, stop strings cut, nothing taken back."""

from __future__ import annotations

from wafer_grammar.local.detok import TextStream

PIECES = {
    1: b"Hel",
    2: b"lo",
    3: b" wor",
    4: b"ld",
    5: "é".encode()[:1],
    6: "é".encode()[1:],
    7: b"<ctl>",
    8: b"EN",
    9: b"D!",
    10: b"E",
    11: b"x",
}


def stream(ids: list[int], stop: tuple[str, ...] = ()) -> tuple[list[str], TextStream]:
    ts = TextStream(PIECES.__getitem__, skip_ids={7}, stop=stop)
    return [ts.push(i) for i in ids], ts


def test_plain_text_released_at_once() -> None:
    deltas, ts = stream([1, 2, 3, 4])
    assert deltas == ["Hel", "lo", " wor", "ld"]
    assert ts.finish() == ""
    assert ts.text == "Hello world"


def test_split_utf8_character_waits_for_its_second_byte() -> None:
    deltas, _ = stream([1, 5, 6])
    assert deltas == ["Hel", "", "é"]


def test_control_tokens_are_not_text() -> None:
    deltas, _ = stream([1, 7, 2])
    assert deltas == ["Hel", "", "lo"]


def test_stop_string_across_tokens_is_cut() -> None:
    deltas, ts = stream([1, 8, 9, 2], stop=("END",))
    assert deltas == ["Hel", "", "", ""]
    assert ts.text == "Hel"
    assert ts.matched == "END"
    assert ts.finish() == ""


def test_held_back_prefix_is_released_when_it_diverges() -> None:
    deltas, ts = stream([1, 10, 11], stop=("END",))
    assert deltas == ["Hel", "", "Ex"]
    assert ts.matched is None


def test_finish_releases_a_held_back_prefix_and_incomplete_bytes() -> None:
    _, ts = stream([1, 10], stop=("END",))
    assert ts.finish() == "E"
    _, ts2 = stream([5])
    assert ts2.finish() == "\ufffd"


def test_position_counts_held_back_text() -> None:
    _, ts = stream([1, 10], stop=("END",))
    assert ts.position == 4
