"""The local server's front door: lengths, keys, timeouts, limits and hang-ups, over raw sockets.

"Refused before the body was read" is shown structurally: the answer comes while
the client has sent only its headers (a server that waited for the body would
never answer; the client's generous timeout would fail the test instead).
"""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from local_support import MODEL, call, error_of

from wafer_grammar.errors import InvalidRequest
from wafer_grammar.local import LocalServer
from wafer_grammar.local.connection import MAX_BODY, Timeouts
from wafer_grammar.local.engine_config import EngineConfig
from wafer_grammar.local.engine_results import (
    EngineChoice,
    EngineCompletion,
    EngineDelta,
    EngineUsage,
)
from wafer_grammar.local.json_limits import MAX_JSON_DEPTH
from wafer_grammar.local.pytest_fixtures import LocalServerHandle

PATIENCE = 30.0  # seconds a client waits before the test fails: far beyond any real answer


def connect(base_url: str) -> socket.socket:
    host, port = base_url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=PATIENCE)


def head(
    path: str, length: str | None, *, key: str | None = None, extra: dict[str, str] | None = None
) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: localhost", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if key is not None:
        lines.append(f"Authorization: Bearer {key}")
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes ``sock`` (reads to end of stream) within PATIENCE."""
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def rss() -> int:
    """This process's resident memory in bytes (the server runs in it)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def body(**fields: Any) -> dict[str, Any]:
    return {"model": MODEL, **fields}


# ---------------------------------------------------------------- Content-Length and the key


@pytest.mark.parametrize("length", ["-1", "abc", "+5", "1_0", "0x10", "5 5", "5.0", ""])
def test_malformed_content_length_is_refused_before_the_body(
    local_server: LocalServerHandle, length: str
) -> None:
    with connect(local_server.base_url) as sock:
        sock.sendall(head("/v1/completions", length, key=local_server.api_key))
        status, headers, data = answer(sock)
        assert status == 400
        assert headers["connection"] == "close"
        message = json.loads(data)["error"]["message"]
        assert message == f"Content-Length must be a number of bytes (0 or more), not {length!r}"
        assert closed_by_server(sock)


def test_different_content_lengths_are_refused(local_server: LocalServerHandle) -> None:
    with connect(local_server.base_url) as sock:
        extra = {"Content-Length": "3"}
        sock.sendall(head("/v1/completions", "2", key=local_server.api_key, extra=extra))
        status, _, data = answer(sock)
    assert status == 400
    assert json.loads(data)["error"]["message"] == (
        "the request has several different Content-Length headers"
    )


def test_chunked_body_is_refused(local_server: LocalServerHandle) -> None:
    with connect(local_server.base_url) as sock:
        extra = {"Transfer-Encoding": "chunked"}
        sock.sendall(head("/v1/completions", None, key=local_server.api_key, extra=extra))
        status, _, data = answer(sock)
    assert status == 411
    assert json.loads(data)["error"]["code"] == "length_required"


def test_too_large_a_body_is_refused_before_it_is_sent(local_server: LocalServerHandle) -> None:
    with connect(local_server.base_url) as sock:
        sock.sendall(head("/v1/completions", str(MAX_BODY + 1), key=local_server.api_key))
        status, _, data = answer(sock)
    assert status == 413
    assert json.loads(data)["error"]["code"] == "request_too_large"


@pytest.mark.parametrize("key", [None, "wrong"])
def test_key_is_checked_before_the_body(local_server: LocalServerHandle, key: str | None) -> None:
    with connect(local_server.base_url) as sock:
        sock.sendall(head("/v1/completions", str(MAX_BODY), key=key))
        status, headers, data = answer(sock)
        assert status == 401
        assert headers["connection"] == "close"
        assert json.loads(data)["error"]["code"] in ("missing_api_key", "invalid_api_key")
        assert closed_by_server(sock)


def test_refused_with_the_body_already_sent_the_client_still_reads_the_answer(
    local_server: LocalServerHandle,
) -> None:
    # The unread body is dropped before closing: closing over unread input would
    # reset the connection, which can destroy the answer before the client reads it.
    for _ in range(20):
        reply = call(
            local_server.base_url,
            "POST",
            "/v1/completions",
            raw=b'{"prompt": "' + b"x" * 200_000 + b'"}',
            key="wrong",
        )
        assert reply.status == 401


