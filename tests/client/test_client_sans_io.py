"""The sans-I/O core: SSE, retry policy, error mapping, request building, config.

No server needed: these take bytes, statuses and values and return values.
"""

from __future__ import annotations

import json
import pickle
import random
import warnings

import pytest

from wafer_grammar.client import (
    ClientConfig,
    IgnoredParameterWarning,
    RetryPolicy,
    Sampling,
    Timeouts,
    parse,
    resolve_config,
)
from wafer_grammar.client.core import ClientCore, RequestSpec
from wafer_grammar.client.errmap import error_from_response, error_from_transport
from wafer_grammar.client.reasoning import ThinkSplitter, split_think
from wafer_grammar.client.request_body import response_format_body, warn_stripped
from wafer_grammar.client.retry import RetryState, parse_retry_after
from wafer_grammar.client.sse import SSEDecoder
from wafer_grammar.client.stream import ChatAssembler, CompletionAssembler
from wafer_grammar.client.types import ChatCompletion
from wafer_grammar.errors import (
    APIError,
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    ContextLengthExceeded,
    GrammarRejected,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestTimeout,
    ServerContextLengthExceeded,
    ServerError,
    ThinkingUnsupported,
)
from wafer_grammar.tokenize.provider import TokenizerCache

KEY = "wfr_secret_key_abcdef"


# -- SSE ---------------------------------------------------------------------------------


def test_sse_events_split_across_reads_and_line_ends() -> None:
    decoder = SSEDecoder()
    stream = b'data: {"a":1}\n\n: comment\r\ndata: x\r\ndata: y\r\n\r\ndata: [DONE]\n\n'
    events: list[str] = []
    for i in range(len(stream)):  # one byte at a time: worst case for a parser
        events += decoder.feed(stream[i : i + 1])
    events += decoder.close()
    assert events == ['{"a":1}', "x\ny", "[DONE]"]


def test_sse_utf8_split_and_unterminated_last_event() -> None:
    decoder = SSEDecoder()
    data = "data: héllo\n\ndata: tail".encode()
    cut = data.index(b"\xc3") + 1  # inside the two-byte "é"
    assert decoder.feed(data[:cut]) == []
    assert decoder.feed(data[cut:]) == ["héllo"]
    assert decoder.close() == ["tail"]


def test_sse_bare_cr_line_ends() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\rdata: b\r") == ["a"]
    # a final "\r" may be half of "\r\n": the blank line is only known at the next byte
    assert decoder.feed(b"\r") == []
    assert decoder.feed(b"data: c\n\n") == ["b", "c"]


# -- retry policy ----------------------------------------------------------------------------


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(initial_delay=0.5, multiplier=2, max_delay=3, jitter=0)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_stays_within_its_fraction() -> None:
    policy = RetryPolicy(initial_delay=1, jitter=0.5)
    rng = random.Random(7)
    waits = [policy.backoff(1, rng) for _ in range(200)]
    assert all(0.5 <= w <= 1.0 for w in waits)
    assert max(waits) - min(waits) > 0.3  # actually spread out


def test_retry_state_is_bounded_and_retries_only_transient_errors() -> None:
    state = RetryState(RetryPolicy(max_retries=2, jitter=0, initial_delay=0.1))
    assert state.delay_for(BadRequest("no")) is None
    assert state.delay_for(ServerError("x", status=500)) == 0.1
    assert state.delay_for(ConnectionFailed("x")) == 0.2
    assert state.delay_for(ServerError("x", status=500)) is None  # bounded: 2 retries


def test_retry_after_replaces_backoff_unless_too_long() -> None:
    state = RetryState(RetryPolicy(max_retry_after=5))
    assert state.delay_for(RateLimited("x", retry_after=2.0)) == 2.0
    assert state.delay_for(RateLimited("x", retry_after=60.0)) is None


