"""The wire shapes of the issue's own examples, captured through a transport of the user's."""

from __future__ import annotations

import json
from typing import Any

import httpx

from wafer_grammar import Grammar
from wafer_grammar.client import WaferClient

CARDS = {
    "object": "list",
    "data": [
        {
            "id": model,
            "object": "model",
            "owned_by": "wafer",
            "max_model_len": 262144,
            "zdr_supported": True,
            "wafer": {"capabilities": {"tools": True, "reasoning": True, "vision": False}},
        }
        for model in ("GLM-5.1", "SmolLM2-135M-Instruct")
    ],
}


def capture() -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json=CARDS)
        body: dict[str, Any] = json.loads(request.content)
        usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
        if request.url.path.endswith("/chat/completions"):
            message = {"role": "assistant", "content": "ok"}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return httpx.Response(
                200,
                json={"id": "c", "object": "chat.completion", "model": body["model"],
                      "choices": [choice], "usage": usage},
            )  # fmt: skip
        choice = {"index": 0, "text": "A", "finish_reason": "stop"}
        return httpx.Response(
            200,
            json={"id": "c", "object": "text_completion", "model": body["model"],
                  "choices": [choice], "usage": usage},
        )  # fmt: skip

    return seen, httpx.MockTransport(answer)


def test_thinking_true_goes_out_as_documented() -> None:
    seen, transport = capture()
    with WaferClient(base_url="https://w.test/v1", api_key="k", transport=transport) as client:
        client.chat("GLM-5.1", [{"role": "user", "content": "hi"}], thinking=True)
    body = json.loads(seen[-1].content)
    assert seen[-1].url.path == "/v1/chat/completions"
    assert body["thinking"] == {"type": "enabled"}
    assert "chat_template_kwargs" not in body


def test_a_chat_grammar_goes_out_as_token_ids_to_completions() -> None:
    seen, transport = capture()
    grammar = Grammar.from_ebnf('root ::= "A" | "B"')
    with WaferClient(base_url="https://w.test/v1", api_key="k", transport=transport) as client:
        answer = client.chat(
            "SmolLM2-135M-Instruct", [{"role": "user", "content": "A or B?"}], grammar=grammar
        )
    assert answer.text == "A"
    request = seen[-1]
    body = json.loads(request.content)
    assert (request.method, request.url.path) == ("POST", "/v1/completions")
    assert isinstance(body["prompt"], list) and all(isinstance(t, int) for t in body["prompt"])
    assert body["ebnf"] == grammar.to_ebnf()
    assert "messages" not in body
