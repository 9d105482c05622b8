"""Request validation: every refusal by exact text; nothing unknown is ignored."""

from __future__ import annotations

from typing import Any

import pytest

from wafer_grammar.errors import InvalidRequest
from wafer_grammar.local.protocol import (
    JSON_OBJECT_EBNF,
    parse_chat,
    parse_completion,
    parse_json,
)

M = "SmolLM2-135M-Instruct"
CHAT = [{"role": "user", "content": "hi"}]

COMPLETION_BAD: list[tuple[dict[str, Any], str | None, str]] = [
    ({"prompt": [1]}, "model", "model is required (a model ID from GET /v1/models)"),
    ({"model": M}, "prompt", "prompt is required"),
    ({"model": M, "prompt": 5}, "prompt", "prompt must be a string or a list of token ids"),
    (
        {"model": M, "prompt": [[1, 2], [3]]},
        "prompt",
        "prompt must be one prompt (a string or a list of token ids); send batched prompts as separate requests",
    ),
    (
        {"model": M, "prompt": [1], "echo": True},
        "echo",
        "unsupported parameter 'echo': the local engine does not implement it (Wafer refuses what it would not honour)",
    ),
    (
        {"model": M, "prompt": [1], "logit_bias": {"x": 2}},
        "logit_bias",
        "logit_bias keys must be token ids, not 'x'",
    ),
    (
        {"model": M, "prompt": [1], "logit_bias": {"1": 200}},
        "logit_bias",
        "logit_bias['1'] must be between -100 and 100, not 200",
    ),
    (
        {"model": M, "prompt": [1], "logit_bias": {"1": "up"}},
        "logit_bias",
        "logit_bias['1'] must be a number, not 'up'",
    ),
    (
        {"model": M, "prompt": [1], "min_p": 1.5},
        "min_p",
        "min_p must be between 0 and 1, not 1.5",
    ),
    (
        {"model": M, "prompt": [1], "frequency_penalty": 3},
        "frequency_penalty",
        "frequency_penalty must be between -2 and 2, not 3",
    ),
    (
        {"model": M, "prompt": [1], "presence_penalty": -2.5},
        "presence_penalty",
        "presence_penalty must be between -2 and 2, not -2.5",
    ),
    (
        {"model": M, "prompt": [1], "repetition_penalty": 0},
        "repetition_penalty",
        "repetition_penalty must be in (0, 2], not 0",
    ),
    ({"model": M, "prompt": [1], "ebnf": 3}, "ebnf", "ebnf must be a string (the grammar's text)"),
    ({"model": M, "prompt": [1], "stream": "yes"}, "stream", "stream must be true or false"),
    (
        {"model": M, "prompt": [1], "stream_options": {"include_usage": True}},
        "stream_options",
        "stream_options needs stream: true",
    ),
    (
        {"model": M, "prompt": [1], "stream": True, "stream_options": {"x": 1}},
        "stream_options",
        'stream_options takes only {"include_usage": true|false, "continuous_usage_stats": true|false}',
    ),
    (
        {
            "model": M,
            "prompt": [1],
            "stream": True,
            "stream_options": {"continuous_usage_stats": "yes"},
        },
        "stream_options",
        "stream_options.continuous_usage_stats must be true or false",
    ),
    (
        {"model": M, "prompt": [1], "stream": True, "stream_options": {"include_usage": 1}},
        "stream_options",
        "stream_options.include_usage must be true or false",
    ),
    (
        {"model": M, "prompt": [1], "logprobs": True},
        "logprobs",
        "logprobs must be an integer, not True",
    ),
    (
        {"model": M, "prompt": [1], "max_tokens": -1},
        "max_tokens",
        "max_tokens must be at least 1, not -1",
    ),
    (
        {"model": M, "prompt": [1], "temperature": 3},
        "temperature",
        "temperature must be between 0 and 2, not 3",
    ),
]

