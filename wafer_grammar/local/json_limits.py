"""Limits on a parsed request body: how deep it nests, and that its strings are Unicode.

``json.loads`` accepts a lone surrogate escape (``"\\ud800"``) and nesting up to
Python's recursion limit; neither can go further (a tokenizer refuses the
surrogate with a TypeError, the JSON Schema converter recurses once per level),
so both are refused here with a 400 that says where. The walk is iterative and
holds only the current path, so it costs no memory beyond the document's own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from wafer_grammar.errors import InvalidRequest

MAX_JSON_DEPTH = 100
"""Objects and arrays nested in a request body (the body itself is level 1).

Wafer's own fields nest a few levels (``tools[0].function.parameters`` is level 4);
the rest is for JSON Schemas: the converter handles schemas nested 100 deep (200
levels of JSON), and fails with a RecursionError at 200."""

_SHOWN = 8  # path segments named in a message (the rest are elided)
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"\s*:?|[\[\]{}]')
"""A string (with the colon after it, if a key) or a bracket."""


def too_deep(body: bytes | bytearray) -> InvalidRequest:
    """The refusal of a body too deep for ``json.loads`` (it raised RecursionError),
    naming the top-level field it is deep in, found by a scan of the raw bytes."""
    depth, field, where = 0, None, None
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                where = field
                break
        elif token in (b"]", b"}"):
            depth -= 1
        elif depth == 1 and token.endswith(b":"):
            key = json.loads(token[:-1])
            field = key if isinstance(key, str) and _surrogate(key) is None else None
    return InvalidRequest(
        f"the request body nests objects and arrays more than {MAX_JSON_DEPTH} levels deep"
        + (f" (in {where})" if where else "")
        + f"; at most {MAX_JSON_DEPTH} are accepted",
        param=where,
    )


def check_document(doc: Any) -> None:
    """Refuse ``doc`` when it nests deeper than :data:`MAX_JSON_DEPTH` or holds a lone
    surrogate in a string or key; the message names the field, ``param`` its top-level one.
    """
    if isinstance(doc, str):
        _check_text(doc, [], None)
    if not isinstance(doc, (dict, list)):
        return
    stack: list[Iterator[tuple[str | int, Any]]] = [_items(doc)]
    path: list[str | int] = []
    while stack:
        for key, value in stack[-1]:
            if isinstance(key, str):
                _check_key(key, path)
            if isinstance(value, str):
                _check_text(value, path, key)
            elif isinstance(value, (dict, list)):
                if len(stack) >= MAX_JSON_DEPTH:
                    where = [*path, key]
                    raise InvalidRequest(
                        f"the request body nests objects and arrays more than {MAX_JSON_DEPTH} "
                        f"levels deep (at {_where(where)}); at most {MAX_JSON_DEPTH} are "
                        "accepted",
                        param=_param(where),
                    )
                path.append(key)
                stack.append(_items(value))
                break
        else:
            stack.pop()
            if path:
                path.pop()


def _items(value: dict[str, Any] | list[Any]) -> Iterator[tuple[str | int, Any]]:
    if isinstance(value, dict):
        return iter(value.items())
    return enumerate(value)


def _surrogate(text: str) -> int | None:
    """The index of the first lone surrogate in ``text``, or None."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def _check_text(text: str, path: list[str | int], key: str | int | None) -> None:
    at = _surrogate(text)
    if at is not None:
        where = path if key is None else [*path, key]
        raise InvalidRequest(
            f"{_where(where)} holds a lone surrogate (\\u{ord(text[at]):04x}) at character "
            f"{at}, which is not Unicode text; send the character itself, or both halves "
            "of its surrogate pair",
            param=_param(where),
        )


def _check_key(key: str, path: list[str | int]) -> None:
    at = _surrogate(key)
    if at is not None:
        raise InvalidRequest(
            f"a key in {_where(path)} holds a lone surrogate (\\u{ord(key[at]):04x}) at "
            f"character {at}, which is not Unicode text",
            param=_param(path),
        )


def _where(path: list[str | int]) -> str:
    """``messages[0].content``; the body itself is ``the request body``."""
    if not path:
        return "the request body"
    text = ""
    for segment in path[:_SHOWN]:
        text += f"[{segment}]" if isinstance(segment, int) else f".{segment}" if text else segment
    if len(path) > _SHOWN:
        text += f"... ({len(path) - _SHOWN} more levels)"
    return text


def _param(path: list[str | int]) -> str | None:
    return path[0] if path and isinstance(path[0], str) else None
