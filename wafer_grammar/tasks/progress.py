"""Batch progress on stderr: done/total, rate, ETA and running cost.

tqdm draws the bar when it is installed; otherwise a plain line is printed at
most once a second (and at the end), which also reads well in a log file.
"""

from __future__ import annotations

import importlib
import sys
import time
from typing import IO, Any, Protocol


class Progress(Protocol):
    def advance(self, cost_cents: float) -> None: ...
    def close(self) -> None: ...


def format_cost(cents: float) -> str:
    return f"${cents / 100:.4f}"


class NoProgress:
    def advance(self, cost_cents: float) -> None:
        pass

    def close(self) -> None:
        pass


class LineProgress:
    """``12/40 done, 1.3/s, ETA 21 s, cost $0.0012`` lines, one a second at most."""

    def __init__(
        self, total: int, stream: IO[str] | None = None, clock: Any = time.monotonic
    ) -> None:
        self.total, self.done, self.cents = total, 0, 0.0
        self._stream = stream or sys.stderr
        self._clock = clock
        self._start = clock()
        self._last = float("-inf")

    def line(self) -> str:
        elapsed = max(self._clock() - self._start, 1e-9)
        rate = self.done / elapsed
        eta = f"{(self.total - self.done) / rate:.0f} s" if rate > 0 else "?"
        return (
            f"{self.done}/{self.total} done, {rate:.1f}/s, ETA {eta}, "
            f"cost {format_cost(self.cents)}"
        )

    def advance(self, cost_cents: float) -> None:
        self.done += 1
        self.cents += cost_cents
        now = self._clock()
        if now - self._last >= 1.0 or self.done == self.total:
            self._last = now
            print(self.line(), file=self._stream, flush=True)

    def close(self) -> None:
        pass


class TqdmProgress:
    def __init__(self, total: int, bar: Any) -> None:
        self._bar = bar(total=total, unit="doc", file=sys.stderr, dynamic_ncols=True)
        self.cents = 0.0

    def advance(self, cost_cents: float) -> None:
        self.cents += cost_cents
        self._bar.set_postfix_str(f"cost {format_cost(self.cents)}", refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def make_progress(total: int, *, enabled: bool = True) -> Progress:
    """tqdm when installed, else :class:`LineProgress`; :class:`NoProgress` when disabled."""
    if not enabled or total == 0:
        return NoProgress()
    try:
        # by name: tqdm ships no type stubs, and it is optional
        bar = importlib.import_module("tqdm").tqdm
    except ImportError:
        return LineProgress(total)
    return TqdmProgress(total, bar)
