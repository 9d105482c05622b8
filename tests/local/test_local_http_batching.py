"""The batching engine over HTTP: cached tokens reported (to our client and the
official SDK) and costed, and clients that leave free their rows."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from wafer_grammar.client import WaferClient
from wafer_grammar.client.types import Pricing
from wafer_grammar.decoding.cost import cost_of
from wafer_grammar.local.pytest_fixtures import LocalServerHandle

openai = pytest.importorskip("openai", reason="pip install 'wafer-grammar[test]' for the SDK")

INSTRUCTIONS = "Answer with one word, positive or negative, for the sentiment of the review. " * 6
LABELS = 'root ::= "positive" | "negative"'


@pytest.fixture
def client(local_server: LocalServerHandle) -> Iterator[WaferClient]:
    with WaferClient(base_url=local_server.base_url, api_key=local_server.api_key) as made:
        yield made


def test_cached_tokens_are_reported_and_costed(
    client: WaferClient, local_server: LocalServerHandle
) -> None:
    tokenizer = local_server.server.engine.tokenizer
    shared = tokenizer.encode(INSTRUCTIONS + "Review:")
    first = shared + tokenizer.encode(" The screen is lovely.")
    second = shared + tokenizer.encode(" It broke on day two and support never answered.")
    client.completions(local_server.model, first, grammar=LABELS, max_tokens=3, temperature=0)
    answer = client.completions(
        local_server.model, second, grammar=LABELS, max_tokens=3, temperature=0
    )
    assert answer.usage is not None
    cached = answer.usage.cached_tokens
    assert len(shared) <= cached < len(second)
    price = Pricing(
        input_cents_per_million=100, output_cents_per_million=400, cache_read_cents_per_million=10
    )
    cost = cost_of(answer, price)
    assert cost.cached_cents == pytest.approx(cached * 10 / 1e6)
    assert cost.input_cents == pytest.approx((len(second) - cached) * 100 / 1e6)


def test_official_sdk_reads_cached_tokens(local_server: LocalServerHandle) -> None:
    sdk = openai.OpenAI(base_url=local_server.base_url, api_key=local_server.api_key or "none")
    messages = [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": "Meh."}]
    for _ in range(2):
        reply = sdk.chat.completions.create(
            model=local_server.model, messages=messages, max_tokens=2, temperature=0
        )
    assert reply.usage is not None and reply.usage.prompt_tokens_details is not None
    assert reply.usage.prompt_tokens_details.cached_tokens == reply.usage.prompt_tokens - 1


def _start_stream(local_server: LocalServerHandle) -> socket.socket:
    """A streamed 200-token completion on a raw socket, read up to its first chunk."""
    parts = urlsplit(local_server.base_url)
    body = json.dumps(
        {
            "model": local_server.model,
            "prompt": "Tell me a very long story about a dragon.",
            "max_tokens": 200,
            "stream": True,
            "ebnf": "root ::= [a-z ]{3000}",  # cannot end before max_tokens
        }
    ).encode()
    head = (
        "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    if local_server.api_key:
        head += f"Authorization: Bearer {local_server.api_key}\r\n"
    sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
    sock.sendall(head.encode() + b"\r\n" + body)
    seen = b""
    while b"data: " not in seen:
        chunk = sock.recv(4096)
        assert chunk, "the server closed the stream before its first chunk"
        seen += chunk
    return sock


def test_streaming_clients_that_leave_free_their_rows(local_server: LocalServerHandle) -> None:
    engine = local_server.server.engine
    socks = [_start_stream(local_server) for _ in range(8)]
    assert engine.running >= 1
    for sock in socks:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # a reset: the next write of each stream fails
    deadline = time.monotonic() + 120  # generous: only a hang fails this
    while engine.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.running == 0, "generations went on after their clients left"