def test_retry_policy_checks_its_fields() -> None:
    with pytest.raises(ValueError) as info:
        RetryPolicy(max_retries=-1)
    assert str(info.value) == "max_retries must be an integer >= 0, not -1"
    with pytest.raises(ValueError) as info:
        RetryPolicy(jitter=2)
    assert str(info.value) == "jitter must be between 0 and 1, not 2"


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert (
        parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0)
        == 10.0
    )
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


# -- error mapping ---------------------------------------------------------------------------


def envelope(
    message: str, code: str | None = None, param: str | None = None, request_id: str | None = None
) -> bytes:
    return json.dumps(
        {
            "error": {
                "type": "x",
                "message": message,
                "code": code,
                "param": param,
                "request_id": request_id,
            }
        }
    ).encode()


ERROR_CASES = [
    (
        401,
        envelope("invalid API key"),
        AuthenticationFailed,
        "authentication failed: invalid API key; set WAFER_API_KEY or pass api_key= "
        "(HTTP 401, request req_0123456789ab)",
    ),
    (
        403,
        envelope("no access to GLM-5.1"),
        PermissionDenied,
        "permission denied: no access to GLM-5.1 (HTTP 403, request req_0123456789ab)",
    ),
    (
        404,
        envelope("model 'glm' does not exist", "model_not_found", "model"),
        NotFound,
        "not found: model 'glm' does not exist (HTTP 404, request req_0123456789ab)",
    ),
    (
        400,
        envelope("top_p must be in (0, 1]", "invalid_request", "top_p"),
        BadRequest,
        "invalid request (parameter 'top_p'): top_p must be in (0, 1] "
        "(HTTP 400, request req_0123456789ab)",
    ),
    (
        422,
        envelope(
            "messages[0].content must be a string",
            "schema_validation_failed",
            "messages[0].content",
        ),
        BadRequest,
        "invalid request (parameter 'messages[0].content'): messages[0].content must be a "
        "string (HTTP 422, request req_0123456789ab)",
    ),
    (
        400,
        envelope("invalid grammar: line 1, column 9: unknown rule", "invalid_grammar", "ebnf"),
        GrammarRejected,
        "the server rejected the grammar: invalid grammar: line 1, column 9: unknown rule "
        "(HTTP 400, request req_0123456789ab)",
    ),
    (
        400,
        envelope(
            "prompt of 10 tokens plus max_tokens=20 exceeds the model's context of 16 "
            "tokens by 14; shorten the prompt or lower max_tokens",
            "context_length_exceeded",
            "prompt",
        ),
        ServerContextLengthExceeded,
        "context length exceeded: prompt of 10 tokens plus max_tokens=20 exceeds the model's "
        "context of 16 tokens by 14; shorten the prompt or lower max_tokens "
        "(HTTP 400, request req_0123456789ab)",
    ),
    (500, envelope("boom"), ServerError, "server error: boom (HTTP 500, request req_0123456789ab)"),
    (
        502,
        b"<html>bad gateway</html>",
        ServerError,
        "server error: bad gateway (HTTP 502, request req_0123456789ab)",
    ),
    (
        408,
        b"",
        RequestTimeout,
        "the server timed out the request: request timeout (HTTP 408, request req_0123456789ab)",
    ),
]


@pytest.mark.parametrize(("status", "body", "kind", "message"), ERROR_CASES)
def test_error_messages(status: int, body: bytes, kind: type[APIError], message: str) -> None:
    error = error_from_response(status, {"x-request-id": "req_0123456789ab"}, body, secret=KEY)
    assert type(error) is kind
    assert str(error) == message
    assert error.status == status
    assert error.request_id == "req_0123456789ab"


def test_rate_limit_message_and_retry_after() -> None:
    error = error_from_response(
        429, {"retry-after": "2"}, envelope("slow down", request_id="req_1"), secret=KEY
    )
    assert isinstance(error, RateLimited)
    assert error.retry_after == 2.0
    assert error.request_id == "req_1"  # from the envelope when the header is missing
    assert str(error) == "rate limited: slow down; retry after 2 s (HTTP 429, request req_1)"


