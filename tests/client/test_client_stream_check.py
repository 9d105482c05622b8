"""Streams with ``grammar=`` are checked chunk by chunk; the first bad chunk raises and closes.

A user transport serves the events lazily and records how far it was read, so
"no more tokens paid for" is observed, not assumed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from wafer_grammar import Grammar
from wafer_grammar.client import AsyncWaferClient, WaferClient
from wafer_grammar.client.stream import ChatAssembler
from wafer_grammar.client.stream_check import StreamGuard
from wafer_grammar.errors import ConstraintViolation

JSON = Grammar.from_file("grammars/json.ebnf")
MODEL = "some-model"


def _event(texts: list[str], finish: str | None = None) -> bytes:
    choices = [
        {"index": i, "text": t, "finish_reason": finish} for i, t in enumerate(texts) if t or finish
    ]
    doc = {"id": "c", "object": "text_completion", "model": "m", "choices": choices}
    return f"data: {json.dumps(doc)}\n\n".encode()


class Served:
    """Events handed out one at a time; ``sent`` counts those the client pulled."""

    def __init__(self, events: list[bytes], *, asynchronous: bool = False) -> None:
        self.events = [*events, b"data: [DONE]\n\n"]
        self.sent = 0
        self.asynchronous = asynchronous

    def _sync(self) -> Iterator[bytes]:
        for event in self.events:
            self.sent += 1
            yield event

    async def _async(self) -> AsyncIterator[bytes]:
        for event in self.events:
            self.sent += 1
            yield event

    def response(self, request: httpx.Request) -> httpx.Response:
        body = self._async() if self.asynchronous else self._sync()
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


DOC = ['{"a": [1, ', "2, 3", '], "b": tru', "e}"]
BAD = ['{"a": [1, ', "2; 3", "]}", "  "]


def test_a_member_streams_through_and_is_checked_at_the_end() -> None:
    served = Served([_event([t]) for t in DOC] + [_event([""], "stop")])
    with WaferClient(
        base_url="http://s.test/v1", server="vllm", transport=httpx.MockTransport(served.response)
    ) as client:
        stream = client.stream_completions(MODEL, [1], grammar=JSON, max_tokens=50)
        assert stream.final().choices[0].text == "".join(DOC)
    assert served.sent == len(served.events)


def test_the_first_bad_chunk_raises_and_the_rest_is_never_read() -> None:
    served = Served([_event([t]) for t in BAD] + [_event([""], "stop")])
    with WaferClient(
        base_url="http://s.test/v1", server="vllm", transport=httpx.MockTransport(served.response)
    ) as client:
        stream = client.stream_completions(MODEL, [1], grammar=JSON, max_tokens=50)
        seen = []
        with pytest.raises(ConstraintViolation) as info:
            for chunk in stream:
                seen.append(chunk.choices[0].text)
    assert seen == [BAD[0]]
    assert served.sent == 2  # the stream closed at the bad chunk
    error = info.value
    assert (error.offset, error.line, error.column) == (11, 1, 12)
    assert error.mismatch.text == '{"a": [1, 2;'
    assert str(error).endswith(
        'line 1, column 12: unexpected ";"; expected '
        + ", ".join(error.expected)
        + '\n  {"a": [1, 2;\n             ^'
    )


def test_the_async_twin_raises_at_the_same_chunk() -> None:
    served = Served([_event([t]) for t in BAD] + [_event([""], "stop")], asynchronous=True)

    async def run() -> list[str]:
        seen: list[str] = []
        async with AsyncWaferClient(
            base_url="http://s.test/v1",
            server="vllm",
            transport=httpx.MockTransport(served.response),
        ) as client:
            stream = await client.stream_completions(MODEL, [1], grammar=JSON, max_tokens=50)
            with pytest.raises(ConstraintViolation) as info:
                async for chunk in stream:
                    seen.append(chunk.choices[0].text)
            assert info.value.offset == 11
        return seen

    assert asyncio.run(run()) == [BAD[0]]
    assert served.sent == 2


def test_each_choice_has_its_own_matcher() -> None:
    events = [_event(['{"a": ', "[1"]), _event(["1", "]"]), _event(["}", ", 2]x"])]
    served = Served(events)
    with WaferClient(
        base_url="http://s.test/v1", server="vllm", transport=httpx.MockTransport(served.response)
    ) as client:
        stream = client.stream_completions(MODEL, [1], grammar=JSON, max_tokens=50, n=2)
        with pytest.raises(ConstraintViolation) as info:
            list(stream)
    assert info.value.mismatch.text == "[1]," and info.value.offset == 3  # choice 1


def test_chat_content_is_checked_and_reasoning_is_not() -> None:
    assembler = ChatAssembler(secret=None, request_id=None, inline_reasoning=True)
    assembler.guard = StreamGuard(JSON)

    def chat(content: str) -> str:
        doc = {
            "id": "c",
            "object": "chat.completion.chunk",
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
        }
        return json.dumps(doc)

    for piece in ["<think>any text, even {[", "</think>", '{"k": ', "[1]"]:
        assembler.event(chat(piece))
    with pytest.raises(ConstraintViolation) as info:
        assembler.event(chat("]"))
    assert info.value.mismatch.text == '{"k": [1]]'


def test_a_token_level_grammar_is_not_checked_as_text() -> None:
    guard = StreamGuard("root ::= Token(1)")
    guard.feed(0, "anything")  # no text check exists for token-level macros
    assert not guard.judgeable