CHAT_BAD: list[tuple[dict[str, Any], str | None, str]] = [
    ({"model": M}, "messages", "messages must be a non-empty list of messages"),
    ({"model": M, "messages": ["hi"]}, "messages", "messages[0] must be an object"),
    (
        {"model": M, "messages": CHAT, "max_tokens": 2, "max_completion_tokens": 2},
        "max_completion_tokens",
        "give max_tokens or max_completion_tokens, not both",
    ),
    ({"model": M, "messages": CHAT, "logprobs": 2}, "logprobs", "logprobs must be true or false"),
    (
        {"model": M, "messages": CHAT, "top_logprobs": 2},
        "top_logprobs",
        "top_logprobs needs logprobs: true",
    ),
    (
        {"model": M, "messages": CHAT, "chat_template_kwargs": []},
        "chat_template_kwargs",
        "chat_template_kwargs must be an object",
    ),
    (
        {"model": M, "messages": CHAT, "chat_template_kwargs": {"enable_thinking": "no"}},
        "chat_template_kwargs",
        "chat_template_kwargs.enable_thinking must be true or false",
    ),
    (
        {"model": M, "messages": CHAT, "response_format": "json"},
        "response_format",
        'response_format must be an object with a "type"',
    ),
    (
        {"model": M, "messages": CHAT, "response_format": {"type": "yaml"}},
        "response_format",
        "response_format type 'yaml' is not supported (text, json_object, json_schema)",
    ),
    (
        {"model": M, "messages": CHAT, "response_format": {"type": "json_schema"}},
        "response_format",
        'response_format json_schema needs {"json_schema": {"schema": {...}}}',
    ),
    (
        {
            "model": M,
            "messages": CHAT,
            "ebnf": 'root ::= "a"',
            "response_format": {"type": "json_object"},
        },
        "response_format",
        "give ebnf or a response_format grammar, not both",
    ),
    (
        {"model": M, "messages": CHAT, "chat_template_kwargs": {"x": 1}},
        "chat_template_kwargs",
        "chat_template_kwargs.x is not supported: only the reasoning switches enable_thinking and thinking are (chat_template_kwargs is not a Wafer field; use the request table's reasoning controls)",
    ),
    (
        {"model": M, "messages": CHAT, "thinking": {"type": "on"}},
        "thinking",
        'thinking must be {"type": "enabled"} or {"type": "disabled"} (optionally with "keep": "all"), or true/false',
    ),
    (
        {"model": M, "messages": CHAT, "thinking": "yes"},
        "thinking",
        'thinking must be {"type": "enabled"}, {"type": "disabled"}, true or false',
    ),
    (
        {"model": M, "messages": CHAT, "thinking": {"type": "disabled", "keep": "all"}},
        "thinking",
        'thinking keep must be "all", with type "enabled"',
    ),
    (
        {"model": M, "messages": CHAT, "reasoning_effort": "extreme"},
        "reasoning_effort",
        "reasoning_effort must be one of none, low, medium, high, max, not 'extreme'",
    ),
    (
        {"model": M, "messages": CHAT, "enable_thinking": "no"},
        "enable_thinking",
        "enable_thinking must be true or false",
    ),
    (
        {"model": M, "messages": CHAT, "preserve_thinking": 1},
        "preserve_thinking",
        "preserve_thinking must be true or false",
    ),
    (
        {"model": M, "messages": CHAT, "tools": {}},
        "tools",
        "tools must be a list of function definitions",
    ),
    (
        {
            "model": M,
            "messages": CHAT,
            "tools": [{"type": "function", "function": {"name": "a b"}}],
        },
        "tools",
        "tools[0].function.name must be 1 to 64 letters, digits, _ or -, not 'a b'",
    ),
    (
        {"model": M, "messages": CHAT, "tools": [{"type": "code_interpreter"}]},
        "tools",
        'tools[0] must be {"type": "function", "function": {...}}',
    ),
    (
        {"model": M, "messages": CHAT, "tool_choice": "auto"},
        "tool_choice",
        "tool_choice needs tools: give the functions the model may call",
    ),
    (
        {
            "model": M,
            "messages": CHAT,
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "tool_choice": {"type": "function", "function": {"name": "g"}},
        },
        "tool_choice",
        "tool_choice names the function 'g', which is not in tools",
    ),
    (
        {
            "model": M,
            "messages": CHAT,
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "tool_choice": "always",
        },
        "tool_choice",
        'tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}, not \'always\'',
    ),
    (
        {
            "model": M,
            "messages": CHAT,
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "tool_choice": "required",
            "response_format": {"type": "json_object"},
        },
        "tool_choice",
        "tool_choice asks for a tool call, which leaves no room for a response_format (or ebnf) answer; use tool_choice auto",
    ),
    (
        {"model": M, "messages": CHAT, "parallel_tool_calls": "yes"},
        "parallel_tool_calls",
        "parallel_tool_calls must be true or false, not 'yes'",
    ),
    (
        {"model": M, "messages": CHAT, "n_choices": 2},
        "n_choices",
        "unsupported parameter 'n_choices': the local engine does not implement it (Wafer refuses what it would not honour)",
    ),
]