def test_context_error_is_also_the_local_type_with_counts() -> None:
    body = envelope(
        "This model's maximum context length is 16 tokens. However, you requested "
        "30 tokens (10 in the messages, 20 in the completion).",
        "context_length_exceeded",
    )
    error = error_from_response(400, {}, body, secret=None)
    assert isinstance(error, ContextLengthExceeded)
    assert isinstance(error, ServerContextLengthExceeded)
    assert (error.prompt_tokens, error.max_tokens, error.max_model_len) == (10, 20, 16)


def test_server_text_echoing_the_key_is_redacted() -> None:
    error = error_from_response(401, {}, envelope(f"key {KEY} is revoked"), secret=KEY)
    assert str(error) == (
        "authentication failed: key [redacted] is revoked; set WAFER_API_KEY "
        "or pass api_key= (HTTP 401)"
    )
    assert KEY not in repr(error) and KEY not in str(error.server_message)


def test_errors_pickle_with_their_fields() -> None:
    error = error_from_response(
        429, {"retry-after": "1", "x-request-id": "req_9"}, envelope("slow"), secret=None
    )
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is RateLimited
    assert (str(back), back.retry_after, back.request_id) == (str(error), 1.0, "req_9")


def test_transport_error_messages() -> None:
    import httpx

    timeout = error_from_transport(
        httpx.ReadTimeout("timed out"),
        url="http://h/v1/completions",
        secret=KEY,
        timeouts={"read": 2.5},
    )
    assert isinstance(timeout, RequestTimeout) and isinstance(timeout, TimeoutError)
    assert str(timeout) == "no answer from http://h/v1/completions within the read timeout of 2.5 s"
    refused = error_from_transport(
        httpx.ConnectError("[Errno 111] Connection refused"), url="http://h/v1/models", secret=KEY
    )
    assert str(refused) == "cannot connect to http://h/v1/models: [Errno 111] Connection refused"
    cut = error_from_transport(
        httpx.RemoteProtocolError("peer closed connection"), url="http://h/v1/models", secret=KEY
    )
    assert (
        str(cut) == "the connection to http://h/v1/models failed mid-answer: peer closed connection"
    )


# -- parsing ---------------------------------------------------------------------------------

WAFER_CARD = {
    "id": "GLM-5.1",
    "object": "model",
    "created": 1779148800,
    "owned_by": "wafer",
    "max_model_len": 202752,
    "zdr_supported": True,
    "wafer": {
        "display_name": "GLM-5.1",
        "description": "d",
        "tier": "pass_included",
        "context_length": 202752,
        "capabilities": {"vision": False, "tools": True, "reasoning": True},
        "pricing": {
            "input_cents_per_million": 100,
            "output_cents_per_million": 320,
            "cache_read_cents_per_million": 10,
        },
    },
}


def test_model_card_from_wafer_documented_shape() -> None:
    (card,) = parse.model_list({"object": "list", "data": [WAFER_CARD]})
    assert card.id == "GLM-5.1" and card.max_model_len == 202752 and card.zdr_supported
    assert card.capabilities.tools and card.capabilities.reasoning and not card.capabilities.vision
    assert card.pricing is not None
    assert (
        card.pricing.input_cents_per_million,
        card.pricing.output_cents_per_million,
        card.pricing.cache_read_cents_per_million,
    ) == (100, 320, 10)
    assert card.tier == "pass_included"


def test_malformed_answers_name_the_field() -> None:
    with pytest.raises(MalformedResponse) as info:
        parse.shaped(
            parse.completion,
            {"id": "c", "model": "m", "choices": [{"text": 3}]},
            what="completions",
            request_id="req_2",
            status=200,
        )
    assert str(info.value) == (
        "the completions answer has an unexpected shape: choices[0].text "
        "is not a string (HTTP 200, request req_2)"
    )
    with pytest.raises(MalformedResponse) as info:
        parse.loads(b'{"id": ', what="completions", request_id=None, status=200)
    assert str(info.value) == "the completions answer is not JSON: '{\"id\": ' (HTTP 200)"


