"""The batch's files: reading inputs, recovering an output after a crash, appending results.

Crash safety rests on three facts:

- each record is one ``write`` of one whole line, flushed at once, so a kill -9
  loses at most the line being written, and leaves it torn (no final newline);
- on start, a torn last line is cut off (truncated back to the last newline), and
  the ids already present are skipped, so nothing is done twice or skipped;
- ``--retry-failed`` drops the failed records by writing a new file beside the
  output and renaming it over (atomic), so a crash then leaves the old or the new.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from wafer_grammar.errors import BatchFileError


@dataclass(frozen=True)
class Item:
    """One input: its ``id`` (as given, or the 1-based line number) and text."""

    id: Any
    text: str
    line: int


def id_key(value: Any) -> str:
    """A hashable, type-exact key for an id (``1`` and ``"1"`` stay different)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def read_inputs(path: str) -> list[Item]:
    """Every input line as an :class:`Item`; blank lines are skipped (but still counted).

    Raises:
        BatchFileError: unreadable file, a line that is not a JSON object with a
        string ``text``, or an id used twice.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BatchFileError(path, None, f"cannot read: {reason}") from exc
    items: list[Item] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BatchFileError(path, number, f"not valid JSON ({exc.msg})") from exc
        if not isinstance(doc, dict):
            raise BatchFileError(path, number, 'expected a JSON object with a "text" field')
        text = doc.get("text")
        if not isinstance(text, str):
            raise BatchFileError(path, number, 'the "text" field is missing or not a string')
        item_id = doc.get("id", number)
        if isinstance(item_id, (dict, list)) or item_id is None:
            raise BatchFileError(path, number, 'the "id" field must be a string or a number')
        key = id_key(item_id)
        if key in seen:
            raise BatchFileError(path, number, f"id {key} is also on line {seen[key]}")
        seen[key] = number
        items.append(Item(item_id, text, number))
    return items


def recover_output(path: str, *, retry_failed: bool = False) -> tuple[set[str], int]:
    """Make ``path`` whole again and return ``(done id keys, torn bytes cut)``.

    A missing file is empty. A last line without its newline, or one that is not
    a JSON object with an id, was torn by a kill and is cut off; such a line
    anywhere else means the file is not ours, and is an error. With
    ``retry_failed``, records with an ``error`` are removed so their ids run again.

    Raises:
        BatchFileError: a malformed line other than the last.
    """
    file = Path(path)
    if not file.exists():
        return set(), 0
    data = file.read_bytes()
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
    if cut:
        with open(file, "r+b") as handle:
            handle.truncate(len(data) - cut)
    keep = [(raw, rec) for raw, rec in records if not (retry_failed and "error" in rec)]
    if len(keep) != len(records):
        _replace(file, b"".join(raw + b"\n" for raw, _ in keep))
    return {id_key(rec["id"]) for _, rec in keep}, cut


def _record(raw: bytes) -> dict[str, Any] | None:
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, dict) and "id" in doc else None


def _replace(file: Path, content: bytes) -> None:
    temporary = file.with_name(file.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, file)


class Appender:
    """Appends one record per line, each written whole and flushed as it lands."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._handle: IO[bytes] = open(path, "ab")  # noqa: SIM115 (closed by close())

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        # one write call per line: a kill can tear only this line, never interleave two
        self._handle.write(line)
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()
