"""Streamed extraction: prefix-consistent views, then the value extract() would give."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel, Field

from wafer_grammar.client import AsyncWaferClient, WaferClient
from wafer_grammar.errors import TruncatedOutput
from wafer_grammar.tasks import aextract_stream, extract_full, extract_stream
from wafer_grammar.tasks.extraction_stream import StreamedViews

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 12},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 6}, "maxItems": 2},
    },
    "required": ["name", "tags"],
    "additionalProperties": False,
}


class Person(BaseModel):
    name: str = Field(max_length=12)


def extends(earlier: Any, later: Any) -> bool:
    """Whether ``later`` only adds to ``earlier`` (what a prefix-consistent view may do)."""
    if isinstance(earlier, dict):
        return isinstance(later, dict) and all(
            k in later and extends(v, later[k]) for k, v in earlier.items()
        )
    if isinstance(earlier, list):
        return (
            isinstance(later, list)
            and len(later) >= len(earlier)
            and all(extends(a, b) for a, b in zip(earlier[:-1], later, strict=False))
            and (not earlier or extends(earlier[-1], later[len(earlier) - 1]))
        )
    if isinstance(earlier, str):
        return isinstance(later, str) and later.startswith(earlier)
    return bool(earlier == later)


def test_views_only_grow_and_the_last_update_is_the_validated_value(
    client: WaferClient, local_server: Any
) -> None:
    text = "Ann Lee, tags: red, blue."
    updates = list(extract_stream(text, SCHEMA, model=local_server.model, client=client))
    *views, last = updates
    assert last.done and not any(u.done for u in views)
    whole = extract_full(text, SCHEMA, model=local_server.model, client=client)
    assert last.value == whole.value  # greedy: the same answer as the non-streamed call
    assert last.extraction is not None and len(last.extraction.answers) == 1
    assert last.extraction.answers[0].choices[0].text == whole.answers[0].choices[0].text
    assert views, "a multi-token answer shows views before it is done"
    for a, b in zip(views, [*views[1:], last], strict=True):
        assert not b.restarted and extends(a.value, b.value), (a.value, b.value)


def test_a_model_streams_dicts_and_ends_with_an_instance(
    client: WaferClient, local_server: Any
) -> None:
    updates = list(
        extract_stream("Hi, I am Ann Lee.", Person, model=local_server.model, client=client)
    )
    assert isinstance(updates[-1].value, Person)
    assert all(isinstance(u.value, dict) for u in updates[:-1])


def test_a_truncation_is_retried_once_then_raised(client: WaferClient, local_server: Any) -> None:
    budgets: list[int] = []

    class Recording:
        def stream_completions(self, model: str, prompt: Any, **options: Any) -> Any:
            budgets.append(options["max_tokens"])
            return client.stream_completions(model, prompt, **options)

    with pytest.raises(TruncatedOutput) as info:
        for _ in extract_stream(
            "Ann Lee",
            SCHEMA,
            model=local_server.model,
            client=Recording(),
            max_tokens=1,  # type: ignore[arg-type]
        ):
            pass
    assert budgets == [1, 4] and info.value.viable_prefix is True


def test_the_asyncio_twin_gives_the_same_updates(client: WaferClient, local_server: Any) -> None:
    text = "Ann Lee, tags: red."

    async def collect() -> list[Any]:
        async with AsyncWaferClient(
            base_url=local_server.base_url, api_key=local_server.api_key
        ) as aclient:
            return [
                u
                async for u in aextract_stream(
                    text, SCHEMA, model=local_server.model, client=aclient
                )
            ]

    got = asyncio.run(collect())
    want = list(extract_stream(text, SCHEMA, model=local_server.model, client=client))
    assert [u.value for u in got] == [u.value for u in want]


def _feed(views: StreamedViews, pieces: list[str]) -> list[tuple[Any, bool]]:
    out = []
    for piece in pieces:
        update = views.feed(piece)
        if update is not None:
            out.append((update.value, update.restarted))
    return out


def test_a_retry_that_repeats_the_first_answer_shows_only_what_is_new() -> None:
    views = StreamedViews()
    assert _feed(views, ['{"a": "x', 'y", "b"']) == [({"a": "x"}, False), ({"a": "xy"}, False)]
    views.retry()
    # The same text in other pieces is held back; what goes past it extends the views.
    assert _feed(views, ['{"a"', ': "xy"', ', "b": 1', "2}"]) == [({"a": "xy", "b": 12}, False)]


def test_a_retry_that_parts_from_the_first_answer_is_marked_restarted() -> None:
    views = StreamedViews()
    assert _feed(views, ['{"a": "xy']) == [({"a": "xy"}, False)]
    views.retry()
    assert _feed(views, ['{"a": "q', 'r"}']) == [({"a": "q"}, True), ({"a": "qr"}, False)]


def test_without_a_client_the_backend_rule_opens_one(
    server_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    updates = list(
        extract_stream("Ann Lee", Person, model=server_env.model, base_url=server_env.base_url)
    )
    assert updates[-1].done and isinstance(updates[-1].value, Person)
    assert f"backend: server at {server_env.base_url}" in capsys.readouterr().err