@pytest.mark.parametrize(("doc", "param", "message"), COMPLETION_BAD)
def test_completion_refusals(doc: dict[str, Any], param: str | None, message: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_completion(doc)
    assert (str(info.value), info.value.param) == (message, param)


@pytest.mark.parametrize(("doc", "param", "message"), CHAT_BAD)
def test_chat_refusals(doc: dict[str, Any], param: str | None, message: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_chat(doc)
    assert (str(info.value), info.value.param) == (message, param)


def test_unsupported_parameter_has_its_code() -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_completion({"model": M, "prompt": [1], "best_of": 2})
    assert info.value.code == "unsupported_parameter"


def test_null_counts_as_absent() -> None:
    req = parse_completion({"model": M, "prompt": [1], "echo": None, "temperature": None})
    assert req.sampling == {}


def test_completion_defaults_and_fields() -> None:
    req = parse_completion(
        {
            "model": M,
            "prompt": "hi",
            "logprobs": 3,
            "stop": "x",
            "seed": 7,
            "stream": True,
            "stream_options": {"include_usage": False},
        }
    )
    assert (req.logprobs, req.top_logprobs, req.stream, req.include_usage) == (True, 3, True, False)
    params = req.params(prompt_tokens=2, max_model_len=100, max_n=8)
    assert (params.max_tokens, params.stop, params.seed) == (16, ("x",), 7)


def test_chat_defaults_max_tokens_to_the_rest_of_the_context() -> None:
    req = parse_chat({"model": M, "messages": CHAT})
    assert req.params(prompt_tokens=30, max_model_len=100, max_n=8).max_tokens == 70
    assert req.include_usage is True


@pytest.mark.parametrize(
    ("fields", "on", "field"),
    [
        ({"thinking": {"type": "disabled"}}, False, None),
        ({"thinking": False}, False, None),
        ({"reasoning_effort": "none"}, False, None),
        ({"enable_thinking": False}, False, None),
        ({"preserve_thinking": False}, False, None),
        ({"chat_template_kwargs": {"enable_thinking": False}}, False, None),
        ({"thinking": {"type": "enabled"}}, True, "thinking"),
        ({"thinking": {"type": "enabled", "keep": "all"}}, True, "thinking"),
        ({"reasoning_effort": "high"}, True, "reasoning_effort"),
        ({"enable_thinking": True}, True, "enable_thinking"),
        ({"preserve_thinking": True}, True, "preserve_thinking"),
        ({"chat_template_kwargs": {"thinking": True}}, True, "chat_template_kwargs"),
    ],
)
def test_reasoning_controls(fields: dict[str, Any], on: bool, field: str | None) -> None:
    req = parse_chat({"model": M, "messages": CHAT, **fields})
    assert (req.thinking, req.thinking_field) == (on, field)


def test_chat_streams_always_carry_usage() -> None:
    req = parse_chat(
        {
            "model": M,
            "messages": CHAT,
            "stream": True,
            "stream_options": {"include_usage": False, "continuous_usage_stats": False},
        }
    )
    assert (req.include_usage, req.continuous_usage) == (True, True)
    req = parse_completion(
        {
            "model": M,
            "prompt": [1],
            "stream": True,
            "stream_options": {"continuous_usage_stats": True},
        }
    )
    assert (req.include_usage, req.continuous_usage) == (True, True)


def test_response_format() -> None:
    assert (
        parse_chat({"model": M, "messages": CHAT, "response_format": {"type": "json_object"}}).ebnf
        == JSON_OBJECT_EBNF
    )
    assert (
        parse_chat({"model": M, "messages": CHAT, "response_format": {"type": "text"}}).ebnf is None
    )
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    with pytest.raises(InvalidRequest) as info:
        parse_chat({"model": M, "messages": CHAT, "response_format": schema})
    assert str(info.value) == (
        "response_format json_schema needs the JSON Schema converter (Grammar.from_json_schema, "
        "wafer_grammar.convert), which this installation lacks; send the grammar as ebnf instead"
    )
    req = parse_chat(
        {"model": M, "messages": CHAT, "response_format": schema},
        json_schema_grammar=lambda s: 'root ::= "{}"',
    )
    assert req.ebnf == 'root ::= "{}"'

    def refuse(schema: dict[str, Any]) -> str:
        raise ValueError('keyword "not" is not supported')

    with pytest.raises(InvalidRequest) as info:
        parse_chat(
            {"model": M, "messages": CHAT, "response_format": schema}, json_schema_grammar=refuse
        )
    assert str(info.value) == 'response_format json_schema: keyword "not" is not supported'


def test_json_object_grammar_is_valid_and_means_objects() -> None:
    from wafer_grammar import Grammar

    g = Grammar.from_ebnf(JSON_OBJECT_EBNF)
    assert g.accepts('{"a": [1, 2.5e3, true, null], "b": {"c": "\\u00e9"}}')
    assert g.accepts("{}")
    assert not g.accepts("[1]")
    assert not g.accepts('{"a": 1}' + " " * 20)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"{",
            "the request body is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (b"[1]", "the request body must be a JSON object"),
    ],
)
def test_parse_json(body: bytes, message: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_json(body)
    assert str(info.value) == message
