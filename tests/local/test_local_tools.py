"""Tools without the model: the grammar, the rendering of tool turns, the stream buffer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wafer_grammar import Grammar
from wafer_grammar.errors import InvalidRequest
from wafer_grammar.local.chat_messages import for_template
from wafer_grammar.local.tools import CallBuffer, parse_calls, parse_tools

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}},
    "required": ["city"],
    "additionalProperties": False,
}
TOOLS = [
    {"type": "function", "function": {"name": "weather", "parameters": SCHEMA}},
    {"type": "function", "function": {"name": "now"}},
]
CALL = '<tool_call>\n{"name": "weather", "arguments": {"city":"Paris"}}\n</tool_call>'
NOW = '<tool_call>\n{"name": "now", "arguments": {}}\n</tool_call>'


def grammar(**fields: Any) -> Grammar:
    plan = parse_tools({"tools": TOOLS, **fields})
    assert plan is not None
    return Grammar.from_ebnf(plan.grammar(fields.pop("text", None), Grammar.from_json_schema))


def test_required_allows_only_valid_calls() -> None:
    g = grammar(tool_choice="required")
    assert g.accepts(CALL) and g.accepts(NOW) and g.accepts(CALL + "\n" + NOW)
    assert not g.accepts(
        '<tool_call>\n{"name": "weather", "arguments": {"city":"Oslo"}}\n</tool_call>'
    )
    assert not g.accepts("Sunny.")


def test_parallel_false_allows_one_call() -> None:
    g = grammar(tool_choice="required", parallel_tool_calls=False)
    assert g.accepts(CALL)
    assert not g.accepts(CALL + "\n" + NOW)


def test_a_named_function_is_the_only_one() -> None:
    g = grammar(tool_choice={"type": "function", "function": {"name": "now"}})
    assert g.accepts(NOW) and not g.accepts(CALL)


def test_auto_allows_text_or_calls_but_no_call_lookalike() -> None:
    g = grammar()
    assert g.accepts(CALL) and g.accepts("It is sunny.") and g.accepts("<b>hi</b>")
    assert g.accepts("")
    assert not g.accepts("<tool_call>oops")


def test_auto_with_a_response_format_keeps_it_for_text() -> None:
    plan = parse_tools({"tools": TOOLS})
    assert plan is not None
    g = Grammar.from_ebnf(plan.grammar('root ::= "yes" | "no"', Grammar.from_json_schema))
    assert g.accepts("yes") and g.accepts(CALL) and not g.accepts("maybe")


def test_an_unenforceable_schema_is_a_400_naming_tools() -> None:
    plan = parse_tools(
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": {"not": {}}}}]}
    )
    assert plan is not None
    with pytest.raises(InvalidRequest) as info:
        plan.grammar(None, Grammar.from_json_schema)
    assert info.value.param == "tools"
    assert str(info.value).startswith("tools: the parameters of 'f' cannot be enforced: ")


def test_parse_calls() -> None:
    calls = parse_calls(CALL + "\n" + NOW)
    assert calls is not None
    assert [c["function"]["name"] for c in calls] == ["weather", "now"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris"}
    assert len({c["id"] for c in calls}) == 2
    assert parse_calls("Sunny.") is None
    assert parse_calls(CALL[:-3]) is None  # cut short: not a call


def test_call_buffer_holds_what_may_be_a_call() -> None:
    text = CallBuffer(must_call=False)
    assert [text.feed(p) for p in ("<", "b", ">x")] == ["", "<b", ">x"]
    assert text.state == "text"
    call = CallBuffer(must_call=False)
    assert [call.feed(p) for p in ("<tool", "_call>", "\n{")] == ["", "", ""]
    assert (call.state, call.held) == ("calls", "<tool_call>\n{")


def test_tool_turns_render_readably() -> None:
    rendered = for_template(
        [
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Weather "},
                    {"type": "text", "text": "in Paris?"},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
        ],
        tools_text="TOOLS",
    )
    assert rendered == [
        {"role": "system", "content": "Be brief.\n\nTOOLS"},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": CALL.replace('{"city":"Paris"}', '{"city": "Paris"}')},
        {
            "role": "tool",
            "content": '<tool_response>\n{"name": "weather", "content": "18C"}\n</tool_response>',
        },
    ]


def test_the_template_renders_a_tool_conversation() -> None:
    from wafer_grammar.tokenize.loading import load_tokenizer

    tokenizer = load_tokenizer("SmolLM2-135M-Instruct")
    plan = parse_tools({"tools": TOOLS})
    assert plan is not None
    messages = for_template(
        [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "now", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c", "content": "noon"},
        ],
        tools_text=plan.system_text(),
    )
    text = tokenizer.render_chat(messages)
    assert text.startswith("<|im_start|>system\nYou can call these functions")
    assert '"name": "weather"' in text
    assert "<|im_start|>assistant\n" + NOW + "<|im_end|>" in text
    assert '<|im_start|>tool\n<tool_response>\n{"name": "now", "content": "noon"}' in text
    assert text.endswith("<|im_start|>assistant\n")


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([{"role": "user", "content": None}], "messages[0].content is required for role 'user'"),
        (
            [{"role": "assistant", "content": None}],
            "messages[0] has neither content nor tool_calls",
        ),
        ([{"role": "tool", "content": "x"}], "messages[0] (a tool result) needs tool_call_id"),
        (
            [{"role": "user", "content": "x", "tool_calls": []}],
            "messages[0]: only assistant messages carry tool_calls",
        ),
        ([{"role": "user", "content": "x", "audio": 1}], "messages[0] has unknown fields: audio"),
        (
            [{"role": "user", "content": [{"type": "image_url"}]}],
            "messages[0].content[0] is of type 'image_url': this model takes text only (wafer.capabilities.vision is false)",
        ),
        (
            [{"role": "user", "content": 3}],
            "messages[0].content must be a string or a list of content parts",
        ),
        (
            [
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"type": "function", "function": {"name": "f", "arguments": "{"}}
                    ],
                }
            ],
            "messages[0].tool_calls[0].function.arguments is not valid JSON: '{'",
        ),
    ],
)
def test_bad_messages_are_400s_naming_messages(messages: list[Any], message: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        for_template(messages)
    assert (str(info.value), info.value.param) == (message, "messages")