def test_usage_with_cached_and_reasoning_tokens() -> None:
    usage = parse.usage(
        {
            "prompt_tokens": 100,
            "completion_tokens": 20,
            "total_tokens": 120,
            "prompt_tokens_details": {"cached_tokens": 64},
            "completion_tokens_details": {"reasoning_tokens": 12},
        }
    )
    assert usage is not None
    assert (usage.cached_tokens, usage.reasoning_tokens, usage.total_tokens) == (64, 12, 120)


def test_stream_tool_call_arrives_whole_and_fragments_also_assemble() -> None:
    whole = ChatAssembler(secret=None, request_id=None)
    call = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    chunks = [
        {"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant"}}]},
        {"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"tool_calls": [call]}}]},
        {
            "id": "c",
            "model": "m",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
        },
    ]
    for chunk in chunks:
        whole.event(json.dumps(chunk))
    whole.event("[DONE]")
    message = whole.result().choices[0].message
    assert message.content is None
    assert message.tool_calls[0].function.parsed() == {"city": "Paris"}

    pieces = ChatAssembler(secret=None, request_id=None)
    first = dict(call, function={"name": "get_weather", "arguments": '{"city": '})
    rest = {"index": 0, "function": {"arguments": '"Paris"}'}}
    for part in (first, rest):
        pieces.event(
            json.dumps(
                {
                    "id": "c",
                    "model": "m",
                    "choices": [{"index": 0, "delta": {"tool_calls": [part]}}],
                }
            )
        )
    pieces.event("[DONE]")
    assert pieces.result().choices[0].message.tool_calls == message.tool_calls


def test_stream_error_event_and_missing_done() -> None:
    assembler = CompletionAssembler(secret=KEY, request_id="req_3")
    with pytest.raises(ServerError) as info:
        assembler.event(
            json.dumps({"error": {"message": "decoding failed", "code": "engine_error"}})
        )
    assert str(info.value) == "server error: decoding failed (HTTP 500, request req_3)"
    with pytest.raises(ConnectionFailed) as cut:
        CompletionAssembler(secret=None, request_id=None).end()
    assert str(cut.value) == (
        "the stream ended before its [DONE] marker: the answer is incomplete (HTTP 200)"
    )


# -- inline reasoning ------------------------------------------------------------------------


def test_split_think_whole_answers() -> None:
    assert split_think("<think>Let me see.</think>\n\nParis") == ("Let me see.", "Paris")
    assert split_think("Paris") == (None, "Paris")
    assert split_think("  <think>unfinished") == ("unfinished", "")


def test_think_splitter_tags_split_across_chunks_match_the_whole() -> None:
    text = "<think>a < b</think>\n\nanswer <think> stays"
    for size in (1, 2, 3, 5, 8):
        splitter = ThinkSplitter()
        reasoning = content = ""
        for i in range(0, len(text), size):
            r, c = splitter.feed(text[i : i + size])
            reasoning, content = reasoning + r, content + c
        r, c = splitter.flush()
        assert (reasoning + r, content + c) == ("a < b", "answer <think> stays")


def test_inline_reasoning_in_a_chat_stream() -> None:
    assembler = ChatAssembler(secret=None, request_id=None, inline_reasoning=True)
    for piece in ("<thi", "nk>hmm", "</think>", "\n\nYes"):
        assembler.event(
            json.dumps(
                {
                    "id": "c",
                    "model": "MiniMax-M3",
                    "choices": [{"index": 0, "delta": {"content": piece}}],
                }
            )
        )
    assembler.event(
        json.dumps(
            {
                "id": "c",
                "model": "MiniMax-M3",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            }
        )
    )
    assembler.event("[DONE]")
    message = assembler.result().choices[0].message
    assert (message.reasoning_content, message.content) == ("hmm", "Yes")


# -- request building ------------------------------------------------------------------------


def core(**changes: object) -> ClientCore:
    config = resolve_config(base_url="http://h/v1", api_key=KEY, environ={}, **changes)  # type: ignore[arg-type]
    return ClientCore(config, TokenizerCache())


