r"""The batch's files: reading inputs, recovering an output after a crash, appending results.

Crash safety rests on three facts:

- each record is one whole line, written with unbuffered ``os.write`` calls at
  once, so a kill -9 loses at most the line being written, and leaves it torn
  (no final newline);
- on start, a torn last line is cut off (truncated back to the last newline), and
  the ids already present are skipped, so nothing is done twice or skipped;
- ``--retry-failed`` drops the failed records by writing a new file beside the
  output and renaming it over (atomic), so a crash then leaves the old or the new.

One bad input never stops the others: a line that is not JSON, not an object,
has no string ``text``, or holds text that is not valid Unicode (a lone
surrogate such as ``"\ud800"``, which UTF-8 cannot encode) becomes an
:class:`Item` with a ``problem``, and the batch records that problem as the
input's error. Its id is the one given, or its line number when the id itself
is unusable (not a string or a finite number, or not valid Unicode).

The output is always valid UTF-8 JSON: a record is written as UTF-8 text, and
one that holds a lone surrogate anyway (an error message quoting such text) is
written with ``\u`` escapes instead (plain ASCII), which JSON readers decode back
to the very same string, so a resumed run still recognises its id.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wafer_grammar.errors import BatchFileError, InvalidInput

_os_write = os.write
"""The appender's one system call for output (tests put a full disk in its place)."""

STALL_VARIABLE = "WAFER_GRAMMAR_TEST_STALL_WRITE"
"""Crash-test hook: ``"N:K"`` makes the writer stop for good after ``N`` whole records and
the first ``K`` bytes of the next one, saying so on stderr (see :class:`Appender`)."""


@dataclass(frozen=True)
class Item:
    """One input: its ``id`` (as given, or the 1-based line number) and text.

    ``problem`` is set when the line cannot be processed: the batch then writes
    it as the input's error record (``text`` is then ``""``).
    """

    id: Any
    text: str
    line: int
    problem: InvalidInput | None = None


def id_key(value: Any) -> str:
    """A hashable, type-exact key for an id (``1`` and ``"1"`` stay different)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _surrogate(text: str) -> str | None:
    """Where ``text`` stops being valid Unicode (a lone surrogate), as words; None if it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"a lone surrogate \\u{ord(text[exc.start]):04x} at character {exc.start + 1}"
    return None


def _usable_id(value: Any) -> str | None:
    """Why ``value`` cannot be an id, or None when it can."""
    if isinstance(value, str):
        where = _surrogate(value)
        return None if where is None else f'the "id" field is not valid Unicode ({where})'
    if isinstance(value, float) and not math.isfinite(value):
        return 'the "id" field must be a string or a finite number'
    if isinstance(value, (dict, list)) or value is None:
        return 'the "id" field must be a string or a number'
    return None


def _item(path: str, number: int, raw: bytes) -> Item:
    """The input on line ``number``: a usable one, or one that carries its problem."""

    def bad(problem: str, item_id: Any = number) -> Item:
        return Item(item_id, "", number, InvalidInput(path, number, problem))

    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return bad(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1})")
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as exc:
        return bad(f"not valid JSON ({exc.msg})")
    except RecursionError:
        return bad("not valid JSON (nested too deeply)")
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        return bad(f"not valid JSON ({exc})")
    if not isinstance(doc, dict):
        return bad('expected a JSON object with a "text" field')
    item_id = doc.get("id", number)
    why = _usable_id(item_id)
    if why is not None:
        return bad(why)
    text = doc.get("text")
    if not isinstance(text, str):
        return bad('the "text" field is missing or not a string', item_id)
    where = _surrogate(text)
    if where is not None:
        return bad(f'the "text" field is not valid Unicode ({where})', item_id)
    return Item(item_id, text, number)