def test_100_continue_comes_only_after_the_key(local_server: LocalServerHandle) -> None:
    data = json.dumps(body(prompt=[1], max_tokens=1)).encode()
    with connect(local_server.base_url) as sock:
        sock.sendall(head("/v1/completions", str(len(data)), extra={"Expect": "100-continue"}))
        status, _, _ = answer(sock)  # not a "100 Continue": the body was never asked for
        assert status == 401
    with connect(local_server.base_url) as sock:
        expect = {"Expect": "100-continue"}
        sock.sendall(
            head("/v1/completions", str(len(data)), key=local_server.api_key, extra=expect)
        )
        assert sock.recv(25) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(data)
        status, _, _ = answer(sock)
        assert status == 200


def test_negative_length_with_a_stream_behind_it_leaves_memory_unchanged(
    local_server: LocalServerHandle,
) -> None:
    # The measured problem: Content-Length -1 read the body to the end of the stream.
    chunk = b"x" * (1 << 20)
    before = rss()
    with connect(local_server.base_url) as sock:
        sock.sendall(head("/v1/completions", "-1", key=local_server.api_key))

        def flood() -> None:
            try:
                for _ in range(96):
                    sock.sendall(chunk)
            except OSError:
                pass  # the server stopped reading and closed: what it should do

        sender = threading.Thread(target=flood)
        sender.start()
        status, _, _ = answer(sock)
        sender.join(PATIENCE)
    assert status == 400
    assert rss() - before < 48 * (1 << 20)  # 96 MiB went (or tried to go) in


# ---------------------------------------------------------------- text too long to fit


