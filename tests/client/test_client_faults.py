"""Every fault the local server injects ends in success after a retry or in the typed error;
and the API key never shows up in any message, repr, log record or exception on the way.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from client_support import FAST, GRAMMAR, QUESTION, uncached

from wafer_grammar.client import AsyncWaferClient, Usage, WaferClient
from wafer_grammar.errors import (
    APIError,
    ConnectionFailed,
    MalformedResponse,
    RateLimited,
    RequestTimeout,
    ServerError,
)
from wafer_grammar.local.faults import Fault

PROMPT = [1, 9690, 28, 2]
MODES = ("completions", "stream_completions", "chat", "stream_chat")

# fault -> what the caller sees, for whole answers and for streams ("ok": success after retry)
MATRIX: dict[str, tuple[Callable[[], Fault], object, object]] = {
    "429": (lambda: Fault.rate_limit(None), "ok", "ok"),
    "500": (lambda: Fault.server_error(500), "ok", "ok"),
    "503": (lambda: Fault.server_error(503), "ok", "ok"),
    # no answer in time: see test_a_read_timeout_is_retried and test_no_answer_* below (a
    # read timeout short enough to test could also trip on an honest answer on a loaded
    # machine, so the silence is made certain instead of slow)
    # a cut body is retried; a cut stream is not (chunks were already handed out)
    "cut_stream": (lambda: Fault.cut_stream(1), "ok", ConnectionFailed),
    # a 200 with a broken body is not retried: the request may have been billed
    "malformed_json": (lambda: Fault.malformed_json(1), MalformedResponse, MalformedResponse),
}


def call_sync(client: WaferClient, model: str, mode: str, **extra: Any) -> tuple[str, Usage | None]:
    if mode == "completions":
        whole = client.completions(model, PROMPT, max_tokens=2, temperature=0, **extra)
        return whole.text, uncached(whole.usage)
    if mode == "stream_completions":
        with client.stream_completions(
            model, PROMPT, max_tokens=2, temperature=0, **extra
        ) as stream:
            folded = stream.final()
        return folded.text, uncached(folded.usage)
    if mode == "chat":
        chat = client.chat(model, QUESTION, grammar=GRAMMAR, max_tokens=2, temperature=0, **extra)
        return chat.text, uncached(chat.usage)
    with client.stream_chat(
        model, QUESTION, grammar=GRAMMAR, max_tokens=2, temperature=0, **extra
    ) as chat_stream:
        folded_chat = chat_stream.final()
    return folded_chat.text, uncached(folded_chat.usage)


async def call_async(
    client: AsyncWaferClient, model: str, mode: str, **extra: Any
) -> tuple[str, Usage | None]:
    if mode == "completions":
        whole = await client.completions(model, PROMPT, max_tokens=2, temperature=0, **extra)
        return whole.text, uncached(whole.usage)
    if mode == "stream_completions":
        stream = await client.stream_completions(
            model, PROMPT, max_tokens=2, temperature=0, **extra
        )
        async with stream:
            folded = await stream.final()
        return folded.text, uncached(folded.usage)
    if mode == "chat":
        chat = await client.chat(
            model, QUESTION, grammar=GRAMMAR, max_tokens=2, temperature=0, **extra
        )
        return chat.text, uncached(chat.usage)
    chat_stream = await client.stream_chat(
        model, QUESTION, grammar=GRAMMAR, max_tokens=2, temperature=0, **extra
    )
    async with chat_stream:
        folded_chat = await chat_stream.final()
    return folded_chat.text, uncached(folded_chat.usage)


def texts_of(error: BaseException | None) -> list[str]:
    """Everything an error could show: str, repr, args and fields, down the cause chain."""
    out: list[str] = []
    while error is not None:
        out += [str(error), repr(error), *map(repr, error.args), *map(repr, vars(error).values())]
        error = error.__cause__ or error.__context__
    return out


def assert_key_hidden(key: str, *texts: str) -> None:
    for text in texts:
        assert key not in text


@pytest.fixture(scope="module")
def baseline(local_server_session: Any) -> dict[str, tuple[str, Usage | None]]:
    """Each mode's answer with no fault (greedy decoding: the same every time)."""
    server = local_server_session
    with WaferClient(base_url=server.base_url, api_key=server.api_key) as client:
        return {mode: call_sync(client, server.model, mode) for mode in MODES}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fault", list(MATRIX))
