"""The blocking client against the embedded server over loopback HTTP."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from client_support import FAST, GRAMMAR, QUESTION, fresh_log, paths, uncached

from wafer_grammar.client import Completion, RetryPolicy, WaferClient
from wafer_grammar.errors import (
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    ContextLengthExceeded,
    GrammarRejected,
    NotFound,
    ServerContextLengthExceeded,
    ThinkingUnsupported,
)


def test_models_are_typed_and_cached_per_client(client: WaferClient, local_server: Any) -> None:
    fresh_log(local_server)
    cards = client.models()
    assert [c.id for c in cards] == [local_server.model]
    assert cards[0].max_model_len == 8192
    assert client.models() == cards
    assert client.model(local_server.model.lower()) == cards[0]  # case-insensitive lookup
    assert paths(local_server) == [("GET", "/v1/models", 200)]
    with pytest.raises(NotFound) as info:
        client.model("GLM-5.1")
    assert str(info.value) == (
        f"model 'GLM-5.1' is not in /v1/models; known models: {local_server.model}"
    )


def test_completion_with_token_ids_and_a_grammar(client: WaferClient, local_server: Any) -> None:
    ids = [1, 504, 3145, 314, 260, 4086, 2563, 47]
    answer = client.completions(
        local_server.model, ids, grammar=GRAMMAR, max_tokens=3, temperature=0
    )
    assert isinstance(answer, Completion)
    assert answer.choices[0].text in ("yes", "no")
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.prompt_tokens == len(ids)


def test_text_prompt_is_tokenized_like_the_server(client: WaferClient, local_server: Any) -> None:
    text = "The capital of France is"
    by_text = client.completions(local_server.model, text, max_tokens=3, temperature=0)
    ids = client._core.tokenizer(local_server.model).encode(text)
    by_ids = client.completions(local_server.model, ids, max_tokens=3, temperature=0)
    assert by_text.text == by_ids.text
    assert uncached(by_text.usage) == uncached(by_ids.usage)


def test_stream_and_whole_answers_agree(client: WaferClient, local_server: Any) -> None:
    args: dict[str, Any] = {"max_tokens": 4, "temperature": 0, "logprobs": True, "top_logprobs": 2}
    whole = client.completions(local_server.model, "Once upon a time", **args)
    with client.stream_completions(local_server.model, "Once upon a time", **args) as stream:
        chunks = list(stream)
        folded = stream.final()
    assert "".join(c.choices[0].text for c in chunks if c.choices) == whole.text
    assert folded.text == whole.text
    assert uncached(folded.usage) == uncached(whole.usage) == uncached(stream.usage)
    assert folded.choices[0].finish_reason == whole.choices[0].finish_reason == "length"
    assert folded.choices[0].logprobs is not None and whole.choices[0].logprobs is not None
    assert folded.choices[0].logprobs.tokens == whole.choices[0].logprobs.tokens


def test_chat_stream_and_whole_agree(client: WaferClient, local_server: Any) -> None:
    whole = client.chat(local_server.model, QUESTION, grammar=GRAMMAR, max_tokens=3, temperature=0)
    stream = client.stream_chat(
        local_server.model, QUESTION, grammar=GRAMMAR, max_tokens=3, temperature=0
    )
    folded = stream.final()
    assert whole.text in ("yes", "no")
    assert (folded.text, uncached(folded.usage)) == (whole.text, uncached(whole.usage))
    assert folded.choices[0].message.role == "assistant"
    assert folded.choices[0].message.reasoning_content is None


def test_n_choices(client: WaferClient, local_server: Any) -> None:
    answer = client.completions(
        local_server.model, "Hello", max_tokens=2, n=2, seed=1, temperature=1.0
    )
    assert [c.index for c in answer.choices] == [0, 1]


def test_wrong_key_is_not_retried(local_server: Any) -> None:
    fresh_log(local_server)
    with (
        WaferClient(base_url=local_server.base_url, api_key="wrong", retry=FAST) as bad,
        pytest.raises(AuthenticationFailed) as info,
    ):
        bad.models()
    assert str(info.value) == (
        "authentication failed: invalid API key; set WAFER_API_KEY or pass api_key= (HTTP 401)"
    )
    assert info.value.attempts == 1
    assert paths(local_server) == [("GET", "/v1/models", 401)]


def test_missing_key(local_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAFER_API_KEY", raising=False)
    with (
        WaferClient(base_url=local_server.base_url) as anonymous,
        pytest.raises(AuthenticationFailed) as info,
    ):
        anonymous.models()
    assert str(info.value) == (
        "authentication failed: missing API key: send the header "
        "'Authorization: Bearer <key>'; set WAFER_API_KEY or pass "
        "api_key= (HTTP 401)"
    )


def test_unknown_model(client: WaferClient) -> None:
    with pytest.raises(NotFound) as info:
        client.completions("GLM-5.1", [1, 2], max_tokens=1)
    assert str(info.value) == (
        "not found: model 'GLM-5.1' does not exist; this server serves "
        "'SmolLM2-135M-Instruct' (HTTP 404)"
    )
    assert info.value.param == "model"


def test_grammar_rejected_by_the_server(client: WaferClient, local_server: Any) -> None:
    with pytest.raises(GrammarRejected) as info:
        client.completions(local_server.model, [1, 2], grammar="root ::= missing", max_tokens=1)
    assert info.value.param == "ebnf" and info.value.status == 400
    assert str(info.value).startswith("the server rejected the grammar: invalid grammar: ")


def test_unsupported_parameter_names_it(client: WaferClient, local_server: Any) -> None:
    with pytest.raises(BadRequest) as info:
        client.completions(local_server.model, [1, 2], max_tokens=1, min_tokens=1)
    assert info.value.param == "min_tokens"
    assert str(info.value) == (
        "invalid request (parameter 'min_tokens'): unsupported parameter 'min_tokens': the local engine "
        "does not implement it (Wafer refuses what it would not honour) (HTTP 400)"
    )
    # the card says the model does not reason: refused locally, nothing sent
    local_server.clear()
    with pytest.raises(ThinkingUnsupported):
        client.chat(local_server.model, QUESTION, max_tokens=1, reasoning_effort="low")
    assert [r.path for r in local_server.requests()] == ["/v1/models"]  # the card, then no call


def test_context_length_server_side_then_locally(client: WaferClient, local_server: Any) -> None:
    with pytest.raises(ServerContextLengthExceeded) as info:
        client.completions(local_server.model, [1, 2, 3], max_tokens=8190)
    assert (info.value.prompt_tokens, info.value.max_tokens, info.value.max_model_len) == (
        3,
        8190,
        8192,
    )
    assert info.value.param == "prompt"
    client.models()  # with the card cached, the same request is refused without a round trip
    fresh_log(local_server)
    with pytest.raises(ContextLengthExceeded) as local:
        client.completions(local_server.model, [1, 2, 3], max_tokens=8190)
    assert not isinstance(local.value, ServerContextLengthExceeded)
    assert paths(local_server) == []


def test_zdr_accepted_for_a_model_that_supports_it(client: WaferClient, local_server: Any) -> None:
    # The local card says zdr_supported: true (nothing leaves the machine); the refusal
    # path for a card without it is tested in test_client_sans_io.py.
    fresh_log(local_server)
    answer = client.completions(local_server.model, [1, 2], max_tokens=1, zdr=True)
    assert answer.choices[0].finish_reason in ("stop", "length")
    assert ("POST", "/v1/completions", 200) in paths(local_server)


def test_unknown_keyword_is_a_type_error(client: WaferClient, local_server: Any) -> None:
    with pytest.raises(TypeError) as info:
        client.completions(local_server.model, [1], max_token=3)  # type: ignore[call-arg]
    assert str(info.value) == "completions() got an unexpected keyword argument 'max_token'"


def test_cost_from_the_card(client: WaferClient, local_server: Any) -> None:
    answer = client.completions(local_server.model, [1, 2], max_tokens=1)
    cost = client.cost(answer)  # the local card prices everything at zero
    assert (cost.input_cents, cost.cached_cents, cost.output_cents) == (0, 0, 0)
    assert cost.dollars == 0


class Recording(httpx.BaseTransport):
    """A real transport that also keeps what went over the wire (not a mock)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_transport_seam_and_connection_reuse(local_server: Any) -> None:
    transport = Recording()
    with WaferClient(
        base_url=local_server.base_url,
        api_key=local_server.api_key,
        transport=transport,
        headers={"X-Team": "search"},
    ) as seamed:
        seamed.completions(local_server.model, [1, 2], max_tokens=1)
        seamed.completions(local_server.model, [1, 2], max_tokens=1)
    first = transport.sent[0]
    assert first.headers["authorization"] == f"Bearer {local_server.api_key}"
    assert first.headers["x-team"] == "search"
    assert first.headers["user-agent"].startswith("wafer-grammar/")
    assert len(transport.sent) == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_after_bounded_retries() -> None:
    port = free_port()
    policy = RetryPolicy(max_retries=2, initial_delay=0.01, max_delay=0.01)
    with (
        WaferClient(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", retry=policy) as gone,
        pytest.raises(ConnectionFailed) as info,
    ):
        gone.models()
    assert info.value.attempts == 3
    assert str(info.value).startswith(f"cannot connect to http://127.0.0.1:{port}/v1/models: ")
