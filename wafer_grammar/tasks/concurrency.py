"""Running several task bodies at once, with a limit: asyncio for one client, threads for the other.

The two functions are not twins of one another: one is asyncio's gather under a
semaphore, the other a thread pool (httpx's blocking client is thread-safe). The
generated blocking task API (:mod:`wafer_grammar.tasks.api_sync`) calls the second
where the hand-written asyncio one calls the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def amap_limited(fn: Callable[[T], Awaitable[R]], items: Sequence[T], limit: int) -> list[R]:
    """``[await fn(x) for x in items]``, at most ``limit`` at a time; results in order."""
    gate = asyncio.Semaphore(max(1, limit))

    async def one(item: T) -> R:
        async with gate:
            return await fn(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


def map_limited(fn: Callable[[T], R], items: Sequence[T], limit: int) -> list[R]:
    """``[fn(x) for x in items]``, at most ``limit`` at a time in threads; results in order."""
    if limit <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(limit, len(items))) as pool:
        return list(pool.map(fn, items))
