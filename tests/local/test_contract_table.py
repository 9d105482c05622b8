"""Wafer's chat request table, row by row, against the embedded server (through the openai SDK).

Each row is honoured (the request succeeds and the field has its effect where it
can be seen) or refused with a 400 whose ``param`` names the field, never
silently ignored. Most rows have both: a value that is honoured, and one the
server must refuse by name (for reasoning, turning it on: this model does not
reason).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest

from wafer_grammar.local.protocol import CHAT_FIELDS
from wafer_grammar.local.pytest_fixtures import LocalServerHandle

openai = pytest.importorskip("openai", reason="pip install 'wafer-grammar[test]' for the SDK")

# The rows of "Chat Request Body" in Wafer's Serverless API docs, in the docs' order.
TABLE = (
    "model",
    "messages",
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "frequency_penalty",
    "presence_penalty",
    "repetition_penalty",
    "stop",
    "stream",
    "tools",
    "tool_choice",
    "response_format",
    "logprobs",
    "top_logprobs",
    "thinking",
    "reasoning_effort",
    "enable_thinking",
    "preserve_thinking",
    "seed",
    "n",
    "logit_bias",
    "parallel_tool_calls",
    "stream_options",
)
# Fields the openai SDK has no keyword for go through extra_body, as a user would send them.
EXTRA = {
    "top_k",
    "min_p",
    "repetition_penalty",
    "thinking",
    "enable_thinking",
    "preserve_thinking",
}
DOGS = [{"role": "user", "content": "Write the word dog ten times, separated by spaces."}]
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


class Chat:
    """``chat(**fields)``: one greedy chat request, table fields given by their wire names."""

    def __init__(self, sdk: Any, server: LocalServerHandle) -> None:
        self.sdk, self.server = sdk, server

    def __call__(self, **fields: Any) -> Any:
        body: dict[str, Any] = {
            "model": self.server.model,
            "messages": DOGS,
            "max_tokens": 4,
            "temperature": 0,
        }
        body.update(fields)
        extra = {k: body.pop(k) for k in list(body) if k in EXTRA}
        return self.sdk.chat.completions.create(**body, extra_body=extra or None)


def text(answer: Any) -> str:
    return str(answer.choices[0].message.content)


def honour_model(chat: Chat) -> None:
    assert chat().model == chat.server.model


def honour_messages(chat: Chat) -> None:
    one = chat(messages=[{"role": "user", "content": "Say yes."}])
    assert text(one) != text(chat())


def honour_max_tokens(chat: Chat) -> None:
    answer = chat(max_tokens=3)
    assert (answer.usage.completion_tokens, answer.choices[0].finish_reason) == (3, "length")


def honour_temperature(chat: Chat) -> None:
    assert text(chat(temperature=0)) == text(chat(temperature=0))


def same_as_greedy(**fields: Any) -> Callable[[Chat], None]:
    """A cut that leaves only the most likely token: sampling at temperature 1 is greedy."""

    def check(chat: Chat) -> None:
        assert text(chat(temperature=1.0, max_tokens=6, **fields)) == text(chat(max_tokens=6))

    return check


def changes_greedy(**fields: Any) -> Callable[[Chat], None]:
    """A penalty on repeats changes what greedy decoding repeats."""

    def check(chat: Chat) -> None:
        assert text(chat(max_tokens=10, **fields)) != text(chat(max_tokens=10))

    return check


def honour_stop(chat: Chat) -> None:
    whole = text(chat(max_tokens=8))
    assert "\n" in whole
    cut = chat(max_tokens=8, stop=["\n"])
    assert text(cut) == whole.split("\n")[0]
    assert cut.choices[0].finish_reason == "stop"


def honour_stream(chat: Chat) -> None:
    chunks = list(chat(stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text(chat())


def honour_tools(chat: Chat) -> None:
    answer = chat(tools=[TOOL], tool_choice="required", parallel_tool_calls=False, max_tokens=60)
    assert answer.choices[0].finish_reason == "tool_calls"
    for call in answer.choices[0].message.tool_calls:
        jsonschema.validate(json.loads(call.function.arguments), TOOL["function"]["parameters"])


def honour_tool_choice(chat: Chat) -> None:
    answer = chat(tools=[TOOL], tool_choice="none")
    assert answer.choices[0].message.tool_calls is None
    assert answer.choices[0].finish_reason == "length"


def honour_response_format(chat: Chat) -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"enum": ["x"]}},
        "required": ["a"],
        "additionalProperties": False,
    }
    answer = chat(
        max_tokens=12,
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
    )
    jsonschema.validate(json.loads(text(answer)), schema)


def honour_logprobs(chat: Chat) -> None:
    answer = chat(logprobs=True)
    assert len(answer.choices[0].logprobs.content) == answer.usage.completion_tokens


def honour_top_logprobs(chat: Chat) -> None:
    entries = chat(logprobs=True, top_logprobs=3).choices[0].logprobs.content
    assert all(len(e.top_logprobs) == 3 for e in entries)
    assert all(e.top_logprobs[0].logprob >= e.top_logprobs[-1].logprob for e in entries)


def no_op(**fields: Any) -> Callable[[Chat], None]:
    """Reasoning turned off: what it already is, so the answer is the same."""

    def check(chat: Chat) -> None:
        assert text(chat(**fields)) == text(chat())

    return check


def honour_seed(chat: Chat) -> None:
    first, second = (text(chat(temperature=1.0, seed=11, max_tokens=6)) for _ in range(2))
    assert first == second


def honour_n(chat: Chat) -> None:
    answer = chat(n=2, temperature=1.0, seed=5)
    assert [c.index for c in answer.choices] == [0, 1]


def honour_logit_bias(chat: Chat) -> None:
    tokenizer = chat.server.server.engine.tokenizer
    (token,) = tokenizer.encode(" cat")
    answer = chat(logit_bias={str(token): 100})
    assert text(answer).startswith(" cat")


def honour_parallel_tool_calls(chat: Chat) -> None:
    answer = chat(tools=[TOOL], tool_choice="required", parallel_tool_calls=False, max_tokens=60)
    assert answer.choices[0].finish_reason == "tool_calls"
    assert len(answer.choices[0].message.tool_calls) == 1


def honour_stream_options(chat: Chat) -> None:
    chunks = list(chat(stream=True, stream_options={"include_usage": False}))
    assert all(c.usage is not None for c in chunks)  # Wafer's forced values win
    assert chunks[-1].choices == []


@dataclass(frozen=True)
class Row:
    field: str
    honour: Callable[[Chat], None]
    refused: dict[str, Any] | None
    """Fields the server must refuse, naming ``field``."""


ROWS = [
    Row("model", honour_model, None),  # an unknown model is a 404 naming it: see below
    Row("messages", honour_messages, {"messages": [{"role": "robot", "content": "hi"}]}),
    Row("max_tokens", honour_max_tokens, {"max_tokens": 0}),
    Row("temperature", honour_temperature, {"temperature": 7}),
    Row("top_p", same_as_greedy(top_p=0.01), {"top_p": 0}),
    Row("top_k", same_as_greedy(top_k=1), {"top_k": -5}),
    Row("min_p", same_as_greedy(min_p=1.0), {"min_p": 2}),
    Row("frequency_penalty", changes_greedy(frequency_penalty=2.0), {"frequency_penalty": 9}),
    Row("presence_penalty", changes_greedy(presence_penalty=2.0), {"presence_penalty": -9}),
    Row("repetition_penalty", changes_greedy(repetition_penalty=2.0), {"repetition_penalty": 0}),
    Row("stop", honour_stop, {"stop": ["a", "b", "c", "d", "e"]}),
    Row(
        "stream", honour_stream, None
    ),  # the SDK decides how to read by it: a bad one is unsendable
    Row("tools", honour_tools, {"tools": [{"type": "retrieval"}]}),
    Row("tool_choice", honour_tool_choice, {"tools": [TOOL], "tool_choice": "sometimes"}),
    Row("response_format", honour_response_format, {"response_format": {"type": "yaml"}}),
    Row("logprobs", honour_logprobs, {"logprobs": "yes"}),
    Row("top_logprobs", honour_top_logprobs, {"logprobs": True, "top_logprobs": 21}),
    Row("thinking", no_op(thinking={"type": "disabled"}), {"thinking": {"type": "enabled"}}),
    Row("reasoning_effort", no_op(reasoning_effort="none"), {"reasoning_effort": "high"}),
    Row("enable_thinking", no_op(enable_thinking=False), {"enable_thinking": True}),
    Row("preserve_thinking", no_op(preserve_thinking=False), {"preserve_thinking": True}),
    Row("seed", honour_seed, {"seed": "lucky"}),
    Row("n", honour_n, {"n": 0}),
    Row("logit_bias", honour_logit_bias, {"logit_bias": {"cat": 5}}),
    Row("parallel_tool_calls", honour_parallel_tool_calls, {"parallel_tool_calls": "maybe"}),
    Row("stream_options", honour_stream_options, {"stream": True, "stream_options": {"x": 1}}),
]


@pytest.fixture
def chat(local_server: LocalServerHandle) -> Iterator[Chat]:
    with openai.OpenAI(
        base_url=local_server.base_url, api_key=local_server.api_key, max_retries=0
    ) as sdk:
        yield Chat(sdk, local_server)


def test_every_row_of_the_table_has_a_case() -> None:
    assert [row.field for row in ROWS] == list(TABLE)
    assert set(TABLE) <= CHAT_FIELDS


@pytest.mark.parametrize("row", ROWS, ids=[row.field for row in ROWS])
def test_row_is_honoured(chat: Chat, row: Row) -> None:
    row.honour(chat)


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r.refused], ids=[r.field for r in ROWS if r.refused]
)
def test_row_is_refused_by_name(chat: Chat, row: Row) -> None:
    assert row.refused is not None
    with pytest.raises(openai.BadRequestError) as info:
        chat(**row.refused)
    assert info.value.status_code == 400
    assert info.value.param == row.field
    assert info.value.message  # says why


def test_unknown_model_is_a_404_naming_it(chat: Chat) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        chat(model="gpt-9")
    assert info.value.param == "model"


def test_stream_that_is_not_a_bool_is_refused(local_server: LocalServerHandle) -> None:
    from local_support import call, error_of

    reply = call(
        local_server.base_url,
        "POST",
        "/v1/chat/completions",
        {"model": local_server.model, "messages": DOGS, "stream": "yes"},
        key=local_server.api_key,
    )
    assert (reply.status, error_of(reply)["param"]) == (400, "stream")


@pytest.mark.parametrize(
    ("value", "status"), [("required", 200), ("REQUIRED", 200), ("banana", 400), ("", 400)]
)
def test_wafer_zdr_header(local_server: LocalServerHandle, value: str, status: int) -> None:
    from local_support import call, error_of

    reply = call(
        local_server.base_url,
        "GET",
        "/v1/models",
        key=local_server.api_key,
        headers={"Wafer-ZDR": value},
    )
    assert reply.status == status
    if status == 400:
        err = error_of(reply)
        assert err["param"] == "Wafer-ZDR"
        assert err["message"] == (
            f"Wafer-ZDR must be 'required' (the only value Wafer defines), not {value!r}"
        )
