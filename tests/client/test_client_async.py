"""The asyncio twin: same surface, same answers, many requests over one pool."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from client_support import FAST, GRAMMAR, QUESTION

from wafer_grammar.client import AsyncWaferClient, WaferClient


def test_twins_have_the_same_public_surface() -> None:
    def surface(cls: type) -> dict[str, list[str]]:
        return {
            name: [p for p in inspect.signature(member).parameters]
            for name, member in vars(cls).items()
            if callable(member) and not name.startswith("_") and name not in ("close", "aclose")
        }

    assert surface(WaferClient) == surface(AsyncWaferClient)
    for name in (
        "completions",
        "stream_completions",
        "chat",
        "stream_chat",
        "models",
        "model",
        "cost",
    ):
        assert inspect.iscoroutinefunction(getattr(AsyncWaferClient, name)), name


def test_concurrent_requests_and_same_answers_as_sync(local_server: Any) -> None:
    model = local_server.model

    async def run() -> tuple[list[str], str, Any]:
        async with AsyncWaferClient(
            base_url=local_server.base_url, api_key=local_server.api_key, retry=FAST
        ) as client:
            answers = await asyncio.gather(
                *(
                    client.chat(model, QUESTION, grammar=GRAMMAR, max_tokens=2, temperature=0)
                    for _ in range(4)
                )
            )
            stream = await client.stream_chat(
                model, QUESTION, grammar=GRAMMAR, max_tokens=2, temperature=0
            )
            chunks = [chunk async for chunk in stream]
            folded = await stream.final()
            assert chunks and folded.text == "".join(
                c.choices[0].delta.content or "" for c in chunks if c.choices
            )
            return [a.text for a in answers], folded.text, folded.usage

    texts, streamed, usage = asyncio.run(run())
    with WaferClient(base_url=local_server.base_url, api_key=local_server.api_key) as client:
        whole = client.chat(model, QUESTION, grammar=GRAMMAR, max_tokens=2, temperature=0)
    assert texts == [whole.text] * 4
    assert (streamed, usage) == (whole.text, whole.usage)


def test_async_models_cached(local_server: Any) -> None:
    async def run() -> int:
        async with AsyncWaferClient(
            base_url=local_server.base_url, api_key=local_server.api_key
        ) as client:
            first = await client.models()
            assert await client.models() is not first  # a copy each time, same content
            assert await client.models() == first
            return len(first)

    assert asyncio.run(run()) == 1
