"""Case files: ``NAME.cases.toml`` beside ``NAME.ebnf`` says what the grammar must do.

::

    # grammars/answer.cases.toml: cases for grammars/answer.ebnf
    root = "root"          # optional: the entry rule (default "root")
    downstream = "json"    # optional: every accepted case and generated member
                           # must also satisfy this consumer (json: json.loads)
    accept = ['{"a": 1}', "[]"]        # must be accepted
    reject = ['{"a": 1,}', "[1 2]"]    # must be rejected

Use TOML literal strings (``'...'``) for text full of quotes and backslashes:
``'\\d'`` is the two characters backslash and d; in a basic string (``"..."``)
write ``"\\\\d"``. Every error names the file, the line and the column.
"""

from __future__ import annotations

import difflib
import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wafer_grammar.ebnf.diagnostics import caret_snippet
from wafer_grammar.errors import WaferGrammarError

SUFFIX = ".cases.toml"
KEYS = ("root", "downstream", "accept", "reject")
#: Consumers a case file can name: each raises on text it cannot take.
DOWNSTREAM: dict[str, Callable[[str], object]] = {"json": json.loads}

_AT = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


class CaseFileError(WaferGrammarError, ValueError):
    """A case file cannot be read or is malformed; ``.path``, ``.line``, ``.column`` say where."""

    def __init__(
        self,
        message: str,
        *,
        path: str,
        line: int | None = None,
        column: int | None = None,
        source: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        text = f"{path}: {message}"
        if line is not None and column is not None:
            text = f"{path}: line {line}, column {column}: {message}"
            snippet = caret_snippet(source, line, column)
            if snippet:
                text += "\n" + snippet
        super().__init__(text)


@dataclass(frozen=True)
class CaseFile:
    """A loaded case file; ``grammar_path`` is the ``.ebnf`` beside it."""

    path: Path
    grammar_path: Path
    root: str = "root"
    downstream: str | None = None
    accept: tuple[str, ...] = ()
    reject: tuple[str, ...] = ()
    lines: dict[str, int] = field(default_factory=dict, compare=False)  # key -> line

    def consumer(self) -> Callable[[str], object] | None:
        """The downstream check (``json.loads`` for ``"json"``), if any."""
        return None if self.downstream is None else DOWNSTREAM[self.downstream]


def grammar_path_for(case_path: Path) -> Path:
    """``x/NAME.cases.toml`` -> ``x/NAME.ebnf``."""
    return case_path.with_name(case_path.name[: -len(SUFFIX)] + ".ebnf")


def case_path_for(grammar_path: Path) -> Path:
    """``x/NAME.ebnf`` -> ``x/NAME.cases.toml``."""
    return grammar_path.with_name(grammar_path.stem + SUFFIX)


def _toml() -> Any:
    try:
        return importlib.import_module("tomllib")
    except ModuleNotFoundError:  # Python 3.10: the same parser, as a package
        try:
            return importlib.import_module("tomli")
        except ModuleNotFoundError:
            raise WaferGrammarError(
                "reading case files on Python 3.10 needs the tomli package: pip install tomli"
            ) from None


def _key_lines(source: str) -> dict[str, list[tuple[int, int]]]:
    """Where each top-level ``key =`` is written: (line, column), 1-based."""
    found: dict[str, list[tuple[int, int]]] = {}
    for number, line in enumerate(source.split("\n"), start=1):
        m = re.match(r"(\s*)([A-Za-z0-9_-]+)\s*=", line)
        if m:
            found.setdefault(m.group(2), []).append((number, len(m.group(1)) + 1))
    return found


def _strings(
    data: dict[str, Any], key: str, err: Callable[[str, str], CaseFileError]
) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise err(key, f'"{key}" must be a list of strings, not {_kind(value)}')
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise err(key, f"{key}[{i}] must be a string, not {_kind(item)} {item!r}")
    return tuple(value)


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
             list: "a list", dict: "a table"}  # fmt: skip
    return names.get(type(value), type(value).__name__)


def parse_cases(source: str, path: Path) -> CaseFile:
    """A case file from its text; ``path`` is where it lives (for messages and the grammar).

    Raises:
        CaseFileError: the TOML does not parse, or a key or value is wrong.
    """
    name = str(path)
    toml = _toml()
    where = _key_lines(source)
    try:
        data: dict[str, Any] = toml.loads(source)
    except toml.TOMLDecodeError as exc:
        message = str(exc)
        twice = [(k, spots) for k, spots in where.items() if len(spots) > 1]
        if message.startswith("Cannot overwrite") and twice:
            # tomllib says this happens "at end of document": point at the second one.
            key, spots = twice[0]
            second, column = spots[1]
            raise CaseFileError(
                f'"{key}" is given twice (lines {spots[0][0]} and {second})',
                path=name,
                line=second,
                column=column,
                source=source,
            ) from exc
        m = _AT.search(message)
        line: int | None = None
        col: int | None = None
        if m:
            message = message[: m.start()]
            if m.group(1):
                line, col = int(m.group(1)), int(m.group(2))
            else:
                lines = source.rstrip("\n").split("\n")
                line, col = len(lines), len(lines[-1]) + 1
        if "\\" in message:  # the usual trip-up: backslashes in basic strings
            message += "; write \\\\ in \"...\" strings, or use a literal string '...'"
        raise CaseFileError(
            f"not valid TOML: {message}", path=name, line=line, column=col, source=source
        ) from exc

    def err(key: str, message: str) -> CaseFileError:
        line, col = where.get(key, [(None, None)])[0]
        return CaseFileError(message, path=name, line=line, column=col, source=source)

    for key in data:
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            raise err(key, f'unknown key "{key}" (a case file has {", ".join(KEYS)}){hint}')
    root = data.get("root", "root")
    if not isinstance(root, str) or not root:
        raise err("root", f'"root" must be a rule name, not {_kind(root)} {root!r}')
    downstream = data.get("downstream")
    if downstream is not None and downstream not in DOWNSTREAM:
        known = ", ".join(f'"{k}"' for k in DOWNSTREAM)
        raise err("downstream", f"unknown downstream {json.dumps(downstream)} (known: {known})")
    return CaseFile(
        path=path,
        grammar_path=grammar_path_for(path),
        root=root,
        downstream=downstream,
        accept=_strings(data, "accept", err),
        reject=_strings(data, "reject", err),
        lines={key: spots[0][0] for key, spots in where.items()},
    )


def load_cases(path: str | Path) -> CaseFile:
    """Read ``NAME.cases.toml`` (UTF-8).

    Raises:
        CaseFileError: unreadable, not TOML, or malformed (with line and column).
    """
    p = Path(path)
    if not p.name.endswith(SUFFIX):
        raise CaseFileError(f"a case file's name ends in {SUFFIX}", path=str(p))
    try:
        source = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CaseFileError(f"cannot read: {reason}", path=str(p)) from exc
    return parse_cases(source, p)
