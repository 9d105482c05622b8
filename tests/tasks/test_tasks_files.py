"""The batch's files and messages, without a server: inputs, crash recovery, texts."""

from __future__ import annotations

import errno
import io
import json
import os
import pickle
from pathlib import Path

import pytest

from wafer_grammar.errors import BatchFileError, InvalidInput
from wafer_grammar.tasks.backend import Backend, choose
from wafer_grammar.tasks.batch import BatchJob, BatchSummary, Estimate, pending
from wafer_grammar.tasks.classification import label_orders, messages_for
from wafer_grammar.tasks.jsonl import Appender, encode_record, id_key, read_inputs, recover_output
from wafer_grammar.tasks.progress import LineProgress


def write(path: Path, text: str) -> str:
    path.write_bytes(text.encode())
    return str(path)


def test_inputs_take_the_line_number_when_the_id_is_absent(tmp_path: Path) -> None:
    path = write(
        tmp_path / "in.jsonl", '{"text": "a", "id": "x"}\n\n{"text": "b"}\n{"text": "c", "id": 2}\n'
    )
    items = read_inputs(path)
    assert [(i.id, i.text, i.line) for i in items] == [("x", "a", 1), (3, "b", 3), (2, "c", 4)]


@pytest.mark.parametrize(
    ("line", "item_id", "message"),
    [
        ('{"text": "a"', 1, "line 1: not valid JSON (Expecting ',' delimiter)"),
        ('["a"]', 1, 'line 1: expected a JSON object with a "text" field'),
        ('{"id": 7}', 7, 'line 1: the "text" field is missing or not a string'),
        ('{"id": 7, "text": 3}', 7, 'line 1: the "text" field is missing or not a string'),
        ('{"text": "a", "id": [1]}', 1, 'line 1: the "id" field must be a string or a number'),
        ('{"text": "a", "id": null}', 1, 'line 1: the "id" field must be a string or a number'),
        (
            '{"text": "a", "id": NaN}',
            1,
            'line 1: the "id" field must be a string or a finite number',
        ),
        (
            '{"text": "ab\\ud800", "id": "x"}',
            "x",
            'line 1: the "text" field is not valid Unicode (a lone surrogate \\ud800 at '
            "character 3)",
        ),
        (
            '{"text": "a", "id": "\\udfff"}',
            1,
            'line 1: the "id" field is not valid Unicode (a lone surrogate \\udfff at character 1)',
        ),
        ("[" * 100_000, 1, "line 1: not valid JSON (nested too deeply)"),
        (
            '{"text": "a", "id": ' + "9" * 5000 + "}",
            1,
            "line 1: not valid JSON (Exceeds the limit (4300 digits) for integer string "
            "conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase "
            "the limit)",
        ),
    ],
)
def test_a_bad_input_line_is_an_item_with_its_problem(
    tmp_path: Path, line: str, item_id: object, message: str
) -> None:
    path = write(tmp_path / "in.jsonl", line + '\n{"text": "fine"}\n')
    bad, good = read_inputs(path)
    assert (bad.id, bad.line, bad.text) == (item_id, 1, "")
    assert isinstance(bad.problem, InvalidInput) and isinstance(bad.problem, BatchFileError)
    assert str(bad.problem) == f"{path}, {message}"
    assert (good.id, good.text, good.problem) == (2, "fine", None)


