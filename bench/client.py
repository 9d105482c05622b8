"""Our HTTP client vs raw httpx against the same embedded server, in the same run.

1. Per-request overhead: the same request made with raw ``httpx.Client`` (JSON
   decoded with ``json.loads``, nothing else) and with ``WaferClient`` (checks,
   retries, typed parsing). Cases: ``GET /v1/models`` (answers at once, so the
   difference is our code) and ``POST /v1/completions`` with ``max_tokens=1``
   (includes one decoding step). Calls alternate ours/raw; medians reported.
   Target: ours - raw <= 1 ms.
2. Throughput of ``AsyncWaferClient`` at concurrency 1, 8 and 64 over one pool:
   ``/v1/models`` (client and HTTP bound) and ``/v1/completions`` with
   ``max_tokens=1`` (bound by the engine, which decodes one request at a time).

Run: ``.venv/bin/python bench/client.py`` (offline; starts its own server on loopback).
"""

from __future__ import annotations

import os
import sys

# bench/tokenize.py would shadow the stdlib module of that name (linecache needs it):
# take the script's own folder off the import path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import asyncio  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402

from wafer_grammar.client import AsyncWaferClient, WaferClient  # noqa: E402
from wafer_grammar.local.server import LocalServer  # noqa: E402

KEY = "bench-key"
PROMPT = [1, 9690, 28, 2]
N_MODELS = int(os.environ.get("BENCH_N", "400"))
N_COMPLETIONS = int(os.environ.get("BENCH_N_COMPLETIONS", "40"))


def paired(ours: Callable[[], Any], raw: Callable[[], Any], n: int) -> tuple[float, float]:
    """Median milliseconds of ``ours`` and ``raw``, called alternately ``n`` times each."""
    ours(), raw()  # warm connections and caches
    mine, theirs = [], []
    for _ in range(n):
        start = time.perf_counter()
        ours()
        mine.append(time.perf_counter() - start)
        start = time.perf_counter()
        raw()
        theirs.append(time.perf_counter() - start)
    return statistics.median(mine) * 1e3, statistics.median(theirs) * 1e3


def overhead(server: LocalServer, model: str) -> list[tuple[str, float, float]]:
    rows = []
    headers = {"authorization": f"Bearer {KEY}"}
    with (
        WaferClient(base_url=server.base_url, api_key=KEY) as ours,
        httpx.Client(base_url=server.base_url, headers=headers, timeout=120.0) as raw,
    ):
        rows.append(
            (
                "GET /v1/models",
                *paired(
                    lambda: ours.models(refresh=True),
                    lambda: json.loads(raw.get("/models").content),
                    N_MODELS,
                ),
            )
        )
        body = {"model": model, "prompt": PROMPT, "max_tokens": 1, "temperature": 0}
        rows.append(
            (
                "POST /v1/completions (1 token)",
                *paired(
                    lambda: ours.completions(model, PROMPT, max_tokens=1, temperature=0),
                    lambda: json.loads(raw.post("/completions", json=body).content),
                    N_COMPLETIONS,
                ),
            )
        )
    return rows


async def rate(
    concurrency: int, total: int, call: Callable[[AsyncWaferClient], Awaitable[Any]], base_url: str
) -> float:
    """Requests per second for ``total`` calls, ``concurrency`` in flight at once."""
    async with AsyncWaferClient(base_url=base_url, api_key=KEY) as client:
        await call(client)  # warm up
        queue = iter(range(total))

        async def worker() -> None:
            for _ in queue:
                await call(client)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - start)


def throughput(server: LocalServer, model: str) -> list[tuple[int, float, float]]:
    rows = []
    for concurrency in (1, 8, 64):
        models = asyncio.run(
            rate(
                concurrency,
                max(N_MODELS, concurrency * 4),
                lambda c: c.models(refresh=True),
                server.base_url,
            )
        )
        done = asyncio.run(
            rate(
                concurrency,
                max(N_COMPLETIONS, concurrency),
                lambda c: c.completions(model, PROMPT, max_tokens=1, temperature=0),
                server.base_url,
            )
        )
        rows.append((concurrency, models, done))
    return rows


def main() -> None:
    with LocalServer(port=0, api_key=KEY) as server:
        model = server.engine.config.model_id
        over = overhead(server, model)
        through = throughput(server, model)
    print(f"client overhead vs raw httpx (median ms, {os.cpu_count()} cores)")
    print(f"| {'request':<32} | {'raw httpx':>9} | {'WaferClient':>11} | {'overhead':>8} |")
    print(f"|{'-' * 34}|{'-' * 11}|{'-' * 13}|{'-' * 10}|")
    for name, mine, theirs in over:
        print(f"| {name:<32} | {theirs:>9.3f} | {mine:>11.3f} | {mine - theirs:>8.3f} |")
    print()
    print("AsyncWaferClient throughput (requests/s)")
    print(f"| {'concurrency':>11} | {'GET /v1/models':>14} | {'completions, 1 token':>20} |")
    print(f"|{'-' * 13}|{'-' * 16}|{'-' * 22}|")
    for concurrency, models, done in through:
        print(f"| {concurrency:>11} | {models:>14.0f} | {done:>20.1f} |")


if __name__ == "__main__":
    main()
