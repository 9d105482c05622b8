"""``messages()`` / ``stream_messages()``: Anthropic's Messages API through our client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from client_support import FAST, uncached

from wafer_grammar.client import AsyncWaferClient, WaferClient
from wafer_grammar.client.messages import Message, MessageEvent
from wafer_grammar.errors import BadRequest, ThinkingUnsupported

HI = [{"role": "user", "content": "Say hello."}]


def test_messages_against_the_embedded_server(client: WaferClient, local_server: Any) -> None:
    answer = client.messages(
        local_server.model, HI, max_tokens=5, system="Be brief.", temperature=0
    )
    assert isinstance(answer, Message)
    assert (answer.role, answer.model, answer.stop_reason) == (
        "assistant",
        local_server.model,
        "max_tokens",
    )
    assert answer.id.startswith("msg_")
    assert answer.text and answer.content[0].type == "text"
    assert answer.usage.output_tokens == 5
    stream = client.stream_messages(
        local_server.model, HI, max_tokens=5, system="Be brief.", temperature=0
    )
    events = list(stream)
    assert all(isinstance(e, MessageEvent) for e in events)
    assert [e.type for e in events][:2] == ["message_start", "content_block_start"]
    assert events[-1].type == "message_stop"
    assert "".join(e.text for e in events) == answer.text
    final = stream.final()
    # The same counts; how many prompt tokens were cache reads depends on the requests before.
    assert (final.text, final.stop_reason, uncached(final.usage.as_usage())) == (
        answer.text,
        answer.stop_reason,
        uncached(answer.usage.as_usage()),
    )
    assert stream.usage is not None and stream.usage.completion_tokens == 5


def test_stop_sequences_and_thinking_off(client: WaferClient, local_server: Any) -> None:
    whole = client.messages(local_server.model, HI, max_tokens=8, temperature=0)
    word = whole.text.split()[1]
    cut = client.messages(
        local_server.model,
        HI,
        max_tokens=8,
        temperature=0,
        stop_sequences=[word],
        thinking=False,
    )
    assert (cut.stop_reason, cut.stop_sequence) == ("stop_sequence", word)


def test_server_refusals_map_to_bad_request(client: WaferClient, local_server: Any) -> None:
    with pytest.raises(BadRequest) as info:
        client.messages(local_server.model, HI, max_tokens=2, extra_body={"metadata": {}})
    assert "unsupported parameter 'metadata'" in str(info.value)
    assert local_server.api_key not in str(info.value)


def test_thinking_on_for_a_model_that_does_not_reason(
    client: WaferClient, local_server: Any
) -> None:
    with pytest.raises(ThinkingUnsupported):
        client.messages(
            local_server.model,
            HI,
            max_tokens=64,
            thinking={"type": "enabled", "budget_tokens": 32},
        )


def test_async_twin(local_server: Any) -> None:
    async def go() -> tuple[Message, Message]:
        async with AsyncWaferClient(
            base_url=local_server.base_url, api_key=local_server.api_key, retry=FAST
        ) as client:
            whole = await client.messages(local_server.model, HI, max_tokens=3, temperature=0)
            stream = await client.stream_messages(
                local_server.model, HI, max_tokens=3, temperature=0
            )
            return whole, await stream.final()

    whole, streamed = asyncio.run(go())
    assert whole.text == streamed.text


def test_the_body_and_headers_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "GLM-5.1",
                "content": [{"type": "text", "text": "ok"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 3, "output_tokens": 1},
            },
        )

    with WaferClient(
        base_url="https://example.test/v1",
        api_key="sk-secret",
        transport=httpx.MockTransport(handler),
    ) as client:
        answer = client.messages(
            "GLM-5.1",
            HI,
            max_tokens=16,
            system=[{"type": "text", "text": "Be brief."}],
            stop_sequences=["END"],
            top_k=5,
            thinking=False,
        )
        assert "sk-secret" not in repr(answer) and "sk-secret" not in repr(client)
    (request,) = seen
    assert request.url.path == "/v1/messages"
    assert request.headers["authorization"] == "Bearer sk-secret"
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert json.loads(request.content) == {
        "model": "GLM-5.1",
        "messages": HI,
        "max_tokens": 16,
        "system": [{"type": "text", "text": "Be brief."}],
        "stop_sequences": ["END"],
        "top_k": 5,
        "thinking": {"type": "disabled"},
    }
    assert (answer.text, answer.stop_reason, answer.usage.input_tokens) == ("ok", "end_turn", 3)


@pytest.mark.parametrize(
    ("kwargs", "param", "message"),
    [
        ({"max_tokens": 0}, "max_tokens", "max_tokens must be an integer >= 1, not 0"),
        (
            {"max_tokens": 4, "temperature": 1.5},
            "temperature",
            "temperature must be in [0, 1], not 1.5",
        ),
        ({"max_tokens": 4, "top_p": 0}, "top_p", "top_p must be in (0, 1], not 0"),
        (
            {"max_tokens": 4, "stop_sequences": "END"},
            "stop_sequences",
            "stop_sequences must be a list of non-empty strings",
        ),
        (
            {"max_tokens": 4, "thinking": True},
            "thinking",
            'thinking must be False, {"type": "disabled"} or {"type": "enabled", "budget_tokens": N}, not True',
        ),
    ],
)
def test_local_refusals(kwargs: dict[str, Any], param: str, message: str) -> None:
    with (
        WaferClient(
            base_url="https://example.test/v1",
            api_key="k",
            transport=httpx.MockTransport(lambda r: httpx.Response(500)),
        ) as client,
        pytest.raises(BadRequest) as info,
    ):
        client.messages("GLM-5.1", HI, **kwargs)
    assert (str(info.value), info.value.param) == (message, param)


def test_unknown_keyword_is_a_type_error() -> None:
    with (
        WaferClient(base_url="https://example.test/v1", api_key="k") as client,
        pytest.raises(TypeError, match=r"messages\(\) got an unexpected keyword argument 'stop'"),
    ):
        client.messages("GLM-5.1", HI, max_tokens=4, stop=["x"])  # type: ignore[call-arg]


def test_a_reasoning_effort_typo_sends_nothing() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    with (
        WaferClient(
            base_url="https://example.test/v1", api_key="k", transport=httpx.MockTransport(handler)
        ) as client,
        pytest.raises(BadRequest) as info,
    ):
        client.chat("GLM-5.1", HI, reasoning_effort="extreme")
    assert info.value.param == "reasoning_effort"
    assert sent == []  # not even the /v1/models fetch the reasoning check would make