def read_inputs(path: str) -> list[Item]:
    """Every input line as an :class:`Item`; blank lines are skipped (but still counted).

    A line that cannot be processed is an :class:`Item` with its ``problem`` set.

    Raises:
        BatchFileError: an unreadable file, or an id used twice (each input must
        have one record of its own, so the run cannot start).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BatchFileError(path, None, f"cannot read: {exc.strerror or exc}") from exc
    items: list[Item] = []
    seen: dict[str, int] = {}
    # bytes split on b"\n" only, as JSONL means: str.splitlines() would also split on
    # U+2028 and friends, which may sit raw inside a JSON string
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        item = _item(path, number, raw.rstrip(b"\r"))
        key = id_key(item.id)
        if key in seen:
            raise BatchFileError(path, number, f"id {key} is also on line {seen[key]}")
        seen[key] = number
        items.append(item)
    return items


def recover_output(path: str, *, retry_failed: bool = False) -> tuple[set[str], int]:
    """Make ``path`` whole again and return ``(done id keys, torn bytes cut)``.

    A missing file is empty. A last line without its newline, or one that is not
    a JSON object with an id, was torn by a kill and is cut off; such a line
    anywhere else means the file is not ours, and is an error. With
    ``retry_failed``, records with an ``error`` are removed so their ids run again.

    Raises:
        BatchFileError: a malformed line other than the last, or a file that cannot
        be read or repaired.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return set(), 0
    except OSError as exc:
        raise BatchFileError(path, None, f"cannot read: {exc.strerror or exc}") from exc
    lines = data.split(b"\n")
    tail = lines.pop()  # after the last newline: b"" when the file ends cleanly
    cut = len(tail)
    records: list[tuple[bytes, dict[str, Any]]] = []
    for number, raw in enumerate(lines, start=1):
        record = _record(raw)
        if record is None:
            if number == len(lines) and not tail:
                cut += len(raw) + 1  # a torn line whose newline did land (a short write)
                break
            raise BatchFileError(
                path,
                number,
                'expected a JSON object with an "id" field; is this the output of a batch run?',
            )
        records.append((raw, record))
    keep = [(raw, rec) for raw, rec in records if not (retry_failed and "error" in rec)]
    try:
        if cut:
            with open(file, "r+b") as handle:
                handle.truncate(len(data) - cut)
        if len(keep) != len(records):
            _replace(file, b"".join(raw + b"\n" for raw, _ in keep))
    except OSError as exc:
        raise BatchFileError(path, None, f"cannot repair: {exc.strerror or exc}") from exc
    return {id_key(rec["id"]) for _, rec in keep}, cut


def _record(raw: bytes) -> dict[str, Any] | None:
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError included
        return None
    return doc if isinstance(doc, dict) and "id" in doc else None


def _replace(file: Path, content: bytes) -> None:
    temporary = file.with_name(file.name + ".tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, file)
    finally:
        temporary.unlink(missing_ok=True)  # a full disk must not leave the half copy behind


def encode_record(record: dict[str, Any]) -> bytes:
    """One output line: UTF-8 JSON, or ASCII JSON with ``\\u`` escapes when the record holds
    text that UTF-8 cannot encode (a lone surrogate), so the line is always valid UTF-8."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = json.dumps(record, separators=(",", ":")).encode("ascii")
    return data + b"\n"


def _stall_point() -> tuple[int, int] | None:
    value = os.environ.get(STALL_VARIABLE)
    if not value:
        return None
    records, _, cut = value.partition(":")
    return int(records), int(cut or 0)


class Appender:
    """Appends one record per line, each written whole, unbuffered, as it lands.

    A failed write (disk full, file too large, I/O error) raises the ``OSError``
    after cutting the partial line back off when it can (a rerun would cut it
    anyway), and every later write raises it again: nothing lands after a gap.

    With ``$WAFER_GRAMMAR_TEST_STALL_WRITE`` set to ``"N:K"`` (for crash tests),
    after ``N`` whole records the writer writes only the first ``K`` bytes of the
    next one, prints ``stalled after N records and K bytes`` on stderr and then
    blocks for good, waiting to be killed: a kill lands exactly there.

    Raises:
        BatchFileError: the output cannot be opened for appending.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.written = 0
        """Whole records written by this appender."""
        self._failure: OSError | None = None
        self._stall = _stall_point()
        try:
            # O_APPEND: every write lands at the end; no Python buffer that could later
            # flush half a line after a failure
            self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        except OSError as exc:
            raise BatchFileError(
                path, None, f"cannot open for appending: {exc.strerror or exc}"
            ) from exc
        self._size = os.fstat(self._fd).st_size

    def write(self, record: dict[str, Any]) -> None:
        """Append ``record`` as one line.

        Raises:
            OSError: the line could not be written (then or by an earlier call).
        """
        if self._failure is not None:
            raise self._failure
        assert self._fd is not None, "write() after close()"
        line = encode_record(record)
        try:
            if self._stall is not None and self._stall[0] == self.written:
                self._stall_here(line[: min(self._stall[1], len(line) - 1)])
            self._write_all(line)
        except OSError as exc:
            self._failure = exc
            with contextlib.suppress(OSError):  # else the rerun cuts the torn line
                os.ftruncate(self._fd, self._size)
            raise
        self._size += len(line)
        self.written += 1

    def _write_all(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            # a short write (the disk filled up mid-line) is followed by one that raises
            view = view[_os_write(self._fd, view) :]

    def _stall_here(self, part: bytes) -> None:
        self._write_all(part)
        sys.stderr.write(f"stalled after {self.written} records and {len(part)} bytes\n")
        sys.stderr.flush()
        threading.Event().wait()  # until killed

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