def test_a_line_that_is_not_utf8_is_named_by_line(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    good, bad = read_inputs(str(path))
    assert good.problem is None and bad.id == 2
    assert str(bad.problem) == f"{path}, line 2: not valid UTF-8 (byte 0xe9 at byte 14)"


def test_a_line_separator_inside_a_string_does_not_split_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", '{"text": "a\u2028b"}\r\n{"text": "c"}\n')
    assert [(i.id, i.text) for i in read_inputs(path)] == [(1, "a\u2028b"), (2, "c")]


def test_an_id_used_twice_stops_the_run_before_it_starts(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", '{"text": "a"}\n{"text": "b", "id": 1}\n')
    with pytest.raises(BatchFileError) as info:
        read_inputs(path)
    assert str(info.value) == f"{path}, line 2: id 1 is also on line 1"
    assert info.value.line == 2


def test_file_errors_pickle_with_their_fields() -> None:
    back = pickle.loads(pickle.dumps(BatchFileError("in.jsonl", 3, "bad")))
    assert (str(back), back.path, back.line) == ("in.jsonl, line 3: bad", "in.jsonl", 3)


def test_an_unreadable_input_is_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.jsonl")
    with pytest.raises(BatchFileError) as info:
        read_inputs(missing)
    assert str(info.value) == f"{missing}: cannot read: No such file or directory"


def test_ids_keep_their_type() -> None:
    assert id_key(1) != id_key("1")
    assert id_key("é") == '"é"'


def test_recovery_cuts_a_torn_last_line_only(tmp_path: Path) -> None:
    good = '{"id":1,"label":"a"}\n{"id":2,"error":{"type":"X","message":"m"}}\n'
    path = write(tmp_path / "out.jsonl", good + '{"id":3,"la')
    done, cut = recover_output(path)
    assert done == {id_key(1), id_key(2)}
    assert cut == len('{"id":3,"la')
    assert Path(path).read_text() == good


def test_recovery_cuts_a_garbled_last_line_with_its_newline(tmp_path: Path) -> None:
    good = '{"id":1,"label":"a"}\n'
    path = write(tmp_path / "out.jsonl", good + '{"id":3,"la\n')
    assert recover_output(path) == ({id_key(1)}, len('{"id":3,"la\n'))
    assert Path(path).read_text() == good


def test_a_garbled_line_before_the_last_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "out.jsonl", 'oops\n{"id":1}\n')
    with pytest.raises(BatchFileError) as info:
        recover_output(path)
    assert str(info.value) == (
        f'{path}, line 1: expected a JSON object with an "id" field; '
        "is this the output of a batch run?"
    )


def test_retry_failed_drops_the_error_records(tmp_path: Path) -> None:
    text = '{"id":1,"label":"a"}\n{"id":2,"error":{"type":"X","message":"m"}}\n{"id":3}\n'
    path = write(tmp_path / "out.jsonl", text)
    assert recover_output(path)[0] == {id_key(1), id_key(2), id_key(3)}
    assert recover_output(path, retry_failed=True)[0] == {id_key(1), id_key(3)}
    assert Path(path).read_text() == '{"id":1,"label":"a"}\n{"id":3}\n'
    assert not (tmp_path / "out.jsonl.tmp").exists()


def test_a_missing_output_is_empty(tmp_path: Path) -> None:
    assert recover_output(str(tmp_path / "none.jsonl")) == (set(), 0)


def test_appender_writes_whole_lines(tmp_path: Path) -> None:
    path = str(tmp_path / "out.jsonl")
    appender = Appender(path)
    appender.write({"id": 1, "value": {"name": "Zoë"}})
    # flushed as it lands: readable before close
    assert json.loads(Path(path).read_text(encoding="utf-8")) == {"id": 1, "value": {"name": "Zoë"}}
    appender.close()


def test_a_record_that_utf8_cannot_encode_is_written_escaped(tmp_path: Path) -> None:
    assert encode_record({"id": "é", "v": 1}) == '{"id":"é","v":1}\n'.encode()
    odd = {"id": 3, "error": {"type": "X", "message": "bad \ud800 text"}}
    line = encode_record(odd)
    assert line == b'{"id":3,"error":{"type":"X","message":"bad \\ud800 text"}}\n'
    assert json.loads(line.decode("utf-8")) == odd  # valid UTF-8, and the same record back
    path = tmp_path / "out.jsonl"
    appender = Appender(str(path))
    appender.write({"id": "x\udc80", "label": "a"})
    appender.close()
    assert recover_output(str(path))[0] == {id_key("x\udc80")}  # a rerun knows the id


def test_a_failed_write_cuts_its_partial_line_and_every_later_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.jsonl"
    appender = Appender(str(path))
    appender.write({"id": 1})
    real = os.write
    calls: list[int] = []

    def full_disk(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real(fd, bytes(data[:3]))  # a short write: the disk fills up mid-line
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("wafer_grammar.tasks.jsonl._os_write", full_disk)
    with pytest.raises(OSError) as info:
        appender.write({"id": 2, "label": "b"})
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == b'{"id":1}\n'  # the torn line was cut back off
    monkeypatch.setattr("wafer_grammar.tasks.jsonl._os_write", real)
    with pytest.raises(OSError) as again:
        appender.write({"id": 3})  # space is back, but a record after a gap would be a lie
    assert again.value is info.value and appender.written == 1
    appender.close()
    assert path.read_bytes() == b'{"id":1}\n'


def test_an_output_that_cannot_be_opened_or_read_is_named(tmp_path: Path) -> None:
    with pytest.raises(BatchFileError) as info:
        Appender(str(tmp_path))
    assert str(info.value) == f"{tmp_path}: cannot open for appending: Is a directory"
    with pytest.raises(BatchFileError) as read:
        recover_output(str(tmp_path))
    assert str(read.value) == f"{tmp_path}: cannot read: Is a directory"


def test_pending_skips_done_ids(tmp_path: Path) -> None:
    items = read_inputs(write(tmp_path / "in.jsonl", '{"text":"a"}\n{"text":"b"}\n'))
    assert [i.id for i in pending(items, {id_key(1)})] == [2]


def test_summary_text() -> None:
    assert BatchSummary(total=5, skipped=2, ok=3, seconds=1.25).render() == (
        "batch done: 3 processed (3 ok, 0 failed), 2 already in the output, cost $0.0000, 1.2 s"
    )
    assert BatchSummary(total=2, skipped=0, ok=1, failed=1, cost_cents=12.5).render() == (
        "batch done: 2 processed (1 ok, 1 failed), 0 already in the output, cost $0.1250, 0.0 s"
        "\n1 failed input is recorded with its error; rerun with --retry-failed to try again"
    )
    assert (
        BatchSummary(total=2, skipped=0, failed=2)
        .render()
        .endswith(
            "\n2 failed inputs are recorded with their errors; rerun with --retry-failed to try again"
        )
    )


def test_estimate_text() -> None:
    assert Estimate(3, 1, 120, 9, "M", 0.5).render() == (
        "dry run: 3 inputs to process (1 already in the output), at most 120 prompt tokens and at most "
        "9 output tokens; estimated cost at most $0.0050 at M's card pricing"
    )
    assert Estimate(3, 1, 120, 9, "M", None).render() == (
        "dry run: 3 inputs to process (1 already in the output), at most 120 prompt tokens and at most "
        "9 output tokens; M's card has no pricing, so no cost estimate"
    )


def test_progress_line() -> None:
    ticks = iter([0.0, 2.0, 2.0, 4.0, 4.0, 4.0])
    out = io.StringIO()
    progress = LineProgress(4, out, clock=lambda: next(ticks))
    progress.advance(0.5)
    progress.advance(0.5)
    assert out.getvalue() == (
        "1/4 done, 0.5/s, ETA 6 s, cost $0.0050\n2/4 done, 0.5/s, ETA 4 s, cost $0.0100\n"
    )


def test_label_orders_rotate() -> None:
    assert label_orders(["a", "b", "c"], 1) == [["a", "b", "c"]]
    assert label_orders(["a", "b", "c"], 3) == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
    with pytest.raises(ValueError) as info:
        label_orders(["a", "b"], 3)
    assert str(info.value) == "orders must be an integer from 1 to the number of labels (2), not 3"


def test_the_shared_part_comes_first() -> None:
    one, two = messages_for("first", ["a", "b"]), messages_for("second", ["a", "b"])
    assert (
        one[0]
        == two[0]
        == {
            "role": "system",
            "content": (
                "You are a classifier. Read the text and answer with exactly one word: a or b."
            ),
        }
    )
    assert one[-1] == {"role": "user", "content": "Which fits this text: a or b?\n\nfirst"}


def test_backend_choice_and_its_words() -> None:
    assert choose("http://h/v1", env={}) == "server"
    assert choose(None, env={"WAFER_API_KEY": "k"}) == "wafer"
    assert choose(None, env={"WAFER_API_KEY": ""}) == "embedded"
    assert Backend("wafer", "https://pass.wafer.ai/v1").describe() == (
        "backend: Wafer API at https://pass.wafer.ai/v1 (WAFER_API_KEY is set)"
    )
    assert Backend("server", "http://h/v1").describe() == "backend: server at http://h/v1"
    assert Backend("embedded", "http://127.0.0.1:1/v1", "M").describe() == (
        "backend: embedded engine (M, WAFER_API_KEY is not set) at http://127.0.0.1:1/v1"
    )


def test_a_job_names_its_task() -> None:
    with pytest.raises(ValueError) as info:
        BatchJob("summarise", "M")
    assert str(info.value) == 'task must be "classify" or "extract", not \'summarise\''