def test_completion_body_sends_only_what_was_set() -> None:
    spec = core().completion_spec(
        "GLM-5.1",
        [1, 2, 3],
        grammar='root ::= "A" | "B"',
        stream=False,
        sampling=Sampling(
            max_tokens=2, temperature=0, top_logprobs=5, stop=["\n"], logit_bias={7: -100.0}
        ),
    )
    assert spec.body is not None
    assert json.loads(spec.body) == {
        "model": "GLM-5.1",
        "prompt": [1, 2, 3],
        "max_tokens": 2,
        "temperature": 0,
        "stop": ["\n"],
        "logit_bias": {"7": -100.0},
        "logprobs": 5,
        "ebnf": 'root ::= "A" | "B"',
    }


def test_chat_body_logprobs_reasoning_and_stream() -> None:
    spec = core().chat_spec(
        "GLM-5.1",
        [{"role": "user", "content": "hi"}],
        stream=True,
        thinking=False,
        preserve_thinking=True,
        reasoning_effort="low",
        sampling=Sampling(logprobs=True, top_logprobs=2),
        tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
        tool_choice="auto",
        parallel_tool_calls=False,
    )
    assert spec.body is not None
    body = json.loads(spec.body)
    assert "chat_template_kwargs" not in body
    assert body["thinking"] == {"type": "disabled"}
    assert body["preserve_thinking"] is True
    assert (body["logprobs"], body["top_logprobs"]) == (True, 2)
    assert body["stream_options"] == {"include_usage": True}
    assert body["reasoning_effort"] == "low" and body["tool_choice"] == "auto"
    assert body["parallel_tool_calls"] is False


def _reasoning_body(model: str, **options: object) -> dict[str, object]:
    spec = core().chat_spec(
        model, [{"role": "user", "content": "hi"}], stream=False, sampling=Sampling(), **options
    )  # type: ignore[arg-type]
    assert spec.body is not None
    body: dict[str, object] = json.loads(spec.body)
    return {k: v for k, v in body.items() if k not in ("model", "messages")}


@pytest.mark.parametrize(
    ("model", "options", "sent"),
    [
        ("GLM-5.1", {"thinking": True}, {"thinking": {"type": "enabled"}}),
        ("Kimi-K2.6", {"thinking": False}, {"thinking": {"type": "disabled"}}),
        # reasoning is off by default everywhere: off is always accepted, MiniMax-M3 too
        ("MiniMax-M3", {"thinking": False}, {"thinking": {"type": "disabled"}}),
        ("new-model", {"thinking": True}, {"thinking": {"type": "enabled"}}),
        (
            "Kimi-K2.6",
            {"thinking": True, "keep_thinking": True},
            {"thinking": {"type": "enabled"}, "preserve_thinking": True},
        ),
        (
            "GLM-5.1",
            {"thinking": {"type": "enabled", "keep": "all"}},
            {"thinking": {"type": "enabled", "keep": "all"}},
        ),
        ("deepseek-v4-pro", {"reasoning_effort": "max"}, {"reasoning_effort": "max"}),
        ("Qwen3.5-397B-A17B", {"enable_thinking": True}, {"enable_thinking": True}),
        ("SmolLM2-135M-Instruct", {"reasoning_effort": "none"}, {"reasoning_effort": "none"}),
    ],
)
def test_reasoning_controls_go_out_in_the_documented_shapes(
    model: str, options: dict[str, object], sent: dict[str, object]
) -> None:
    assert _reasoning_body(model, **options) == sent