def test_fault_matrix_sync(
    local_server: Any,
    fault: str,
    mode: str,
    baseline: dict[str, tuple[str, Usage | None]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx's and httpcore's included
    make, whole, streamed = MATRIX[fault]
    expected = streamed if mode.startswith("stream") else whole
    local_server.inject(make())
    error: BaseException | None = None
    with WaferClient(
        base_url=local_server.base_url, api_key=local_server.api_key, retry=FAST
    ) as client:
        try:
            result = call_sync(client, local_server.model, mode)
        except APIError as exc:
            error = exc
        texts = [repr(client), repr(client.config), caplog.text, *texts_of(error)]
    if expected == "ok":
        assert error is None
        assert result == baseline[mode]  # same text and usage as without the fault
        assert any(record.msg.startswith("retrying ") for record in caplog.records)
    else:
        assert type(error) is expected
    assert_key_hidden(
        local_server.api_key, *texts, *(record.getMessage() for record in caplog.records)
    )


@pytest.mark.parametrize("mode", ["completions", "stream_chat"])
@pytest.mark.parametrize("fault", list(MATRIX))
def test_fault_matrix_async(
    local_server: Any,
    fault: str,
    mode: str,
    baseline: dict[str, tuple[str, Usage | None]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    make, whole, streamed = MATRIX[fault]
    expected = streamed if mode.startswith("stream") else whole
    local_server.inject(make())

    async def run() -> tuple[tuple[str, Usage | None] | None, BaseException | None, list[str]]:
        async with AsyncWaferClient(
            base_url=local_server.base_url, api_key=local_server.api_key, retry=FAST
        ) as client:
            try:
                got = await call_async(client, local_server.model, mode)
            except APIError as exc:
                return None, exc, [repr(client), *texts_of(exc)]
            return got, None, [repr(client)]

    result, error, texts = asyncio.run(run())
    if expected == "ok":
        assert error is None and result == baseline[mode]
    else:
        assert type(error) is expected
    assert_key_hidden(
        local_server.api_key,
        *texts,
        caplog.text,
        *(record.getMessage() for record in caplog.records),
    )


def test_persistent_failures_raise_after_bounded_retries(local_server: Any) -> None:
    local_server.inject(*(Fault.server_error(500) for _ in range(4)))
    with WaferClient(
        base_url=local_server.base_url, api_key=local_server.api_key, retry=FAST
    ) as client:
        with pytest.raises(ServerError) as info:
            client.completions(local_server.model, PROMPT, max_tokens=1)
        assert info.value.attempts == 4 and info.value.status == 500
        assert str(info.value) == "server error: Internal Server Error (injected fault) (HTTP 500)"
        local_server.inject(*(Fault.rate_limit(None) for _ in range(4)))
        with pytest.raises(RateLimited) as limited:
            client.completions(local_server.model, PROMPT, max_tokens=1)
        assert str(limited.value) == "rate limited: Too Many Requests (injected fault) (HTTP 429)"
        assert limited.value.retry_after is None and limited.value.attempts == 4


def test_retry_after_is_honoured(local_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wafer_grammar.client")
    local_server.inject(Fault.rate_limit(1.0))
    with WaferClient(
        base_url=local_server.base_url, api_key=local_server.api_key, retry=FAST
    ) as client:
        client.models(refresh=True)
    # the wait the client chose (and slept), not FAST's 0.01 s backoff; no clock is read
    (retry,) = [r for r in caplog.records if r.msg.startswith("retrying ")]
    assert retry.getMessage() == (
        "retrying GET /models in 1.00 s (attempt 2 of 4) after RateLimited: rate limited: "
        "Too Many Requests (injected fault); retry after 1 s (HTTP 429)"
    )


def test_retry_after_beyond_the_cap_is_not_waited_for(
    local_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wafer_grammar.client")
    local_server.inject(Fault.rate_limit(30.0))
    policy = FAST.__class__(max_retries=3, initial_delay=0.01, max_retry_after=5.0)
    with (
        WaferClient(
            base_url=local_server.base_url, api_key=local_server.api_key, retry=policy
        ) as client,
        pytest.raises(RateLimited) as info,
    ):
        client.models()
    assert info.value.retry_after == 30.0 and info.value.attempts == 1
    assert not [r for r in caplog.records if r.msg.startswith("retrying ")]  # no wait at all


class FirstReadTimesOut(httpx.BaseTransport):
    """The real transport, but the first request's answer never comes: httpx's ReadTimeout,
    as a socket read past the timeout raises it, with no clock involved."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_a_read_timeout_is_retried(local_server: Any) -> None:
    transport = FirstReadTimesOut()
    with WaferClient(
        base_url=local_server.base_url,
        api_key=local_server.api_key,
        retry=FAST,
        transport=transport,
    ) as client:
        assert [card.id for card in client.models()] == [local_server.model]
    assert transport.calls == 2


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A base URL whose server takes the connection and never answers (the kernel completes
    the handshake; nothing ever reads or writes): a read timeout is certain, not a race."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"


def test_no_answer_without_retries_is_a_timeout(black_hole: str) -> None:
    with (
        WaferClient(
            base_url=black_hole, api_key="k", retry=FAST.__class__(max_retries=0), timeout=0.5
        ) as client,
        pytest.raises(RequestTimeout) as info,
    ):
        client.models()
    assert str(info.value) == f"no answer from {black_hole}/models within the read timeout of 0.5 s"