@pytest.fixture
def no_tokenizing(local_server: LocalServerHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the text was tokenized")

    tokenizer = local_server.server.engine.tokenizer
    monkeypatch.setattr(tokenizer, "encode", refuse)
    monkeypatch.setattr(tokenizer, "encode_chat", refuse)


def fits_no_more(local_server: LocalServerHandle) -> int:
    """Characters beyond which no text fits the context (the longest token's, times it)."""
    server = local_server.server
    tokenizer = server.engine.tokenizer
    longest = max(len(tokenizer.token_bytes(i)) for i in range(tokenizer.vocab_size))
    return longest * server.engine.config.max_model_len


@pytest.mark.usefixtures("no_tokenizing")
def test_overlong_text_prompt_is_refused_without_tokenizing(
    local_server: LocalServerHandle,
) -> None:
    chars = fits_no_more(local_server)  # plus max_tokens=16: cannot fit
    reply = call(
        local_server.base_url,
        "POST",
        "/v1/completions",
        body(prompt="a" * chars, max_tokens=16),
        key=local_server.api_key,
    )
    assert reply.status == 400
    err = error_of(reply)
    assert (err["code"], err["param"]) == ("context_length_exceeded", "prompt")
    assert err["message"] == (
        f"prompt of {chars} characters is at least 8192 tokens (no token of "
        "SmolLM2-135M-Instruct stands for more than 81 characters), which with "
        "max_tokens=16 exceeds the model's context of 8192 tokens; shorten the prompt"
    )


@pytest.mark.usefixtures("no_tokenizing")
def test_overlong_chat_is_refused_without_tokenizing(local_server: LocalServerHandle) -> None:
    half = fits_no_more(local_server) // 2 + 1
    messages = [{"role": "user", "content": "a" * half}, {"role": "user", "content": "b" * half}]
    for path, extra in (("/v1/chat/completions", {}), ("/v1/messages", {"max_tokens": 1})):
        reply = call(
            local_server.base_url,
            "POST",
            path,
            body(messages=messages, **extra),
            key=local_server.api_key,
        )
        assert reply.status == 400
        assert "is at least 8193 tokens" in reply.body.decode()


@pytest.mark.usefixtures("no_tokenizing")
def test_huge_text_prompt_costs_no_memory(local_server: LocalServerHandle) -> None:
    # The measured problem: 16 MB took 83 s and 5.45 GB before the refusal.
    data = json.dumps(body(prompt="a" * (MAX_BODY - 1024))).encode()
    before = rss()
    reply = call(
        local_server.base_url, "POST", "/v1/completions", raw=data, key=local_server.api_key
    )
    assert reply.status == 400
    assert error_of(reply)["code"] == "context_length_exceeded"
    assert rss() - before < 256 * (1 << 20)


def test_long_text_that_fits_is_not_refused(local_server: LocalServerHandle) -> None:
    # Nine characters a token on average, and it fits: the bound is the longest token's.
    text = "#" * 80 * 1000 + "\n"
    assert len(local_server.server.engine.tokenizer.encode(text)) < 8192 - 1 < len(text) // 9
    reply = call(
        local_server.base_url,
        "POST",
        "/v1/completions",
        body(prompt=text, max_tokens=1),
        key=local_server.api_key,
    )
    assert reply.status == 200, reply.body


def test_overlong_token_id_prompt_is_refused_before_its_ids_are_checked(
    local_server: LocalServerHandle,
) -> None:
    reply = call(
        local_server.base_url,
        "POST",
        "/v1/completions",
        body(prompt=[10**9] * 8193),
        key=local_server.api_key,
    )
    assert reply.status == 400
    assert error_of(reply)["code"] == "context_length_exceeded"


# ---------------------------------------------------------------- surrogates and depth


@pytest.mark.parametrize(
    ("path", "raw", "param", "where"),
    [
        ("/v1/completions", b'{"model": "M", "prompt": "ab\\ud800"}', "prompt", "prompt"),
        (
            "/v1/chat/completions",
            b'{"model": "M", "messages": [{"role": "user", "content": "\\udfff"}]}',
            "messages",
            "messages[0].content",
        ),
    ],
)
def test_lone_surrogate_is_a_400_that_says_where(
    local_server: LocalServerHandle, path: str, raw: bytes, param: str, where: str
) -> None:
    reply = call(local_server.base_url, "POST", path, raw=raw, key=local_server.api_key)
    assert reply.status == 400
    err = error_of(reply)
    assert err["param"] == param
    assert err["message"].startswith(f"{where} holds a lone surrogate (\\u")
    assert "which is not Unicode text" in err["message"]


def test_lone_surrogate_in_a_key_and_on_messages(local_server: LocalServerHandle) -> None:
    raw = b'{"model": "M", "max_tokens": 1, "messages": [{"role": "user", "\\ud83d": "x"}]}'
    reply = call(local_server.base_url, "POST", "/v1/messages", raw=raw, key=local_server.api_key)
    assert reply.status == 400
    doc = reply.json()
    assert doc["type"] == "error"  # Anthropic's shape
    assert doc["error"]["message"].startswith("a key in messages[0] holds a lone surrogate")


def test_surrogate_pair_is_text(local_server: LocalServerHandle) -> None:
    raw = b'{"model": "%s", "prompt": "\\ud83d\\ude00", "max_tokens": 1}' % MODEL.encode()
    reply = call(
        local_server.base_url, "POST", "/v1/completions", raw=raw, key=local_server.api_key
    )
    assert reply.status == 200, reply.body


def schema_body(levels: int) -> bytes:
    """A chat body whose response_format schema nests ``levels`` deep (built as bytes:
    json.dumps itself cannot write 1,000 levels)."""
    schema = b'{"type": "object", "properties": {"a": ' * levels + b'{"type": "string"}'
    schema += b"}}" * levels
    chat = json.dumps(body(messages=[{"role": "user", "content": "hi"}], response_format=0))
    raw = chat.replace(
        '"response_format": 0',
        '"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": @}}',
    ).encode()
    return raw.replace(b"@", schema)


def test_deep_json_schema_is_a_400(local_server: LocalServerHandle) -> None:
    raw = schema_body(500)  # 1,000 levels of JSON: deeper than json.loads goes
    reply = call(
        local_server.base_url, "POST", "/v1/chat/completions", raw=raw, key=local_server.api_key
    )
    assert reply.status == 400
    err = error_of(reply)
    assert err["param"] == "response_format"
    assert err["message"] == (
        f"the request body nests objects and arrays more than {MAX_JSON_DEPTH} levels deep "
        f"(in response_format); at most {MAX_JSON_DEPTH} are accepted"
    )


def test_json_schema_over_the_depth_limit_is_a_400_naming_the_path(
    local_server: LocalServerHandle,
) -> None:
    raw = schema_body(60)  # 3 + 120 levels: json.loads reads it, the limit refuses it
    reply = call(
        local_server.base_url, "POST", "/v1/chat/completions", raw=raw, key=local_server.api_key
    )
    assert reply.status == 400
    err = error_of(reply)
    assert err["param"] == "response_format"
    assert err["message"] == (
        f"the request body nests objects and arrays more than {MAX_JSON_DEPTH} levels deep "
        "(at response_format.json_schema.schema.properties.a.properties.a.properties... "
        f"({MAX_JSON_DEPTH - 8} more levels)); at most {MAX_JSON_DEPTH} are accepted"
    )


def test_json_deeper_than_the_parser_goes_is_a_400(local_server: LocalServerHandle) -> None:
    raw = b'{"model": "M", "prompt": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    reply = call(
        local_server.base_url, "POST", "/v1/completions", raw=raw, key=local_server.api_key
    )
    assert reply.status == 400
    assert error_of(reply)["param"] == "prompt"