@pytest.mark.parametrize(
    ("model", "options", "error", "param", "message"),
    [
        (
            "GLM-5.1",
            {"reasoning_effort": "extreme"},
            BadRequest,
            "reasoning_effort",
            "reasoning_effort must be one of none, low, medium, high, max, not 'extreme'",
        ),
        (
            "Qwen3.5-397B-A17B",
            {"keep_thinking": True},
            BadRequest,
            "preserve_thinking",
            "preserve_thinking is supported on Kimi-K2.6 and GLM-5.1, not 'Qwen3.5-397B-A17B'",
        ),
        (
            "GLM-5.1",
            {"thinking": "yes"},
            BadRequest,
            "thinking",
            'thinking must be true, false, {"type": "enabled"} or {"type": "disabled"}, '
            "not 'yes'",
        ),
        (
            "SmolLM2-135M-Instruct",
            {"thinking": True},
            ThinkingUnsupported,
            None,
            "model 'SmolLM2-135M-Instruct' does not reason (wafer.capabilities.reasoning is "
            "false): drop the reasoning switch, or pick a reasoning-capable model",
        ),
    ],
)
def test_reasoning_controls_are_checked_before_sending(
    model: str, options: dict[str, object], error: type[Exception], param: str | None, message: str
) -> None:
    with pytest.raises(error) as info:
        _reasoning_body(model, **options)
    assert str(info.value) == message
    assert getattr(info.value, "param", None) == param


