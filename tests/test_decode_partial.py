"""Partial JSON values while an answer streams: each view extends the one before it."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wafer_grammar import Grammar
from wafer_grammar.client.types import (
    ChatChunkChoice,
    ChatCompletionChunk,
    ChatDelta,
    CompletionChoice,
    CompletionChunk,
)
from wafer_grammar.decoding import (
    PartialJSON,
    apartial_values,
    astream_texts,
    partial_values,
    stream_texts,
)
from wafer_grammar.errors import ConstraintViolation

JSON = Grammar.from_file("grammars/json.ebnf")


def _extends(later: Any, earlier: Any) -> bool:
    """Whether ``later`` only adds to ``earlier`` (keys, items, characters)."""
    if isinstance(earlier, dict):
        return isinstance(later, dict) and all(
            k in later and _extends(later[k], v) for k, v in earlier.items()
        )
    if isinstance(earlier, list):
        return (
            isinstance(later, list)
            and len(later) >= len(earlier)
            and all(_extends(a, b) for a, b in zip(later, earlier, strict=False))
        )
    if isinstance(earlier, str):
        return isinstance(later, str) and later.startswith(earlier)
    return type(later) is type(earlier) and later == earlier


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_values, st.integers(1, 5), st.booleans(), st.sampled_from([None, 2]))
def test_views_only_grow_and_end_at_the_value(
    value: Any, size: int, ascii_only: bool, indent: int | None
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    views = list(partial_values([text[i : i + size] for i in range(0, len(text), size)], JSON))
    for earlier, later in itertools.pairwise(views):
        assert _extends(later, earlier), (text, earlier, later)
    partial = PartialJSON()
    partial.feed(text + " ")  # a number at the very end is complete once something follows
    assert partial.value == value


def test_what_a_view_shows_and_holds_back() -> None:
    partial = PartialJSON()
    partial.feed('{"name": "Ad')
    assert partial.value == {"name": "Ad"}  # a string being written: its characters so far
    partial.feed('a", "age": 3')
    assert partial.value == {"name": "Ada"}  # a number may still grow: not shown yet
    partial.feed('6, "tags": ["x\\u00')
    assert partial.value == {"name": "Ada", "age": 36, "tags": ["x"]}  # no half escape
    partial.feed('e9", tr')
    assert partial.value == {"name": "Ada", "age": 36, "tags": ["x\u00e9"]}
    partial.feed('ue], "e": "\\ud83d')
    assert partial.value == {"name": "Ada", "age": 36, "tags": ["x\u00e9", True], "e": ""}
    partial.feed('\\ude00"}')
    assert partial.value == {"name": "Ada", "age": 36, "tags": ["x\u00e9", True], "e": "\U0001f600"}


def test_a_grammar_checks_each_chunk() -> None:
    views = partial_values(['{"a": [1, ', "2; 3]}"], JSON)
    assert next(views) == {"a": [1]}
    with pytest.raises(ConstraintViolation) as info:
        next(views)
    assert info.value.offset == 11


def test_client_stream_chunks_feed_the_views() -> None:
    pieces = ['{"k": [', "1, 2", "]}"]
    completion = [
        CompletionChunk(id="c", model="m", choices=(CompletionChoice(0, p, None),)) for p in pieces
    ]
    assert list(partial_values(stream_texts(completion))) == [{"k": []}, {"k": [1]}, {"k": [1, 2]}]
    chat = [
        ChatCompletionChunk(id="c", model="m", choices=(ChatChunkChoice(0, ChatDelta(content=p)),))
        for p in pieces
    ]

    async def run() -> list[Any]:
        async def source() -> AsyncIterator[ChatCompletionChunk]:
            for chunk in chat:
                yield chunk

        return [v async for v in apartial_values(astream_texts(source()), JSON)]

    assert asyncio.run(run()) == [{"k": []}, {"k": [1]}, {"k": [1, 2]}]
