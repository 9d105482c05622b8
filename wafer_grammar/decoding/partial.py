"""Partial values of a JSON answer while it streams (like Instructor's ``Partial``).

:class:`PartialJSON` reads a JSON text chunk by chunk, each character once, and
keeps the value the text so far determines. Views are *prefix-consistent*: a
later view only extends an earlier one.

- Objects gain keys: a key appears once its name is complete and its value has begun.
- Arrays gain items; a string being written appears with its characters so far.
- Numbers, ``true``, ``false`` and ``null`` appear only once complete (``1`` may
  still become ``12``), so a view never shows a value that later changes.

With a grammar, each chunk is also checked as it lands (:meth:`Grammar.matcher`):
:class:`~wafer_grammar.errors.ConstraintViolation` at the first chunk outside
it. The final value is :func:`~wafer_grammar.decoding.decode`'s, validated by
every layer as for a non-streamed answer.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from wafer_grammar.client.types import ChatChunkChoice, ChatCompletionChunk, CompletionChunk
from wafer_grammar.errors import ConstraintViolation

if TYPE_CHECKING:
    from wafer_grammar.grammar import Grammar

_NUMBER = frozenset("-+.eE0123456789")
_LITERALS = {"t": ("true", True), "f": ("false", False), "n": ("null", None)}
_SPACE = frozenset(" \t\n\r")


class _Frame:
    """An open object or array: its value, and for an object the key being filled."""

    __slots__ = ("key", "value")

    def __init__(self, value: dict[str, Any] | list[Any]) -> None:
        self.value = value
        self.key: str | None = None


class PartialJSON:
    """A JSON value growing with its text: :meth:`feed` chunks, read :attr:`value`."""

    def __init__(self, grammar: Grammar | None = None) -> None:
        self._matcher = grammar.matcher() if grammar is not None else None
        self._stack: list[_Frame] = []
        self._root: list[Any] = []  # the value, once it has begun
        self._kind = ""  # the scalar in progress: "key", "string", "number", "literal"
        self._raw: list[str] = []
        self._escape_at = -1  # where an unfinished escape starts in _raw (-1: none)
        self._slot: tuple[dict[str, Any] | list[Any], Any] | None = None
        self._changed = False

    def feed(self, chunk: str) -> bool:
        """Read ``chunk``; whether the view changed.

        Raises:
            ConstraintViolation: with a grammar, the text left its language.
        """
        if self._matcher is not None and not self._matcher.feed(chunk):
            mismatch = self._matcher.mismatch()
            assert mismatch is not None
            raise ConstraintViolation(mismatch)
        self._changed = False
        for ch in chunk:
            self._char(ch)
        return self._changed

    @property
    def value(self) -> Any:
        """A copy of the value so far (None before anything has begun)."""
        if self._kind == "string" and self._slot is not None:
            container, where = self._slot
            container[where] = self._partial_string()
        return copy.deepcopy(self._root[0]) if self._root else None

    # -- reading -------------------------------------------------------------------

    def _char(self, ch: str) -> None:
        kind = self._kind
        if kind in ("string", "key"):
            self._string_char(ch)
        elif kind == "number" and ch in _NUMBER:
            self._raw.append(ch)
        elif kind == "literal":
            self._raw.append(ch)
            word, value = _LITERALS[self._raw[0]]
            if len(self._raw) == len(word):
                self._kind = ""
                self._place(value)
        else:
            if kind == "number":  # a delimiter ends the number
                self._kind = ""
                self._place(json.loads("".join(self._raw)))
            self._structure(ch)

    def _string_char(self, ch: str) -> None:
        raw = self._raw
        if self._escape_at >= 0:
            raw.append(ch)
            long = raw[self._escape_at + 1] == "u"
            if not long or len(raw) - self._escape_at == 6:
                self._escape_at = -1
        elif ch == "\\":
            self._escape_at = len(raw)
            raw.append(ch)
        elif ch == '"':
            text = json.loads('"' + "".join(raw) + '"')
            if self._kind == "key":
                self._stack[-1].key = text
            else:
                assert self._slot is not None
                container, where = self._slot
                container[where] = text
                self._changed = True
            self._kind, self._slot = "", None
        else:
            raw.append(ch)
            self._changed = self._changed or self._kind == "string"

    def _partial_string(self) -> str:
        """The string so far, without an unfinished escape or a pair's first half."""
        raw = "".join(self._raw if self._escape_at < 0 else self._raw[: self._escape_at])
        if (
            len(raw) >= 6
            and raw[-6:-4].lower() == "\\u"
            and raw[-4:-2].lower() in ("d8", "d9", "da", "db")
        ):
            raw = raw[:-6]  # a high surrogate escape: its low half may still come
        return str(json.loads('"' + raw + '"'))

    def _structure(self, ch: str) -> None:
        if ch in _SPACE or ch in ",:":
            return
        top = self._stack[-1] if self._stack else None
        if ch in "}]":
            self._stack.pop()
            return
        if ch == '"':
            self._raw, self._escape_at = [], -1
            if top is not None and isinstance(top.value, dict) and top.key is None:
                self._kind = "key"
            else:
                self._kind = "string"
                self._slot = self._place("")
            return
        if ch in "{[":
            frame = _Frame({} if ch == "{" else [])
            self._place(frame.value)
            self._stack.append(frame)
            return
        self._raw = [ch]
        self._kind = "literal" if ch in _LITERALS else "number"

    def _place(self, value: Any) -> tuple[dict[str, Any] | list[Any], Any]:
        """Put a value that has begun where it belongs; where it is."""
        self._changed = True
        if not self._stack:
            self._root[:] = [value]
            return self._root, 0
        top = self._stack[-1]
        if isinstance(top.value, list):
            top.value.append(value)
            return top.value, len(top.value) - 1
        assert top.key is not None
        key, top.key = top.key, None
        top.value[key] = value
        return top.value, key


Chunk = CompletionChunk | ChatCompletionChunk


def _text_of(chunk: Chunk, choice: int) -> str:
    for c in chunk.choices:
        if c.index == choice:
            return (c.delta.content or "") if isinstance(c, ChatChunkChoice) else c.text
    return ""


def stream_texts(stream: Iterable[Chunk], choice: int = 0) -> Iterator[str]:
    """The text each chunk of a client stream adds to choice ``choice``.

    ``for view in partial_values(stream_texts(stream)): ...`` then
    ``decode(stream.final(), grammar, model=...)`` for the validated value (the
    client already checks a stream made with ``grammar=`` chunk by chunk).
    """
    for chunk in stream:
        yield _text_of(chunk, choice)


async def astream_texts(stream: AsyncIterable[Chunk], choice: int = 0) -> AsyncIterator[str]:
    """:func:`stream_texts` for the asyncio client's streams."""
    async for chunk in stream:
        yield _text_of(chunk, choice)


def partial_values(chunks: Iterable[str], grammar: Grammar | None = None) -> Iterator[Any]:
    """Each new view of the JSON value as its text arrives in ``chunks``.

    Raises:
        ConstraintViolation: with a grammar, at the first chunk outside it.
    """
    partial = PartialJSON(grammar)
    for chunk in chunks:
        if partial.feed(chunk):
            yield partial.value


async def apartial_values(
    chunks: AsyncIterable[str], grammar: Grammar | None = None
) -> AsyncIterator[Any]:
    """:func:`partial_values` over an asynchronous source of text."""
    partial = PartialJSON(grammar)
    async for chunk in chunks:
        if partial.feed(chunk):
            yield partial.value
