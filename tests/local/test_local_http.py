"""The local server over loopback HTTP: routes, auth, errors, streaming, faults, concurrency."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from local_support import MODEL, Reply, call, error_of

from wafer_grammar.local import Fault
from wafer_grammar.local.pytest_fixtures import LocalServerHandle

YES_NO = 'root ::= "yes" | "no"'


def post(server: LocalServerHandle, path: str, body: dict[str, Any], **kw: Any) -> Reply:
    return call(server.base_url, "POST", path, {"model": MODEL, **body}, key=server.api_key, **kw)


def chat_body(text: str = "Is the sky blue?", **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], **extra}


# ---------------------------------------------------------------- models and auth


def test_models_card(local_server: LocalServerHandle) -> None:
    reply = call(local_server.base_url, "GET", "/v1/models", key=local_server.api_key)
    assert reply.status == 200
    (card,) = reply.json()["data"]
    assert card["id"] == MODEL == local_server.model
    assert card["max_model_len"] == 8192
    assert card["wafer"]["pricing"] == {
        "input_cents_per_million": 0,
        "output_cents_per_million": 0,
        "cache_read_cents_per_million": 0,
    }
    assert card["zdr_supported"] is True
    assert card["wafer"]["capabilities"]["vision"] is False
    assert card["wafer"]["capabilities"]["ebnf"] is True
    one = call(local_server.base_url, "GET", f"/v1/models/{MODEL}", key=local_server.api_key)
    assert one.json() == card


@pytest.mark.parametrize(
    ("headers", "status", "code", "message"),
    [
        (
            {},
            401,
            "missing_api_key",
            "missing API key: send the header 'Authorization: Bearer <key>'",
        ),
        ({"Authorization": "Bearer wrong"}, 401, "invalid_api_key", "invalid API key"),
        ({"Authorization": "Basic abc"}, 401, "invalid_api_key", "invalid API key"),
    ],
)
def test_auth(
    local_server: LocalServerHandle, headers: dict[str, str], status: int, code: str, message: str
) -> None:
    reply = call(local_server.base_url, "GET", "/v1/models", headers=headers)
    assert reply.status == status
    err = error_of(reply)
    assert (err["code"], err["message"], err["type"]) == (code, message, "authentication_error")
    assert local_server.api_key not in reply.body.decode()
    assert local_server.api_key not in repr(local_server.server)
    assert local_server.api_key not in repr(local_server)


def test_health_needs_no_key(local_server: LocalServerHandle) -> None:
    assert call(local_server.base_url, "GET", "/health").json() == {"status": "ok"}


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "message"),
    [
        ("GET", "/v2/nothing", None, 404, "not_found", "no route GET /v2/nothing"),
        ("GET", "/v1/completions", None, 405, "method_not_allowed", "/v1/completions takes POST"),
        (
            "GET",
            "/v1/models/gpt-9",
            None,
            404,
            "model_not_found",
            "model 'gpt-9' does not exist; this server serves 'SmolLM2-135M-Instruct'",
        ),
        (
            "POST",
            "/v1/completions",
            {"model": "gpt-9", "prompt": [1]},
            404,
            "model_not_found",
            "model 'gpt-9' does not exist; this server serves 'SmolLM2-135M-Instruct'",
        ),
        (
            "POST",
            "/v1/completions",
            {"model": MODEL, "prompt": [1], "suffix": "x"},
            400,
            "unsupported_parameter",
            "unsupported parameter 'suffix': the local engine does not implement it (Wafer refuses what it would not honour)",
        ),
        (
            "POST",
            "/v1/completions",
            {"model": MODEL, "prompt": [1, 99999]},
            400,
            "invalid_request",
            "prompt token id 99999 is outside the vocabulary (0..49151)",
        ),
        (
            "POST",
            "/v1/completions",
            {"model": MODEL, "prompt": []},
            400,
            "invalid_request",
            "prompt is empty; give at least one token",
        ),
        (
            "POST",
            "/v1/completions",
            {"model": MODEL, "prompt": [1, 2], "max_tokens": 8191},
            400,
            "context_length_exceeded",
            "prompt of 2 tokens plus max_tokens=8191 exceeds the model's context of 8192 tokens by 1; shorten the prompt or lower max_tokens",
        ),
        (
            "POST",
            "/v1/completions",
            {"model": MODEL, "prompt": [1], "n": 9},
            400,
            "invalid_request",
            "n must be at most 8, not 9",
        ),
        (
            "POST",
            "/v1/chat/completions",
            {
                "model": MODEL,
                "messages": [{"role": "user", "content": "hi"}],
                "chat_template_kwargs": {"enable_thinking": True},
            },
            400,
            "unsupported_parameter",
            "chat_template_kwargs turns reasoning on, but SmolLM2-135M-Instruct does not reason (wafer.capabilities.reasoning is false); turn it off or leave it out",
        ),
        (
            "POST",
            "/v1/chat/completions",
            {"model": MODEL, "messages": [{"content": "hi"}]},
            400,
            "invalid_request",
            "messages[0].role must be one of system, developer, user, assistant, tool, not None",
        ),
    ],
)
def test_error_answers(
    local_server: LocalServerHandle,
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str,
    message: str,
) -> None:
    reply = call(local_server.base_url, method, path, body, key=local_server.api_key)
    assert reply.status == status
    assert reply.headers["content-type"] == "application/json"
    err = error_of(reply)
    assert (err["code"], err["message"]) == (code, message)


def test_bad_json_body(local_server: LocalServerHandle) -> None:
    reply = call(
        local_server.base_url, "POST", "/v1/completions", raw=b"{nope", key=local_server.api_key
    )
    assert reply.status == 400
    assert error_of(reply)["message"] == (
        "the request body is not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)"
    )


def test_bad_grammar_gives_line_and_column(local_server: LocalServerHandle) -> None:
    reply = post(
        local_server,
        "/v1/completions",
        {"prompt": [1], "ebnf": 'root ::= "a"\nitem ::= "b" | nope\n'},
    )
    assert reply.status == 400
    err = error_of(reply)
    assert (err["code"], err["param"], err["type"]) == (
        "invalid_grammar",
        "ebnf",
        "invalid_request_error",
    )
    assert err["message"] == (
        'invalid grammar: line 2, column 16: error[E303]: rule "nope" is not defined\n'
        '  item ::= "b" | nope\n'
        "                 ^~~~\n"
        '  = hint: define it ("nope ::= ...") or fix the spelling'
    )
    (diag,) = [d for d in err["diagnostics"] if d["severity"] == "error"]
    assert (diag["line"], diag["column"]) == (2, 16)


# ---------------------------------------------------------------- completions


def test_completion_with_token_ids_and_usage(local_server: LocalServerHandle) -> None:
    tokenizer = local_server.server.engine.tokenizer
    ids = tokenizer.encode("The capital of France is")
    reply = post(
        local_server,
        "/v1/completions",
        {"prompt": ids, "max_tokens": 3, "temperature": 0, "logprobs": 2},
    )
    body = reply.json()
    assert body["object"] == "text_completion" and body["id"].startswith("cmpl-")
    (choice,) = body["choices"]
    assert choice["finish_reason"] == "length" and choice["matched_stop"] is None
    # The shared server's prefix cache may hold this prompt's start from an earlier test.
    cached = body["usage"].pop("prompt_tokens_details")["cached_tokens"]
    assert 0 <= cached < len(ids)
    assert body["usage"] == {
        "prompt_tokens": len(ids),
        "completion_tokens": 3,
        "total_tokens": len(ids) + 3,
    }
    lp = choice["logprobs"]
    assert "".join(lp["tokens"]) == choice["text"]
    assert len(lp["token_logprobs"]) == len(lp["top_logprobs"]) == len(lp["text_offset"]) == 3
    assert lp["text_offset"][0] == 0
    assert all(len(top) == 2 for top in lp["top_logprobs"])


def test_text_prompt_matches_token_prompt(local_server: LocalServerHandle) -> None:
    text = "<|im_start|>user\nSay hi<|im_end|>\n<|im_start|>assistant\n"
    ids = local_server.server.engine.tokenizer.encode(text, allow_special=True)
    a = post(local_server, "/v1/completions", {"prompt": text, "max_tokens": 4, "temperature": 0})
    b = post(local_server, "/v1/completions", {"prompt": ids, "max_tokens": 4, "temperature": 0})
    assert a.json()["choices"][0]["text"] == b.json()["choices"][0]["text"]
    assert a.json()["usage"]["prompt_tokens"] == len(ids)


def test_stop_string_ends_the_choice(local_server: LocalServerHandle) -> None:
    reply = post(
        local_server,
        "/v1/completions",
        {"prompt": "Count: 1, 2, 3, 4,", "max_tokens": 12, "temperature": 0, "stop": [" 6"]},
    )
    (choice,) = reply.json()["choices"]
    assert choice["finish_reason"] == "stop"
    assert choice["matched_stop"] == " 6"
    assert choice["text"] == " 5,"


def test_grammar_choice_ends_with_the_stop_token_and_counts_it(
    local_server: LocalServerHandle,
) -> None:
    reply = post(
        local_server,
        "/v1/chat/completions",
        chat_body(ebnf=YES_NO, temperature=0, logprobs=True, top_logprobs=5),
    )
    body = reply.json()
    (choice,) = body["choices"]
    assert body["object"] == "chat.completion"
    assert choice["message"]["content"] in ("yes", "no")
    assert choice["finish_reason"] == "stop"
    assert choice["matched_stop"] == 2  # <|im_end|>
    content = choice["logprobs"]["content"]
    assert body["usage"]["completion_tokens"] == len(content) == 2
    # After the mask, only tokens that start an answer are alternatives (here exactly
    # five), and they share all the probability.
    first = content[0]["top_logprobs"]
    assert sorted(t["token"] for t in first) == ["n", "no", "y", "ye", "yes"]
    assert sum(2.718281828459045 ** t["logprob"] for t in first) == pytest.approx(1.0, abs=1e-4)
    assert content[1]["token"] == "<|im_end|>"


def test_n_choices_with_seed_are_reproducible(local_server: LocalServerHandle) -> None:
    body = {
        "prompt": "My favourite colour is",
        "max_tokens": 5,
        "temperature": 1.0,
        "n": 3,
        "seed": 1234,
        "top_k": 50,
        "top_p": 0.9,
    }
    first = post(local_server, "/v1/completions", body).json()
    second = post(local_server, "/v1/completions", body).json()
    texts = [c["text"] for c in first["choices"]]
    assert [c["index"] for c in first["choices"]] == [0, 1, 2]
    assert texts == [c["text"] for c in second["choices"]]
    assert len(set(texts)) > 1
    assert first["usage"]["completion_tokens"] == 15


def test_json_object_response_format(local_server: LocalServerHandle) -> None:
    from wafer_grammar import Grammar
    from wafer_grammar.local.protocol import JSON_OBJECT_EBNF

    reply = post(
        local_server,
        "/v1/chat/completions",
        chat_body(
            "Describe a cat as JSON.",
            response_format={"type": "json_object"},
            max_tokens=40,
            temperature=0,
        ),
    )
    (choice,) = reply.json()["choices"]
    text = choice["message"]["content"]
    grammar = Grammar.from_ebnf(JSON_OBJECT_EBNF)
    assert grammar.accepts(text) if choice["finish_reason"] == "stop" else grammar.is_prefix(text)


def test_json_schema_response_format(local_server: LocalServerHandle) -> None:
    from wafer_grammar import Grammar

    if not hasattr(Grammar, "from_json_schema"):
        pytest.skip("the JSON Schema converter (wafer_grammar.convert) is not installed")
    schema = {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}},
        "required": ["ok"],
        "additionalProperties": False,
    }
    reply = post(
        local_server,
        "/v1/chat/completions",
        chat_body(
            "Is water wet? Answer in JSON.",
            max_tokens=20,
            temperature=0,
            response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
        ),
    )
    assert reply.status == 200, reply.body
    (choice,) = reply.json()["choices"]
    assert choice["finish_reason"] == "stop"
    assert isinstance(json.loads(choice["message"]["content"])["ok"], bool)


# ---------------------------------------------------------------- streaming


def test_stream_chat_with_usage_on_the_final_chunk(local_server: LocalServerHandle) -> None:
    reply = post(
        local_server,
        "/v1/chat/completions",
        chat_body("Count to three.", max_tokens=6, temperature=0, stream=True),
    )
    assert reply.headers["content-type"] == "text/event-stream"
    events = reply.events()
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    *deltas, usage = chunks
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] == 6
    assert deltas[-1]["choices"][0]["finish_reason"] == "length"
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in deltas)
    whole = post(
        local_server,
        "/v1/chat/completions",
        chat_body("Count to three.", max_tokens=6, temperature=0),
    )
    assert streamed == whole.json()["choices"][0]["message"]["content"]


def test_stream_completion_without_usage(local_server: LocalServerHandle) -> None:
    reply = post(
        local_server,
        "/v1/completions",
        {
            "prompt": "Hello",
            "max_tokens": 3,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": False},
        },
    )
    chunks = [json.loads(e) for e in reply.events()[:-1]]
    assert all("usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert all(c["object"] == "text_completion" for c in chunks)


# ---------------------------------------------------------------- faults


def test_rate_limit_fault_with_retry_after(local_server: LocalServerHandle) -> None:
    local_server.inject(Fault.rate_limit(retry_after=1.2))
    reply = post(local_server, "/v1/completions", {"prompt": [1], "max_tokens": 1})
    assert reply.status == 429
    assert reply.headers["retry-after"] == "2"
    err = error_of(reply)
    assert (err["type"], err["code"], err["message"]) == (
        "rate_limit_error",
        "rate_limit_exceeded",
        "Too Many Requests (injected fault)",
    )
    again = post(local_server, "/v1/completions", {"prompt": [1], "max_tokens": 1})
    assert again.status == 200
    assert [(r.status, r.fault) for r in local_server.requests()] == [(429, "status"), (200, None)]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, "Internal Server Error (injected fault)"),
        (503, "Service Unavailable (injected fault)"),
    ],
)
def test_server_error_faults(local_server: LocalServerHandle, status: int, message: str) -> None:
    local_server.inject(Fault.server_error(status))
    reply = call(local_server.base_url, "GET", "/v1/models", key=local_server.api_key)
    assert reply.status == status
    err = error_of(reply)
    assert (err["type"], err["code"], err["message"]) == ("server_error", "injected_fault", message)


def test_fault_path_filter(local_server: LocalServerHandle) -> None:
    local_server.inject(Fault.server_error(500, path="/v1/chat/completions"))
    assert call(local_server.base_url, "GET", "/v1/models", key=local_server.api_key).status == 200
    assert local_server.faults.pending() != []


def test_slow_first_byte(local_server: LocalServerHandle) -> None:
    local_server.inject(Fault.slow_first_byte(0.6))
    start = time.perf_counter()
    reply = call(local_server.base_url, "GET", "/v1/models", key=local_server.api_key)
    assert reply.status == 200
    # a lower bound only: a sleep never ends early, and a loaded machine only adds to it
    assert time.perf_counter() - start >= 0.6
    import socket

    # ten times the client's timeout: no scheduling delay makes the answer come in time
    local_server.inject(Fault.slow_first_byte(3.0))
    with pytest.raises(socket.timeout):
        call(local_server.base_url, "GET", "/v1/models", key=local_server.api_key, timeout=0.3)
    # reading the log waits for the abandoned request to end, so its line cannot land in
    # the next test's log (its status: 200, or 0 when the write found the socket closed)
    assert len(local_server.requests()) == 2


def test_cut_stream(local_server: LocalServerHandle) -> None:
    local_server.inject(Fault.cut_stream(after_chunks=2))
    reply = post(
        local_server,
        "/v1/completions",
        {"prompt": "Hello", "max_tokens": 8, "temperature": 0, "stream": True},
    )
    events = reply.events()
    assert len(events) == 2
    assert "[DONE]" not in events


def test_cut_body(local_server: LocalServerHandle) -> None:
    import http.client

    local_server.inject(Fault.cut_stream())
    with pytest.raises(http.client.IncompleteRead):
        call(local_server.base_url, "GET", "/v1/models", key=local_server.api_key)


def test_malformed_json(local_server: LocalServerHandle) -> None:
    local_server.inject(Fault.malformed_json())
    reply = call(local_server.base_url, "GET", "/v1/models", key=local_server.api_key)
    assert reply.status == 200
    with pytest.raises(json.JSONDecodeError):
        reply.json()
    local_server.inject(Fault.malformed_json(after_chunks=1))
    reply = post(
        local_server,
        "/v1/completions",
        {"prompt": "Hello", "max_tokens": 3, "temperature": 0, "stream": True},
    )
    events = reply.events()
    json.loads(events[0])
    with pytest.raises(json.JSONDecodeError):
        json.loads(events[1])
    assert events[-1] == "[DONE]"


def test_control_endpoint(local_server: LocalServerHandle) -> None:
    key = local_server.api_key
    fault = {"kind": "status", "status": 503, "retry_after": 3}
    reply = call(
        local_server.base_url, "POST", "/_wafer_grammar/faults", {"faults": [fault]}, key=key
    )
    assert reply.json()["pending"][0]["status"] == 503
    assert call(local_server.base_url, "GET", "/v1/models", key=key).headers["retry-after"] == "3"
    log = call(local_server.base_url, "GET", "/_wafer_grammar/requests", key=key).json()
    assert log["requests"][-1] == {
        "method": "GET",
        "path": "/v1/models",
        "status": 503,
        "fault": "status",
    }
    bad = call(
        local_server.base_url,
        "POST",
        "/_wafer_grammar/faults",
        {"faults": [{"kind": "boom"}]},
        key=key,
    )
    assert bad.status == 400
    assert error_of(bad)["message"] == (
        "fault kind must be one of status, slow_first_byte, cut_stream, malformed_json, not 'boom'"
    )
    call(local_server.base_url, "POST", "/_wafer_grammar/faults", {"faults": [fault]}, key=key)
    assert call(local_server.base_url, "DELETE", "/_wafer_grammar/faults", key=key).json() == {
        "pending": []
    }
    assert call(local_server.base_url, "GET", "/_wafer_grammar/faults", key=key).json() == {
        "pending": []
    }


# ---------------------------------------------------------------- concurrency


def test_concurrent_requests_are_all_served(local_server: LocalServerHandle) -> None:
    results: dict[int, Reply] = {}

    def worker(i: int) -> None:
        results[i] = post(
            local_server,
            "/v1/completions",
            {
                "prompt": f"Number {i}:",
                "max_tokens": 3,
                "temperature": 0,
                "ebnf": "root ::= [0-9]+",
            },
        )

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(6))
    for reply in results.values():
        assert reply.status == 200
        text = reply.json()["choices"][0]["text"]
        assert text.isdigit()