# ---------------------------------------------------------------- 429 says when to retry


def test_a_full_queue_answers_429_with_retry_after(
    local_server: LocalServerHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: Any, **kwargs: Any) -> Any:
        raise InvalidRequest("the queue is full", code="rate_limit_exceeded", status=429)

    monkeypatch.setattr(local_server.server.engine, "submit", full)
    chat = body(messages=[{"role": "user", "content": "hi"}], max_tokens=1)
    for path, stream in (
        ("/v1/completions", False),
        ("/v1/chat/completions", True),
        ("/v1/messages", False),
    ):
        request = body(prompt=[1], max_tokens=1) if path == "/v1/completions" else chat
        reply = call(
            local_server.base_url,
            "POST",
            path,
            {**request, "stream": stream},
            key=local_server.api_key,
        )
        assert reply.status == 429
        assert reply.headers["retry-after"] == "1"
        doc = reply.json()
        kind = doc["error"]["type"]
        assert kind == "rate_limit_error"
        assert doc["error"]["message"] == "the queue is full"


# ---------------------------------------------------------------- hang-ups cancel


class BlockedGeneration:
    """Stands in for a generation that would decode for a long time (one delta, then
    nothing until it is cancelled)."""

    prompt_tokens = 1

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.usage: EngineUsage | None = None

    def cancel(self) -> None:
        self.cancelled.set()

    def __iter__(self) -> Iterator[EngineDelta]:
        yield EngineDelta(0, "Hello", (1,))
        self.cancelled.wait(PATIENCE)
        self.usage = EngineUsage(1, 1)

    def result(self) -> EngineCompletion:
        self.cancelled.wait(PATIENCE)
        return EngineCompletion([EngineChoice(0)], EngineUsage(1, 0), [1])


@pytest.fixture
def blocked(
    local_server: LocalServerHandle, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BlockedGeneration]:
    generation = BlockedGeneration()
    monkeypatch.setattr(local_server.server.engine, "submit", lambda *a, **k: generation)
    yield generation
    generation.cancel()  # frees the handler thread whatever happened


def request_bytes(local_server: LocalServerHandle, **fields: Any) -> bytes:
    data = json.dumps(body(prompt=[1], max_tokens=100, **fields)).encode()
    return head("/v1/completions", str(len(data)), key=local_server.api_key) + data


def test_client_hanging_up_cancels_a_whole_completion(
    local_server: LocalServerHandle, blocked: BlockedGeneration
) -> None:
    sock = connect(local_server.base_url)
    sock.sendall(request_bytes(local_server))
    sock.close()  # the request is in the server's socket buffer: it is still served
    assert blocked.cancelled.wait(PATIENCE)


