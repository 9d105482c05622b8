"""The official ``anthropic`` SDK against the embedded server's ``/v1/messages``.

This SDK version takes ``temperature`` only through ``extra_body`` (its
``create`` has no such keyword); the server honours it either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wafer_grammar.local.pytest_fixtures import LocalServerHandle

anthropic = pytest.importorskip("anthropic", reason="pip install 'wafer-grammar[test]' for the SDK")

HI = [{"role": "user", "content": "Say hello."}]
GREEDY = {"temperature": 0}


def root(local_server: LocalServerHandle) -> str:
    """The SDK appends ``/v1/messages`` itself: its base URL is the server root."""
    return local_server.base_url.removesuffix("/v1")


@pytest.fixture
def client(local_server: LocalServerHandle) -> Iterator[Any]:
    with anthropic.Anthropic(
        base_url=root(local_server), api_key=local_server.api_key, max_retries=0
    ) as sdk:
        yield sdk


def test_messages_create(client: Any, local_server: LocalServerHandle) -> None:
    message = client.messages.create(
        model=local_server.model,
        max_tokens=6,
        system="You are terse.",
        messages=HI,
        extra_body=GREEDY,
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.id.startswith("msg_")
    (block,) = message.content
    assert block.type == "text" and block.text
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 6
    assert message.usage.input_tokens > 0


def test_stream_matches_create(client: Any, local_server: LocalServerHandle) -> None:
    kwargs: dict[str, Any] = {
        "model": local_server.model,
        "max_tokens": 6,
        "system": [{"type": "text", "text": "You are terse."}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Say hello."}]}],
        "extra_body": GREEDY,
    }
    whole = client.messages.create(**kwargs)
    with client.messages.stream(**kwargs) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == whole.content[0].text == final.content[0].text
    assert final.stop_reason == whole.stop_reason
    # input_tokens counts only the uncached part: the stream's prompt was cached by
    # the create() call before it, so the two add up to the same prompt.
    assert (prompt_tokens(final.usage), final.usage.output_tokens) == (
        prompt_tokens(whole.usage),
        whole.usage.output_tokens,
    )


def prompt_tokens(usage: Any) -> int:
    return int(usage.input_tokens) + int(usage.cache_read_input_tokens or 0)


def test_raw_event_sequence(client: Any, local_server: LocalServerHandle) -> None:
    events = list(
        client.messages.create(
            model=local_server.model, max_tokens=3, messages=HI, stream=True, extra_body=GREEDY
        )
    )
    kinds = [e.type for e in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) <= {"content_block_delta"}
    assert all(e.delta.type == "text_delta" for e in events if e.type == "content_block_delta")
    assert events[-2].delta.stop_reason == "max_tokens"
    assert events[-2].usage.output_tokens == 3


def test_stop_sequences(client: Any, local_server: LocalServerHandle) -> None:
    whole = client.messages.create(
        model=local_server.model, max_tokens=8, messages=HI, extra_body=GREEDY
    )
    word = whole.content[0].text.split()[1]
    cut = client.messages.create(
        model=local_server.model,
        max_tokens=8,
        messages=HI,
        stop_sequences=[word],
        extra_body=GREEDY,
    )
    assert cut.stop_reason == "stop_sequence"
    assert cut.stop_sequence == word
    assert word not in cut.content[0].text


def test_thinking_disabled_is_accepted_enabled_refused(
    client: Any, local_server: LocalServerHandle
) -> None:
    ok = client.messages.create(
        model=local_server.model,
        max_tokens=2,
        messages=HI,
        thinking={"type": "disabled"},
        extra_body=GREEDY,
    )
    assert ok.content[0].text
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(
            model=local_server.model,
            max_tokens=64,
            messages=HI,
            thinking={"type": "enabled", "budget_tokens": 32},
        )
    assert info.value.body["error"]["type"] == "invalid_request_error"
    assert "does not reason" in info.value.body["error"]["message"]


def test_errors_map_to_the_sdk_exceptions(client: Any, local_server: LocalServerHandle) -> None:
    with pytest.raises(anthropic.BadRequestError) as bad:
        client.messages.create(
            model=local_server.model, max_tokens=2, messages=HI, metadata={"user_id": "u"}
        )
    assert bad.value.body == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "unsupported parameter 'metadata': this server's /v1/messages does not implement it (refused rather than ignored)",
        },
    }
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="claude-9", max_tokens=2, messages=HI)
    wrong = anthropic.Anthropic(base_url=root(local_server), api_key="wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as auth, wrong:
        wrong.messages.create(model=local_server.model, max_tokens=2, messages=HI)
    assert auth.value.body["error"]["type"] == "authentication_error"
    assert local_server.api_key not in str(auth.value)
