"""Server profiles: the grammar in each server's own field, and a loud error when it is ignored.

Each profile's field is the one its server documents:
- Wafer: ``ebnf`` on ``POST /v1/completions`` (../shared/seed, "Text Completions").
- SGLang: ``ebnf`` in the request body, completions and chat (SGLang docs,
  "Structured Outputs": ``extra_body={"ebnf": ...}``).
- vLLM >= 0.12.0: ``structured_outputs: {"grammar": ...}`` (vLLM docs, "Structured
  Outputs"; ``guided_grammar`` was removed in v0.12.0).
- llama.cpp ``llama-server``: ``grammar``, a GBNF string (tools/server/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from wafer_grammar import Grammar
from wafer_grammar.client import WaferClient
from wafer_grammar.client.profiles import PROFILES, detect, profile_named
from wafer_grammar.errors import ConstraintViolation, GrammarIgnored, TruncatedOutput

GRAMMAR = Grammar.from_ebnf('root ::= "yes" | "no"')
MODEL = "some-model"


def completion(text: str, finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "cmpl-1",
        "object": "text_completion",
        "model": MODEL,
        "choices": [{"index": 0, "text": text, "finish_reason": finish}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }


def chat(text: str, finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "chat-1",
        "object": "chat.completion",
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }


class Recorder:
    """An httpx transport that records each request and answers from ``reply``."""

    def __init__(
        self,
        reply: Callable[[httpx.Request], dict[str, Any]],
        *,
        owned_by: str = "wafer",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.reply = reply
        self.owned_by = owned_by
        self.headers = headers or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/models"):
            cards = {"object": "list", "data": [{"id": MODEL, "owned_by": self.owned_by}]}
            return httpx.Response(200, json=cards, headers=self.headers)
        return httpx.Response(200, json=self.reply(request), headers=self.headers)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.method == "POST"]


def client_for(recorder: Recorder, server: str) -> WaferClient:
    return WaferClient(
        base_url="http://server.test/v1",
        api_key="k",
        server=server,
        transport=httpx.MockTransport(recorder),
    )


@pytest.mark.parametrize(
    ("server", "field"),
    [
        ("wafer", {"ebnf": GRAMMAR.to_ebnf()}),
        ("sglang", {"ebnf": GRAMMAR.to_ebnf()}),
        ("vllm", {"structured_outputs": {"grammar": GRAMMAR.to_ebnf()}}),
        ("llamacpp", {"grammar": GRAMMAR.to_gbnf()}),
    ],
)
def test_each_profile_sends_the_grammar_in_its_servers_field(
    server: str, field: dict[str, Any]
) -> None:
    recorder = Recorder(lambda r: completion("yes"))
    with client_for(recorder, server) as client:
        answer = client.completions(MODEL, [1, 2, 3], grammar=GRAMMAR, max_tokens=2)
    assert answer.text == "yes"
    (body,) = recorder.bodies()
    assert body == {"model": MODEL, "prompt": [1, 2, 3], "max_tokens": 2, **field}


def test_self_hosted_chat_takes_the_grammar_on_chat_itself() -> None:
    recorder = Recorder(lambda r: chat("no"))
    with client_for(recorder, "vllm") as client:
        answer = client.chat(MODEL, [{"role": "user", "content": "?"}], grammar=GRAMMAR)
    assert answer.text == "no"
    assert [r.url.path for r in recorder.requests] == ["/v1/chat/completions"]
    assert recorder.bodies()[0]["structured_outputs"] == {"grammar": GRAMMAR.to_ebnf()}


@pytest.mark.parametrize(
    ("owned_by", "headers", "expected"),
    [
        ("vllm", {}, "vllm"),
        ("sglang", {}, "sglang"),
        ("llamacpp", {}, "llamacpp"),
        ("wafer", {}, "wafer"),
        ("someone", {"Server": "llama.cpp"}, "llamacpp"),
        ("someone", {}, "wafer"),
    ],
)
def test_auto_detects_the_server_from_its_cards(
    owned_by: str, headers: dict[str, str], expected: str
) -> None:
    recorder = Recorder(lambda r: completion("yes"), owned_by=owned_by, headers=headers)
    with client_for(recorder, "auto") as client:
        client.completions(MODEL, [1], grammar=GRAMMAR, max_tokens=2)
        assert client.profile.name == expected
    assert [r.url.path for r in recorder.requests] == ["/v1/models", "/v1/completions"]


def test_detect_reads_owned_by_then_the_server_header() -> None:
    assert detect({"data": [{"id": "m", "owned_by": "vllm"}]}, {}) == PROFILES["vllm"]
    assert detect({"data": []}, {"server": "llama.cpp"}) == PROFILES["llamacpp"]
    assert detect("not a card list", {}) is None


def test_an_unknown_server_name_is_refused() -> None:
    with pytest.raises(ValueError) as info:
        profile_named("tgi")
    assert str(info.value) == "server must be one of wafer, sglang, vllm, llamacpp, auto, not 'tgi'"
    with pytest.raises(ValueError):
        WaferClient(base_url="http://server.test/v1", server="tgi")


@pytest.mark.parametrize("server", ["vllm", "llamacpp", "wafer"])
def test_an_answer_that_ignored_the_grammar_raises_grammar_ignored(server: str) -> None:
    recorder = Recorder(lambda r: completion("Sure! The answer is yes."))
    with client_for(recorder, server) as client, pytest.raises(GrammarIgnored) as info:
        client.completions(MODEL, [1, 2], grammar=GRAMMAR, max_tokens=8)
    error = info.value
    assert isinstance(error, ConstraintViolation)  # still caught as a violation
    assert (error.server, error.field) == (server, PROFILES[server].grammar_field)
    assert str(error).startswith(
        "grammar layer: the server ignored the grammar: the answer ended normally outside it "
        f"(profile {server!r}, grammar sent as {PROFILES[server].grammar_field!r}; pick the "
        "profile that matches the server, WaferClient(server=...)): "
    )
    assert error.offset == 0


def _events(*texts: str) -> str:
    chunks = [
        '{"id":"c","object":"text_completion","model":"m","choices":'
        f'[{{"index":0,"text":{json.dumps(t)},"finish_reason":null}}]}}'
        for t in texts
    ]
    chunks.append(
        '{"id":"c","object":"text_completion","model":"m","choices":'
        '[{"index":0,"text":"","finish_reason":"stop"}]}'
    )
    return "".join(f"data: {c}\n\n" for c in chunks) + "data: [DONE]\n\n"


def _streaming(events: str) -> WaferClient:
    def transport(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=events, headers={"content-type": "text/event-stream"})

    return WaferClient(
        base_url="http://server.test/v1", server="vllm", transport=httpx.MockTransport(transport)
    )


def test_a_streamed_answer_is_checked_too() -> None:
    # Each chunk is a prefix of "yes", but the answer stops short: ignored at the end.
    with _streaming(_events("y", "e")) as client:
        stream = client.stream_completions(MODEL, [1], grammar=GRAMMAR, max_tokens=2)
        with pytest.raises(GrammarIgnored):
            stream.final()


def test_a_stream_leaving_the_grammar_raises_at_that_chunk() -> None:
    with _streaming(_events("n", "ay", "be")) as client:
        stream = client.stream_completions(MODEL, [1], grammar=GRAMMAR, max_tokens=2)
        seen = []
        with pytest.raises(ConstraintViolation) as info:
            for chunk in stream:
                seen.append(chunk.choices[0].text)
    assert seen == ["n"]  # the second chunk never reached the caller
    error = info.value
    assert not isinstance(error, GrammarIgnored)
    assert (error.offset, error.line, error.column) == (1, 1, 2)
    assert error.expected == ['"o"']
    assert str(error) == (
        "grammar layer: the server returned text outside the grammar (its grammar engine "
        "and ours disagree; report it with the grammar and this text): "
        'line 1, column 2: unexpected "a"; expected "o"\n  na\n   ^'
    )


def test_truncated_or_stopped_by_a_stop_string_is_not_called_ignored() -> None:
    recorder = Recorder(lambda r: completion("Sure", finish="length"))
    with client_for(recorder, "vllm") as client:
        answer = client.completions(MODEL, [1], grammar=GRAMMAR, max_tokens=1)
        assert answer.choices[0].finish_reason == "length"  # decode() reports truncation
        from wafer_grammar import decode

        with pytest.raises(TruncatedOutput):
            decode(answer, GRAMMAR)
        cut = Recorder(lambda r: completion("ye"))
    with client_for(cut, "vllm") as client:
        client.completions(MODEL, [1], grammar=GRAMMAR, max_tokens=4, stop=["s"])


def test_zdr_is_moot_on_a_self_hosted_server() -> None:
    recorder = Recorder(lambda r: completion("yes"))
    with client_for(recorder, "sglang") as client:
        client.completions(MODEL, [1], grammar=GRAMMAR, max_tokens=2, zdr=True)
    assert "wafer-zdr" not in recorder.requests[-1].headers
    assert [r.url.path for r in recorder.requests] == ["/v1/completions"]  # no card check


def _one_step(top: dict[str, float]) -> Callable[[httpx.Request], dict[str, Any]]:
    first = next(iter(top))
    return lambda request: {
        "id": "c",
        "object": "text_completion",
        "model": "SmolLM2-135M-Instruct",
        "choices": [
            {
                "index": 0,
                "text": first,
                "finish_reason": "length",
                "logprobs": {
                    "tokens": [first],
                    "token_logprobs": [top[first]],
                    "top_logprobs": [top],
                    "text_offset": [0],
                },
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }


def test_label_distribution_refuses_unmasked_logprobs_when_the_server_masks() -> None:
    import math

    from wafer_grammar import UnmaskedLogprobs, label_distribution

    top = {"yes": math.log(0.5), "Sure": math.log(0.4), "no": math.log(0.1)}
    recorder = Recorder(_one_step(top))
    with client_for(recorder, "wafer") as client, pytest.raises(UnmaskedLogprobs) as info:
        label_distribution(client, "SmolLM2-135M-Instruct", [1, 2], ["yes", "no"])
    assert "'Sure'" in str(info.value)
    # a server that reports logprobs before the mask (vLLM): renormalised over the labels
    with client_for(Recorder(_one_step(top)), "vllm") as client:
        found = label_distribution(client, "SmolLM2-135M-Instruct", [1, 2], ["yes", "no"])
    assert abs(found.probabilities["yes"] - 0.5 / 0.6) < 1e-9
    assert abs(found.probabilities["no"] - 0.1 / 0.6) < 1e-9
