"""Scripted faults for testing clients against the local server (off unless a plan is given).

A :class:`FaultPlan` is a queue: each request to a ``/v1/`` endpoint (matching
the fault's ``path``, when it names one) takes the next fault and suffers it.
Tests script it directly (``server.faults.add(Fault.rate_limit(2.0))``), from a
JSON file given at start (``serve --fault-plan FILE``) or, with
``serve --enable-test-control``, through ``POST /_wafer_grammar/faults``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from wafer_grammar.errors import InvalidRequest

FaultKind = Literal["status", "slow_first_byte", "cut_stream", "malformed_json"]
KINDS: tuple[str, ...] = ("status", "slow_first_byte", "cut_stream", "malformed_json")


@dataclass(frozen=True)
class Fault:
    """One scripted failure.

    - ``status``: answer ``status`` (429, 500, 503...) with an error body and, when
      ``retry_after`` is set, a ``Retry-After`` header (whole seconds, rounded up).
    - ``slow_first_byte``: wait ``delay`` seconds before the first byte, then answer normally.
    - ``cut_stream``: close the connection after ``after_chunks`` stream events (a
      non-streamed body is cut halfway).
    - ``malformed_json``: a 200 whose body (or ``after_chunks``-th stream event) is not JSON.
    """

    kind: FaultKind
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0
    after_chunks: int = 1
    path: str | None = None
    """Only requests to this path take the fault (None: any ``/v1/`` request)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidRequest(
                f"fault kind must be one of {', '.join(KINDS)}, not {self.kind!r}", param="kind"
            )
        if self.kind == "status" and not 400 <= self.status <= 599:
            raise InvalidRequest(
                f"a status fault needs a 4xx or 5xx status, not {self.status}", param="status"
            )
        if self.delay < 0 or self.after_chunks < 0:
            raise InvalidRequest("delay and after_chunks must not be negative")

    @classmethod
    def rate_limit(cls, retry_after: float | None = 1.0, *, path: str | None = None) -> Fault:
        """429 Too Many Requests, with ``Retry-After``."""
        return cls("status", status=429, retry_after=retry_after, path=path)

    @classmethod
    def server_error(
        cls, status: int = 500, *, retry_after: float | None = None, path: str | None = None
    ) -> Fault:
        """A 5xx answer (500, 502, 503...)."""
        return cls("status", status=status, retry_after=retry_after, path=path)

    @classmethod
    def slow_first_byte(cls, delay: float, *, path: str | None = None) -> Fault:
        """Wait ``delay`` seconds before answering (to trip read timeouts)."""
        return cls("slow_first_byte", delay=delay, path=path)

    @classmethod
    def cut_stream(cls, after_chunks: int = 1, *, path: str | None = None) -> Fault:
        """Drop the connection mid-response."""
        return cls("cut_stream", after_chunks=after_chunks, path=path)

    @classmethod
    def malformed_json(cls, after_chunks: int = 0, *, path: str | None = None) -> Fault:
        """A body (or stream event) that is not JSON."""
        return cls("malformed_json", after_chunks=after_chunks, path=path)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Fault:
        """A fault from its JSON form (the fields of this class)."""
        if not isinstance(doc, Mapping) or "kind" not in doc:
            raise InvalidRequest('a fault must be an object with a "kind"', param="faults")
        unknown = set(doc) - set(cls.__dataclass_fields__)
        if unknown:
            raise InvalidRequest(
                f"unknown fault field(s): {', '.join(sorted(unknown))}", param="faults"
            )
        try:
            return cls(**doc)
        except TypeError as exc:
            raise InvalidRequest(f"bad fault: {exc}", param="faults") from exc

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RequestRecord:
    """One request the server saw: what, how it ended, which fault it took."""

    method: str
    path: str
    status: int
    fault: str | None = None


@dataclass
class FaultPlan:
    """The queue of faults to inflict, and a log of the requests served (thread-safe)."""

    _faults: list[Fault] = field(default_factory=list)
    _log: list[RequestRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _in_flight: int = field(default=0, repr=False)
    _settled: threading.Condition = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._settled = threading.Condition(self._lock)

    # A client sees its answer before the server's handler has logged it: readers of
    # the log wait for requests in flight, so a test never races the handler.
    SETTLE_SECONDS: ClassVar[float] = 10.0

    def begin(self) -> None:
        """A request has arrived; :meth:`record` ends it."""
        with self._lock:
            self._in_flight += 1

    def _wait_settled(self) -> None:
        self._settled.wait_for(lambda: self._in_flight == 0, timeout=self.SETTLE_SECONDS)

    def add(self, *faults: Fault) -> None:
        """Append faults; each is taken by one later request."""
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        """Drop the faults not yet taken, and the request log (after requests in flight end)."""
        with self._lock:
            self._wait_settled()
            self._faults.clear()
            self._log.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, path: str) -> Fault | None:
        """The first fault that applies to a request to ``path``, removed from the plan."""
        if not path.startswith("/v1/"):
            return None
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.path is None or fault.path == path:
                    return self._faults.pop(i)
        return None

    def record(self, record: RequestRecord, *, began: bool = False) -> None:
        """Log a request that has ended (``began``: one that :meth:`begin` announced)."""
        with self._lock:
            self._log.append(record)
            if began:
                self._in_flight -= 1
                self._settled.notify_all()

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request served so far, oldest first (once requests in flight have ended)."""
        with self._lock:
            self._wait_settled()
            return list(self._log)

    @classmethod
    def from_dicts(cls, docs: Iterable[Mapping[str, Any]]) -> FaultPlan:
        plan = cls()
        plan.add(*(Fault.from_dict(d) for d in docs))
        return plan

    @classmethod
    def from_file(cls, path: str | Path) -> FaultPlan:
        """A plan from a JSON file: a list of faults, or ``{"faults": [...]}``."""
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        faults = doc.get("faults") if isinstance(doc, dict) else doc
        if not isinstance(faults, list):
            raise InvalidRequest(f'{path}: a fault plan is a list of faults or {{"faults": [...]}}')
        return cls.from_dicts(faults)
