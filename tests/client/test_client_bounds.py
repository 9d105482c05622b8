"""What a hostile server sends is bounded: error bodies read up to 64 KB, server text cut in
messages (with the size stated), request ids redacted, redirects reported and never followed,
and no message or log line over 2 KB or holding the key, at INFO and at DEBUG."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from wafer_grammar.client import AsyncWaferClient, RetryPolicy, WaferClient
from wafer_grammar.client.bounded import MAX_ERROR_BODY, ErrorBody, redact
from wafer_grammar.client.errmap import error_from_response
from wafer_grammar.client.logsafe import MAX_LOG_LINE, SafeRecords, clip_bytes
from wafer_grammar.errors import APIError, ServerError, UnexpectedRedirect

KEY = "sk-live-4f9c2b7e1a0d"
MB = 1024 * 1024
FAST = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.001, jitter=0)


def envelope(message: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": "server_error"}}).encode()


# -- sans-I/O: the error's words --------------------------------------------------------------


def test_a_long_message_is_cut_with_its_length() -> None:
    error = error_from_response(500, {}, envelope("a" * 10_000), secret=KEY)
    assert str(error) == f"server error: {'a' * 300}... [cut from 10000 characters] (HTTP 500)"
    assert error.server_message == f"{'a' * 300}... [cut from 10000 characters]"


def test_a_body_beyond_the_bound_states_its_size() -> None:
    body = envelope("b" * (3 * MB))
    assert len(body) > MAX_ERROR_BODY
    read = ErrorBody({"content-length": str(len(body))})
    assert read.feed(body[:1000]) is False
    assert read.feed(body[1000:]) is True  # stop: the rest is not downloaded
    assert (read.received, read.declared) == (MAX_ERROR_BODY, len(body))
    error = error_from_response(500, {}, read, secret=KEY)
    # the envelope is cut mid-string, so its message is read up to the cut
    assert str(error) == (
        f"server error: {'b' * 300}... [the error body is {len(body)} bytes] (HTTP 500)"
    )
    unsized = error_from_response(503, {}, body, secret=KEY)  # no Content-Length: chunked
    assert str(unsized) == (
        f"server error: {'b' * 300}... [the error body is more than 65536 bytes] (HTTP 503)"
    )


def test_a_body_of_exactly_the_bound_is_whole() -> None:
    read = ErrorBody()
    assert read.feed(b"x" * MAX_ERROR_BODY) is False  # the end of the stream will tell
    assert read.size() is None
    assert read.feed(b"y") is True and read.size() == "more than 65536 bytes"


def test_a_huge_body_that_is_not_json_is_cut_too() -> None:
    error = error_from_response(502, {}, b"gateway trouble " * MB, secret=None)
    assert str(error).startswith("server error: gateway trouble gateway trouble")
    assert str(error).endswith("... [the error body is more than 65536 bytes] (HTTP 502)")
    assert len(str(error)) < 400


def test_a_cut_envelope_with_a_split_escape_still_gives_its_message() -> None:
    body = b'{"error": {"message": "bad \\"thing\\" ' + b"z" * MAX_ERROR_BODY
    cut = body[: MAX_ERROR_BODY - 3] + b"\\u00"  # the bound falls inside an escape
    read = ErrorBody()
    read.feed(cut + b"e9 tail")
    error = error_from_response(500, {}, read, secret=None)
    assert str(error).startswith('server error: bad "thing" zzz')


def test_the_key_echoed_in_the_request_id_is_redacted() -> None:
    headers = {"x-request-id": f"req-{KEY}"}
    error = error_from_response(500, headers, envelope("boom"), secret=KEY)
    assert str(error) == "server error: boom (HTTP 500, request req-[redacted])"
    assert error.request_id == "req-[redacted]"
    from_body = json.dumps({"error": {"message": "boom", "request_id": KEY}}).encode()
    assert error_from_response(500, {}, from_body, secret=KEY).request_id == "[redacted]"


def test_request_ids_codes_and_params_are_clipped() -> None:
    body = json.dumps({"error": {"message": "no", "code": "c" * 5000, "param": "p" * 5000}})
    error = error_from_response(400, {"x-request-id": "r" * 5000}, body.encode(), secret=None)
    assert error.request_id == "r" * 100 + "..."
    assert error.code == "c" * 100 + "..." and error.param == "p" * 100 + "..."
    assert (
        str(error)
        == f"invalid request (parameter '{'p' * 100}...'): no (HTTP 400, request {'r' * 100}...)"
    )


def test_a_key_cut_in_two_by_the_bound_is_redacted() -> None:
    assert redact(f"token {KEY[:9]}", KEY, truncated=True) == "token [redacted]"
    assert redact(f"token {KEY[:9]}", KEY) == f"token {KEY[:9]}"  # whole text: a mere prefix
    assert redact("ends in sk-", KEY, truncated=True) == "ends in sk-"  # too short to say


@pytest.mark.parametrize(
    ("location", "host"),
    [
        ("https://evil.example/v1/completions?k=1", "evil.example"),
        ("https://user:pw@evil.example:8443/v1", "evil.example:8443"),
        ("/v2/completions", "api.wafer.test"),
    ],
)
def test_a_redirect_names_its_host(location: str, host: str) -> None:
    error = error_from_response(
        307, {"location": location}, b"", secret=KEY, base_url="https://api.wafer.test/v1"
    )
    assert type(error) is UnexpectedRedirect
    assert error.location_host == host
    assert str(error) == (
        f"the server redirected the request to {host}; redirects are not followed, so the "
        f"API key is not sent there: if {host} is the right server, use its address as "
        "base_url (HTTP 307)"
    )


def test_a_redirect_without_a_location() -> None:
    error = error_from_response(302, {}, b"moved", secret=None)
    assert isinstance(error, UnexpectedRedirect) and error.location_host is None
    assert str(error) == (
        "the server answered with a redirect that names no location; redirects are not "
        "followed (HTTP 302)"
    )


def test_log_records_are_redacted_and_cut() -> None:
    from wafer_grammar.client import logsafe

    logsafe.protect(KEY)
    record = logging.LogRecord(
        "httpcore.http11", logging.DEBUG, __file__, 1, "headers %s %s", (KEY, "é" * MB), None
    )
    assert SafeRecords().filter(record)
    message = record.getMessage()
    assert KEY not in message and message.startswith("headers [redacted] éé")
    assert len(message.encode()) <= MAX_LOG_LINE
    assert message.endswith(f"... [{len('headers [redacted] ') + 2 * MB} bytes in all]")
    assert clip_bytes("short") == "short"


# -- a hostile server over loopback HTTP ------------------------------------------------------


@dataclass
class Hostile:
    """A server whose every answer is ``status`` with a huge body and the key echoed."""

    status: int = 500
    body_bytes: int = 100 * MB
    chunked: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    sent: list[int] = field(default_factory=list)
    """Bytes of body each answer got out before the client hung up."""


@pytest.fixture
def hostile() -> Iterator[tuple[Hostile, str]]:
    plan = Hostile()
    piece = b'{"error": {"message": "' + b"x" * (MB - 23)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def answer(self) -> None:
            plan.requests += 1
            self.send_response(plan.status)
            self.send_header("x-request-id", f"req-{KEY}")
            self.send_header("content-type", "application/json")
            for name, value in plan.headers.items():
                self.send_header(name, value)
            if plan.chunked:
                self.send_header("transfer-encoding", "chunked")
            else:
                self.send_header("content-length", str(plan.body_bytes))
            self.end_headers()
            sent = 0
            try:
                while sent < plan.body_bytes:
                    chunk = piece[: plan.body_bytes - sent]
                    self.wfile.write(
                        b"%x\r\n%s\r\n" % (len(chunk), chunk) if plan.chunked else chunk
                    )
                    sent += len(chunk)
                if plan.chunked:
                    self.wfile.write(b"0\r\n\r\n")
            except OSError:
                self.close_connection = True
            plan.sent.append(sent)

        do_GET = do_POST = answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield plan, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def texts_of(error: BaseException) -> list[str]:
    """Everything an error shows: str, repr, and each field's repr."""
    return [str(error), repr(error), *map(repr, vars(error).values())]


