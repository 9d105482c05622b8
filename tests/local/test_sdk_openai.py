"""The official ``openai`` SDK against the embedded server: a client nobody here wrote."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from wafer_grammar.local.pytest_fixtures import LocalServerHandle

openai = pytest.importorskip("openai", reason="pip install 'wafer-grammar[test]' for the SDK")

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "maxLength": 20},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The local time in a timezone",
        "parameters": {
            "type": "object",
            "properties": {"zone": {"type": "string", "enum": ["UTC", "CET"]}},
            "required": ["zone"],
            "additionalProperties": False,
        },
    },
}
SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in (WEATHER, TIME)}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture
def client(local_server: LocalServerHandle) -> Iterator[Any]:
    with openai.OpenAI(
        base_url=local_server.base_url, api_key=local_server.api_key, max_retries=0
    ) as sdk:
        yield sdk


def check_call(call: Any) -> dict[str, Any]:
    """A returned call: a known function, arguments valid against its schema."""
    assert call.type == "function"
    assert call.id.startswith("call_")
    arguments = json.loads(call.function.arguments)
    jsonschema.validate(arguments, SCHEMAS[call.function.name])
    return dict(arguments)


def test_models_list_with_wafer_fields(client: Any, local_server: LocalServerHandle) -> None:
    (card,) = client.models.list().data
    assert (card.id, card.object) == (local_server.model, "model")
    extra = card.model_extra
    assert extra["max_model_len"] == extra["wafer"]["context_length"] == 8192
    assert extra["zdr_supported"] is True
    wafer = extra["wafer"]
    assert wafer["display_name"] == local_server.model
    assert wafer["tier"] == "local"
    assert isinstance(wafer["description"], str) and wafer["description"]
    caps = wafer["capabilities"]
    assert (caps["vision"], caps["tools"], caps["reasoning"]) == (False, True, False)
    assert set(wafer["pricing"]) == {
        "input_cents_per_million",
        "output_cents_per_million",
        "cache_read_cents_per_million",
    }


def test_completions_with_token_ids_and_ebnf(client: Any, local_server: LocalServerHandle) -> None:
    tokenizer = local_server.server.engine.tokenizer
    prompt = tokenizer.encode_chat([{"role": "user", "content": "Is water wet?"}]).ids
    answer = client.completions.create(
        model=local_server.model,
        prompt=prompt,
        max_tokens=4,
        temperature=0,
        extra_body={"ebnf": 'root ::= "yes" | "no"'},
    )
    (choice,) = answer.choices
    assert choice.text in ("yes", "no")
    assert choice.finish_reason == "stop"
    assert answer.usage.prompt_tokens == len(prompt)


def test_chat_whole_and_streamed_agree(client: Any, local_server: LocalServerHandle) -> None:
    kwargs: dict[str, Any] = {
        "model": local_server.model,
        "messages": [{"role": "user", "content": "Count to three."}],
        "max_tokens": 6,
        "temperature": 0,
    }
    whole = client.chat.completions.create(**kwargs)
    assert whole.choices[0].finish_reason == "length"
    assert whole.usage.completion_tokens == 6
    chunks = list(client.chat.completions.create(**kwargs, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    # Wafer's forced stream_options: usage on every chunk, and a final usage-only chunk.
    assert all(c.usage is not None for c in chunks)
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == 6
    counts = [c.usage.completion_tokens for c in chunks]
    assert counts == sorted(counts)


def test_stream_options_cannot_turn_usage_off(client: Any, local_server: LocalServerHandle) -> None:
    chunks = list(
        client.chat.completions.create(
            model=local_server.model,
            messages=[{"role": "user", "content": "Hi"}],
            max_tokens=3,
            temperature=0,
            stream=True,
            stream_options={"include_usage": False},
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 3


@pytest.mark.parametrize(
    "tool_choice", ["required", {"type": "function", "function": {"name": "get_weather"}}]
)
def test_chat_with_tools_returns_a_valid_call(
    client: Any, local_server: LocalServerHandle, tool_choice: Any
) -> None:
    answer = client.chat.completions.create(
        model=local_server.model,
        messages=ASK,
        tools=[WEATHER, TIME],
        tool_choice=tool_choice,
        parallel_tool_calls=False,
        max_tokens=60,
        temperature=0,
    )
    (choice,) = answer.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    if isinstance(tool_choice, dict):
        assert call.function.name == "get_weather"
    check_call(call)


def test_tools_with_sampling_still_validate(client: Any, local_server: LocalServerHandle) -> None:
    answer = client.chat.completions.create(
        model=local_server.model,
        messages=ASK,
        tools=[WEATHER, TIME],
        tool_choice="required",
        parallel_tool_calls=False,
        max_tokens=80,  # the schemas bound every argument: a call fits
        temperature=1.0,
        seed=3,
        n=2,
    )
    for choice in answer.choices:
        assert choice.finish_reason == "tool_calls"
        (call,) = choice.message.tool_calls
        check_call(call)


def test_auto_lets_the_model_choose(client: Any, local_server: LocalServerHandle) -> None:
    answer = client.chat.completions.create(
        model=local_server.model,
        messages=ASK,
        tools=[WEATHER],
        max_tokens=12,
        temperature=0,
    )
    (choice,) = answer.choices
    if choice.message.tool_calls:
        assert choice.finish_reason == "tool_calls"
        for call in choice.message.tool_calls:
            check_call(call)
    elif choice.finish_reason == "stop":  # a whole text answer is never a call in disguise
        assert not choice.message.content.startswith("<tool_call>")


def test_streamed_tool_call_arrives_whole_in_one_chunk(
    client: Any, local_server: LocalServerHandle
) -> None:
    chunks = list(
        client.chat.completions.create(
            model=local_server.model,
            messages=ASK,
            tools=[WEATHER],
            tool_choice="required",
            parallel_tool_calls=False,
            max_tokens=60,
            temperature=0,
            stream=True,
        )
    )
    with_calls = [c for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert len(with_calls) == 1
    (chunk,) = with_calls
    assert chunk.choices[0].finish_reason == "tool_calls"
    (call,) = chunk.choices[0].delta.tool_calls
    check_call(call)
    assert chunks[-1].usage is not None


def test_multi_turn_tool_conversation(client: Any, local_server: LocalServerHandle) -> None:
    first = client.chat.completions.create(
        model=local_server.model,
        messages=ASK,
        tools=[WEATHER],
        tool_choice="required",
        parallel_tool_calls=False,
        max_tokens=60,
        temperature=0,
    )
    (call,) = first.choices[0].message.tool_calls
    check_call(call)
    history = [
        *ASK,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": "18 degrees and sunny"},
    ]
    second = client.chat.completions.create(
        model=local_server.model,
        messages=history,
        tools=[WEATHER],
        tool_choice="none",
        max_tokens=12,
        temperature=0,
    )
    assert second.choices[0].message.content
    assert second.choices[0].message.tool_calls is None
    # The result really is in the prompt the model saw: it costs tokens.
    assert second.usage.prompt_tokens > first.usage.prompt_tokens


def test_content_as_a_list_of_parts(client: Any, local_server: LocalServerHandle) -> None:
    kwargs: dict[str, Any] = {"model": local_server.model, "max_tokens": 5, "temperature": 0}
    parts = client.chat.completions.create(
        messages=[
            {
                "role": "user",
                "content": [{"type": "text", "text": "Say "}, {"type": "text", "text": "yes."}],
            }
        ],
        **kwargs,
    )
    plain = client.chat.completions.create(
        messages=[{"role": "user", "content": "Say yes."}], **kwargs
    )
    assert parts.choices[0].message.content == plain.choices[0].message.content


def test_image_parts_are_refused_by_name(client: Any, local_server: LocalServerHandle) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=local_server.model,
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "data:,"}}],
                }
            ],
            max_tokens=2,
        )
    assert info.value.param == "messages"
    assert "vision is false" in info.value.message


def test_errors_map_to_the_sdk_exceptions(client: Any, local_server: LocalServerHandle) -> None:
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="gpt-9", messages=[{"role": "user", "content": "hi"}], max_tokens=1
        )
    bad = openai.OpenAI(base_url=local_server.base_url, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError), bad:
        bad.models.list()