def test_a_chat_with_a_grammar_goes_to_completions_as_token_ids() -> None:
    c = core()
    spec = c.chat_spec(
        "SmolLM2-135M-Instruct",
        [{"role": "user", "content": "Yes or no?"}],
        stream=False,
        grammar='root ::= "yes" | "no"',
        sampling=Sampling(max_tokens=3),
    )
    assert (spec.method, spec.path, spec.kind) == ("POST", "/completions", "chat_via_completions")
    assert spec.body is not None
    body = json.loads(spec.body)
    expected = c.tokenizer("SmolLM2-135M-Instruct").encode_chat(
        [{"role": "user", "content": "Yes or no?"}], thinking=False
    )
    assert body == {
        "model": "SmolLM2-135M-Instruct",
        "prompt": expected.ids,
        "max_tokens": 3,
        "ebnf": 'root ::= "yes" | "no"',
    }
    answer = c.parse_answer(
        spec,
        json.dumps(
            {
                "id": "cmpl-1",
                "object": "text_completion",
                "model": "SmolLM2-135M-Instruct",
                "choices": [{"index": 0, "text": "yes", "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
            }
        ).encode(),
        {},
        200,
    )
    assert isinstance(answer, ChatCompletion)
    assert (answer.text, answer.choices[0].message.role, answer.choices[0].finish_reason) == (
        "yes",
        "assistant",
        "stop",
    )


def test_a_chat_grammar_refuses_what_completions_cannot_carry() -> None:
    with pytest.raises(BadRequest) as info:
        core().chat_spec(
            "SmolLM2-135M-Instruct",
            [{"role": "user", "content": "hi"}],
            stream=False,
            grammar='root ::= "a"',
            response_format={"type": "json_object"},
            sampling=Sampling(),
        )
    assert info.value.param == "response_format"


def test_completions_max_tokens_is_checked_like_chat() -> None:
    with pytest.raises(BadRequest) as info:
        core().completion_spec("GLM-5.1", [1, 2], stream=False, sampling=Sampling(max_tokens=-1))
    assert (info.value.param, str(info.value)) == (
        "max_tokens",
        "max_tokens must be at least 1, not -1",
    )


BAD_SAMPLING = [
    (Sampling(max_tokens=0), "max_tokens", "max_tokens must be at least 1, not 0"),
    (Sampling(max_tokens=True), "max_tokens", "max_tokens must be an integer, not True"),
    (Sampling(temperature=-1), "temperature", "temperature must be in [0, inf), not -1"),
    (Sampling(top_p=0), "top_p", "top_p must be in (0, 1], not 0"),
    (Sampling(top_logprobs=21), "top_logprobs", "top_logprobs must be at most 20, not 21"),
    (
        Sampling(frequency_penalty=3),
        "frequency_penalty",
        "frequency_penalty must be in [-2, 2], not 3",
    ),
    (
        Sampling(temperature=float("nan")),
        "temperature",
        "temperature must be a finite number, not nan",
    ),
    (Sampling(stop=["ok", ""]), "stop", "stop must be a non-empty string or a list of them"),
    (
        Sampling(stop_token_ids=[-1]),
        "stop_token_ids",
        "stop_token_ids must be a list of token IDs (integers >= 0)",
    ),
]


@pytest.mark.parametrize(("sampling", "param", "message"), BAD_SAMPLING)
def test_bad_parameters_are_refused_locally(sampling: Sampling, param: str, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        sampling.body(chat=False)
    assert (info.value.param, str(info.value), info.value.status) == (param, message, None)


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ([], "prompt is empty; give at least one token"),
        ([1, -2], "prompt token IDs must be integers >= 0, not -2"),
        ([1, True], "prompt token IDs must be integers >= 0, not True"),
        (3, "prompt must be text, a list of token IDs or a Prompt"),
    ],
)
def test_bad_prompts(prompt: object, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        core().completion_spec("m", prompt, sampling=Sampling(), stream=False)
    assert (str(info.value), info.value.param) == (message, "prompt")


def test_kimi_sampling_parameters_warn() -> None:
    with pytest.warns(IgnoredParameterWarning) as record:
        warn_stripped("Kimi-K2.6", Sampling(temperature=0.2, top_p=0.9, max_tokens=5))
    assert str(record[0].message) == (
        "Wafer ignores sampling parameters for Kimi-K2.6: temperature, top_p have no effect"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_stripped("Kimi-K2.6", Sampling(max_tokens=5))  # not a sampling parameter
        # exactly the documented list: top_k, min_p and repetition_penalty are not stripped
        warn_stripped("Kimi-K2.6", Sampling(top_k=5, min_p=0.1, repetition_penalty=1.1))
        warn_stripped("GLM-5.1", Sampling(temperature=0.2))
    with pytest.warns(IgnoredParameterWarning) as record:
        warn_stripped("Kimi-K2.6", Sampling(n=2, presence_penalty=0.5, frequency_penalty=0.5))
    assert str(record[0].message) == (
        "Wafer ignores sampling parameters for Kimi-K2.6: frequency_penalty, presence_penalty, "
        "n have no effect"
    )


def test_response_format_from_a_pydantic_model() -> None:
    from pydantic import BaseModel

    class City(BaseModel):
        name: str

    body = response_format_body(City)
    assert body is not None
    assert body["json_schema"]["name"] == "City"
    assert body["json_schema"]["schema"]["properties"] == {
        "name": {"title": "Name", "type": "string"}
    }


def test_zdr_header_and_auth_header_are_built_at_send_time() -> None:
    client_core = core(zdr=True)
    spec = RequestSpec("POST", "/completions", b"{}", zdr=True)
    headers = client_core.headers(spec)
    assert headers["wafer-zdr"] == "required"
    assert headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in repr(spec)


# -- configuration ---------------------------------------------------------------------------


def test_config_from_environment_and_repr_hides_the_key() -> None:
    config = resolve_config(
        environ={"WAFER_BASE_URL": "http://localhost:9/v1/", "WAFER_API_KEY": KEY}
    )
    assert config.base_url == "http://localhost:9/v1" and config.api_key == KEY
    assert KEY not in repr(config) and "api_key=<set>" in repr(config)
    assert resolve_config(environ={}).base_url == "https://pass.wafer.ai/v1"
    assert resolve_config(environ={}).api_key is None


def test_config_refusals() -> None:
    with pytest.raises(ValueError) as info:
        resolve_config(base_url="pass.wafer.ai/v1", environ={})
    assert str(info.value) == (
        "base_url must start with http:// or https://, not 'pass.wafer.ai/v1'"
    )
    with pytest.raises(ValueError) as info:
        resolve_config(headers={"Authorization": "Bearer x"}, environ={})
    assert str(info.value) == "pass the key as api_key=, not as an Authorization header"
    with pytest.raises(ValueError) as info:
        Timeouts.of(0)
    assert str(info.value) == "timeout must be positive, not 0"


def test_timeouts_of_a_number_sets_every_phase() -> None:
    assert Timeouts.of(3) == Timeouts(3, 3, 3, 3)
    assert isinstance(ClientConfig().timeouts, Timeouts)