def test_client_hanging_up_between_stream_events_cancels(
    local_server: LocalServerHandle, blocked: BlockedGeneration
) -> None:
    sock = connect(local_server.base_url)
    sock.sendall(request_bytes(local_server, stream=True))
    seen = b""
    while b"Hello" not in seen:  # the first event is in: the stream is waiting for the next
        seen += sock.recv(4096)
    assert not blocked.cancelled.is_set()
    sock.close()
    assert blocked.cancelled.wait(PATIENCE)


def test_a_client_that_stays_is_not_cancelled(
    local_server: LocalServerHandle, blocked: BlockedGeneration
) -> None:
    with connect(local_server.base_url) as sock:
        sock.sendall(request_bytes(local_server))
        assert not blocked.cancelled.wait(1.0)


class FloodingGeneration(BlockedGeneration):
    """Deltas of 64 KiB as fast as they can be taken, until cancelled."""

    def __iter__(self) -> Iterator[EngineDelta]:
        while not self.cancelled.is_set():
            yield EngineDelta(0, "x" * 65536, (1,))
        self.usage = EngineUsage(1, 1)


def test_a_stream_nobody_reads_is_cancelled(
    local_server: LocalServerHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    generation = FloodingGeneration()
    monkeypatch.setattr(local_server.server.engine, "submit", lambda *a, **k: generation)
    httpd = local_server.server._httpd
    monkeypatch.setattr(httpd, "timeouts", Timeouts(write=0.5))
    try:
        with connect(local_server.base_url) as sock:
            sock.sendall(request_bytes(local_server, stream=True))
            assert generation.cancelled.wait(PATIENCE)  # the client reads nothing, ever
    finally:
        generation.cancel()


# ---------------------------------------------------------------- timeouts


class IdleEngine:
    """An engine that is never asked to decode (the requests here end at the door)."""

    config = EngineConfig()

    def start(self) -> IdleEngine:
        return self

    def close(self, timeout: float | None = None) -> None:
        return None


@pytest.fixture(scope="module")
def impatient() -> Iterator[LocalServer]:
    server = LocalServer(
        IdleEngine(),  # type: ignore[arg-type]
        port=0,
        idle_timeout=0.3,
        header_timeout=0.5,
        body_timeout=0.5,
    )
    with server:
        yield server


def test_a_silent_connection_is_dropped(impatient: LocalServer) -> None:
    with connect(impatient.base_url) as sock:
        assert closed_by_server(sock)


def test_an_idle_kept_alive_connection_is_dropped(impatient: LocalServer) -> None:
    with connect(impatient.base_url) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, _ = answer(sock)
        assert status == 200 and "connection" not in headers  # kept alive...
        assert closed_by_server(sock)  # ...until idle too long


def trickle(sock: socket.socket, start: bytes) -> bytes:
    """Send ``start``, then a byte every 50 ms (never finishing) until the server
    answers or closes; what it sent back."""
    sock.sendall(start)
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], 0.05)
        if readable:
            got = b""
            try:
                while chunk := sock.recv(65536):
                    got += chunk
            except ConnectionResetError:
                pass
            return got
        try:
            sock.sendall(b"a")
        except OSError:
            return b""
    raise AssertionError("the server waited on the slow client")


def test_headers_sent_too_slowly_are_dropped(impatient: LocalServer) -> None:
    with connect(impatient.base_url) as sock:
        assert trickle(sock, b"GET /health HTTP/1.1\r\nX-Slow: ") == b""


def test_a_body_sent_too_slowly_is_a_408(impatient: LocalServer) -> None:
    with connect(impatient.base_url) as sock:
        got = trickle(sock, head("/v1/completions", "1000") + b'{"prompt": "')
    assert got.startswith(b"HTTP/1.1 408 ")
    assert b"the request body did not arrive within 0.5 s" in got


def test_the_backlog_holds_the_queue(impatient: LocalServer) -> None:
    config = impatient.engine.config
    with socket.create_connection(("127.0.0.1", impatient.port)):
        pass
    assert impatient.backlog == max(128, config.max_queued + config.max_batch)
