"""The batch under faults: a 429 storm, a 500 on every third request, the server killed and
restarted mid-run, a full disk. Whatever happens, the output ends with exactly one record
per input id (and, where the retries can absorb the fault, every record is a result).

Each fault is placed by count, not by time: the n-th request, the k-th record.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from wafer_grammar.client import AsyncWaferClient, RetryPolicy
from wafer_grammar.errors import OutputWriteFailed
from wafer_grammar.local.faults import Fault
from wafer_grammar.tasks import BatchJob, BatchSummary, run_batch
from wafer_grammar.tasks import batch as batch_module
from wafer_grammar.tasks.batch import Gate

N = 12
KEY = "batch-faults-key-0123"
RETRY = RetryPolicy(max_retries=3, initial_delay=0.001, max_delay=0.001, jitter=0)


class FakeClock:
    """The gate's time: an escaped 429's pause passes at once (and is counted)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(batch_module, "Gate", lambda: Gate(fake.clock, fake.sleep))
    return fake


@pytest.fixture
def source(tmp_path: Path) -> str:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(json.dumps({"text": f"Review {i}: fine."}) + "\n" for i in range(N)),
        encoding="utf-8",
    )
    return str(path)


def one_record_per_id(out: Path) -> list[dict[str, Any]]:
    lines = out.read_bytes().decode("utf-8").splitlines()
    got = [json.loads(line) for line in lines]
    assert sorted(r["id"] for r in got) == list(range(1, N + 1))  # each once, none missing
    return got


def run(
    base_url: str,
    model: str,
    source: str,
    out: Path,
    *,
    api_key: str | None,
    concurrency: int = 2,
    transport: httpx.AsyncBaseTransport | None = None,
) -> BatchSummary:
    job = BatchJob("classify", model, labels=("positive", "negative"))

    async def go() -> BatchSummary:
        async with AsyncWaferClient(
            base_url=base_url, api_key=api_key, retry=RETRY, transport=transport
        ) as client:
            return await run_batch(
                job, source, str(out), client=client, show_progress=False, concurrency=concurrency
            )

    return asyncio.run(go())


def test_a_429_storm(local_server: Any, source: str, tmp_path: Path, fake_clock: FakeClock) -> None:
    # 15 refusals in a row: some escape the client's 4 attempts, pause the batch (on the
    # fake clock) and are requeued; an input would need 16 to fail for good
    local_server.inject(*(Fault.rate_limit(None, path="/v1/completions") for _ in range(15)))
    out = tmp_path / "out.jsonl"
    summary = run(
        local_server.base_url, local_server.model, source, out, api_key=local_server.api_key
    )
    assert (summary.ok, summary.failed) == (N, 0)
    assert all("error" not in r for r in one_record_per_id(out))
    assert local_server.faults.pending() == []
    assert all(pause == batch_module.DEFAULT_PAUSE for pause in fake_clock.slept)


class EveryThird(httpx.AsyncBaseTransport):
    """The real transport; every third completion request is answered 500 by the server
    (a fault queued just before it is sent)."""

    def __init__(self, server: Any) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.server = server
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/completions"):
            self.sent += 1
            if self.sent % 3 == 0:
                self.server.inject(Fault.server_error(500, path="/v1/completions"))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_500_on_every_third_request(local_server: Any, source: str, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    transport = EveryThird(local_server)
    # one request at a time: a retry is the very next request, never a third one twice
    summary = run(
        local_server.base_url,
        local_server.model,
        source,
        out,
        api_key=local_server.api_key,
        concurrency=1,
        transport=transport,
    )
    assert (summary.ok, summary.failed) == (N, 0)
    assert all("error" not in r for r in one_record_per_id(out))
    statuses = [r.status for r in local_server.requests() if r.path == "/v1/completions"]
    assert len(statuses) == transport.sent and statuses.count(500) == transport.sent // 3


class Served:
    """``wafer-grammar serve`` in a process of its own, to be killed -9 and started again."""

    def __init__(self, port: int = 0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wafer_grammar.cli", "serve", "--port", str(port), "-q"],
            env={**os.environ, "WAFER_GRAMMAR_SERVE_API_KEY": KEY, "HF_HUB_OFFLINE": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        guard = threading.Timer(300, self.process.kill)  # against a hang only
        guard.start()
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # "serving MODEL at URL (...)" once it listens
        guard.cancel()
        assert line.startswith("serving "), f"the server did not start: {line!r}"
        self.model, self.base_url = line.split()[1], line.split()[3]
        self.port = int(self.base_url.rsplit(":", 1)[1].split("/")[0])

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()


class KillAt:
    """A progress reporter that kills the server -9 when the ``at``-th record lands, and
    starts a new one on the same port before the batch goes on."""

    def __init__(self, holder: list[Served], at: int) -> None:
        self.holder, self.at, self.done = holder, at, 0

    def advance(self, cost_cents: float) -> None:
        self.done += 1
        if self.done == self.at:
            old = self.holder[-1]
            old.kill()  # requests in flight die with it; the client retries them
            self.holder.append(Served(old.port))

    def close(self) -> None:
        pass


@pytest.fixture
def served() -> Iterator[list[Served]]:
    holder = [Served()]
    yield holder
    for server in holder:
        if server.process.poll() is None:
            server.kill()


@pytest.mark.slow
def test_the_server_killed_and_restarted_mid_run(
    served: list[Served], source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    progress = KillAt(served, at=4)
    monkeypatch.setattr(batch_module, "make_progress", lambda total, enabled: progress)
    out = tmp_path / "out.jsonl"
    first = served[0]
    summary = run(first.base_url, first.model, source, out, api_key=KEY)
    assert len(served) == 2 and served[0].process.returncode == -signal.SIGKILL
    assert (summary.ok, summary.failed) == (N, 0)
    assert all("error" not in r for r in one_record_per_id(out))


def test_a_full_disk_then_a_rerun(
    local_server: Any, source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.jsonl"
    real = os.write
    lines = {"left": 5}

    def filling(fd: int, data: bytes) -> int:
        if lines["left"] == 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        lines["left"] -= 1  # the appender writes a record with one call
        return real(fd, data)

    monkeypatch.setattr("wafer_grammar.tasks.jsonl._os_write", filling)
    with pytest.raises(OutputWriteFailed) as info:
        run(local_server.base_url, local_server.model, source, out, api_key=local_server.api_key)
    assert (info.value.saved, info.value.written, info.value.errno) == (5, 5, errno.ENOSPC)
    assert str(info.value) == (
        f"cannot write to {out}: No space left on device; 5 of {N} records are saved there "
        "(5 from this run); fix that and run the same command again to resume"
    )
    assert out.read_bytes().count(b"\n") == 5
    monkeypatch.setattr("wafer_grammar.tasks.jsonl._os_write", real)  # space again
    summary = run(
        local_server.base_url, local_server.model, source, out, api_key=local_server.api_key
    )
    assert (summary.skipped, summary.ok, summary.failed) == (5, N - 5, 0)
    assert all("error" not in r for r in one_record_per_id(out))