def check_bounded(error: BaseException, caplog: pytest.LogCaptureFixture) -> int:
    """No key and nothing over 2 KB in the error or in any log record; the largest size."""
    lines = [*texts_of(error), *(r.getMessage() for r in caplog.records)]
    assert caplog.records, "the retries were logged"
    for line in lines:
        assert KEY not in line
        assert len(line.encode()) <= 2048, line[:200]
    return max(len(line.encode()) for line in lines)


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
@pytest.mark.parametrize("chunked", [True, False])
def test_a_100_mb_error_body_makes_no_big_message_or_log_line(
    hostile: tuple[Hostile, str], caplog: pytest.LogCaptureFixture, level: int, chunked: bool
) -> None:
    plan, url = hostile
    plan.chunked = chunked
    caplog.set_level(level)  # every logger: httpx's and httpcore's too
    with (
        WaferClient(base_url=url, api_key=KEY, retry=FAST) as client,
        pytest.raises(ServerError) as info,
    ):
        client.models()
    size = "104857600 bytes" if not chunked else "more than 65536 bytes"
    assert str(info.value) == (
        f"server error: {'x' * 300}... [the error body is {size}] (HTTP 500, request "
        "req-[redacted])"
    )
    assert info.value.attempts == 3 and plan.requests == 3
    check_bounded(info.value, caplog)
    # the client hung up after 64 KB: what got out is what the socket buffers took
    assert all(sent < plan.body_bytes // 4 for sent in plan.sent)
    if level == logging.DEBUG:
        assert any(r.name.startswith("httpcore") for r in caplog.records)


def test_the_async_client_is_bounded_the_same(
    hostile: tuple[Hostile, str], caplog: pytest.LogCaptureFixture
) -> None:
    _, url = hostile
    caplog.set_level(logging.DEBUG)

    async def call() -> APIError:
        async with AsyncWaferClient(base_url=url, api_key=KEY, retry=FAST) as client:
            try:
                await client.models()
            except APIError as exc:
                return exc
        raise AssertionError("no error")

    error = asyncio.run(call())
    assert type(error) is ServerError and error.request_id == "req-[redacted]"
    check_bounded(error, caplog)


def test_a_redirect_is_reported_and_not_followed(
    hostile: tuple[Hostile, str], caplog: pytest.LogCaptureFixture
) -> None:
    plan, url = hostile
    plan.status, plan.body_bytes = 307, 10
    plan.headers["location"] = "https://elsewhere.example/v1/models"
    caplog.set_level(logging.DEBUG)
    with (
        WaferClient(base_url=url, api_key=KEY, retry=FAST) as client,
        pytest.raises(UnexpectedRedirect) as info,
    ):
        client.models()
    assert plan.requests == 1  # not retried, not followed
    assert info.value.location_host == "elsewhere.example"
    assert str(info.value).startswith("the server redirected the request to elsewhere.example;")
    check_bounded(info.value, caplog)


def test_a_malformed_answer_quotes_a_bounded_excerpt() -> None:
    body = ("\x00" * 5000 + KEY).encode()
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=body, headers={"x-request-id": KEY})
    )
    with (
        WaferClient(base_url="http://h/v1", api_key=KEY, transport=transport) as client,
        pytest.raises(APIError) as info,
    ):
        client.models()
    texts = texts_of(info.value)
    assert all(KEY not in text and len(text.encode()) <= 2048 for text in texts)
    assert str(info.value).startswith("the /v1/models answer is not JSON: '\\x00\\x00")
