"""Continuous batching: every running request advances one token per forward pass.

Decoding one sequence of a 135M model on a CPU is bound by memory bandwidth (each
step reads every weight); a batch of 8 rows reads them once for 8 tokens. So the
worker keeps one padded batch (``kv_batch.PaddedBatch``) of the choices of all
running requests. Between steps, waiting requests join while their ``n`` rows fit
in ``max_batch``: they are prefilled together (their cached prefixes reused, see
``prefix_cache.py``), draw their first token, and their rows are appended. A
request leaves the batch when its choices finish, fails, or is cancelled (its
client went away); it frees its rows before the next forward pass.

Only the worker thread runs this; requests arrive through a queue.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import torch

from wafer_grammar.errors import EngineError
from wafer_grammar.local.generation import DecodeJob, RequestDecode
from wafer_grammar.local.kv_batch import KVShape, LayerKV, PaddedBatch
from wafer_grammar.local.prefix_cache import PrefixCache

if TYPE_CHECKING:
    from wafer_grammar.local.engine_config import EngineConfig
    from wafer_grammar.local.engine_results import EngineDelta
    from wafer_grammar.local.model import LoadedModel

logger = logging.getLogger(__name__)

#: Prefill requests together while padding adds at most this share of real tokens.
PREFILL_PADDING = 0.25
#: Prompt tokens per prefill pass.
PREFILL_CHUNK = 512


class Submitted(Protocol):
    """A queued request, as the scheduler sees it (``engine.Generation``)."""

    job: DecodeJob
    admitted: bool

    def deliver(self, deltas: list[EngineDelta]) -> None:
        """Hand over one step's deltas."""

    def finish(self, generated: int, cached_tokens: int) -> None:
        """The request is over (done or cancelled); later calls are ignored."""

    def fail(self, error: BaseException) -> None:
        """The request failed; ignored once it has finished."""


@dataclass
class _Running:
    submitted: Submitted
    decode: RequestDecode
    cached_tokens: int


class Scheduler:
    """Runs the requests of ``jobs`` (None ends the loop once all are done)."""

    def __init__(
        self, loaded: LoadedModel, config: EngineConfig, jobs: queue.Queue[Submitted | None]
    ) -> None:
        self.loaded = loaded
        self.max_batch = config.max_batch
        self.jobs = jobs
        self.shape = KVShape.of(loaded.model)
        self.prefixes = (
            PrefixCache(config.prefix_cache_tokens) if config.prefix_cache_tokens else None
        )
        self.batch: PaddedBatch | None = None
        self.running: list[_Running] = []
        self._held: Submitted | None = None  # taken from the queue, waiting for room
        self._closing = False
        self._stepping: Sequence[Submitted] = ()  # whose rows the current pass computes
        for layer in _decoder_layers(loaded.model):
            layer.register_forward_pre_hook(self._abort_if_nobody_waits)

    @property
    def rows(self) -> int:
        return sum(r.decode.n for r in self.running)

    def run(self) -> None:
        """Serve until the queue's None arrives and every request has finished."""
        with torch.inference_mode():
            while True:
                admitted = self._admit()
                try:
                    if admitted:
                        self._prefill(admitted)
                    if self.running:
                        self._step()
                except Exception as exc:  # the batch as a whole failed: so does each request
                    logger.exception("decoding failed")
                    error = _engine_error(exc)
                    for submitted in [*admitted, *(r.submitted for r in self.running)]:
                        submitted.fail(error)  # a no-op for one that has finished
                    self.running, self.batch = [], None
                if not self.running and self._closing and self._held is None:
                    return

    # ------------------------------------------------------------ admission

    def _admit(self) -> list[Submitted]:
        """Requests that join now: as many as fit, in arrival order (blocks when idle)."""
        self._drop_cancelled()  # their rows are free for whoever waits
        admitted: list[Submitted] = []
        rows = self.rows
        while True:
            item = self._held
            self._held = None
            if item is None:
                if self._closing:
                    return admitted
                idle = not self.running and not admitted
                try:
                    item = self.jobs.get(block=idle)
                except queue.Empty:
                    return admitted
                if item is None:
                    self._closing = True
                    return admitted
            if item.job.cancelled.is_set():
                item.finish(0, 0)
                continue
            n = item.job.params.n
            if rows and rows + n > self.max_batch:
                self._held = item  # first in line: nothing behind it may pass
                return admitted
            item.admitted = True
            admitted.append(item)
            rows += n

    # ------------------------------------------------------------ prefill

    def _prefill(self, admitted: Sequence[Submitted]) -> None:
        hits = [self._lookup(s.job.prompt_ids) for s in admitted]
        todo = [
            len(s.job.prompt_ids) - cached for s, (cached, _) in zip(admitted, hits, strict=True)
        ]
        order = sorted(range(len(admitted)), key=todo.__getitem__)
        for group in _prefill_groups([todo[i] for i in order]):
            members = [order[i] for i in group]
            self._prefill_group([admitted[i] for i in members], [hits[i] for i in members])

    def _lookup(self, ids: Sequence[int]) -> tuple[int, LayerKV | None]:
        return self.prefixes.lookup(ids) if self.prefixes is not None else (0, None)

    def _prefill_group(
        self, group: Sequence[Submitted], hits: Sequence[tuple[int, LayerKV | None]]
    ) -> None:
        batch = PaddedBatch.from_prefixes(self.shape, [states for _, states in hits])
        suffixes = [s.job.prompt_ids[cached:] for s, (cached, _) in zip(group, hits, strict=True)]
        width = max(len(x) for x in suffixes)
        ids = torch.zeros(len(group), width, dtype=torch.long)
        valid = torch.zeros(len(group), width, dtype=torch.bool)
        for row, suffix in enumerate(suffixes):
            ids[row, width - len(suffix) :] = torch.tensor(suffix, dtype=torch.long)
            valid[row, width - len(suffix) :] = True
        # In chunks: the mask of one pass is rows x chunk x width, and a long prompt's
        # whole square would take hundreds of MB. The last chunk ends every row.
        for start in range(0, width, PREFILL_CHUNK):
            end = start + PREFILL_CHUNK
            logits = batch.forward(self.loaded.model, ids[:, start:end], valid[:, start:end])
        keep: list[int] = []
        for row, (submitted, (cached, _)) in enumerate(zip(group, hits, strict=True)):
            if self.prefixes is not None:
                self.prefixes.store(submitted.job.prompt_ids, partial(batch.row, row))
            try:
                decode = RequestDecode(self.loaded, submitted.job)
                submitted.deliver(decode.take(logits[row : row + 1].repeat(decode.n, 1)))
            except Exception as exc:  # this request's own failure (a matcher's, say)
                submitted.fail(_engine_error(exc))
                continue
            if decode.finished or submitted.job.cancelled.is_set():
                submitted.finish(decode.generated, cached)
                continue
            keep.extend([row] * decode.n)
            self.running.append(_Running(submitted, decode, cached))
        if not keep:
            return
        batch.select(keep)
        if self.batch is None:
            self.batch = batch
        else:
            self.batch.extend(batch)

    # ------------------------------------------------------------ decoding

    def _abort_if_nobody_waits(self, *_: object) -> None:
        """Between layers: stop a pass whose every request was cancelled (their clients
        left), so that whoever waits gets the worker a step sooner."""
        stepping = self._stepping
        if stepping and all(s.job.cancelled.is_set() for s in stepping):
            raise _Abandoned

    def _step(self) -> None:
        self._drop_cancelled()
        if not self.running or self.batch is None:
            return
        ids = torch.cat([r.decode.last for r in self.running]).unsqueeze(1)
        self._stepping = [r.submitted for r in self.running]
        try:
            logits = self.batch.forward(self.loaded.model, ids)
        except _Abandoned:  # the batch's cache is half-updated, and nobody needs it
            self.batch = None
            self._drop_cancelled()
            return
        finally:
            self._stepping = ()
        self._retain(lambda r, rows: self._advance(r, logits[rows.start : rows.stop]))

    def _advance(self, r: _Running, logits: torch.Tensor) -> bool:
        """Hand ``r`` its logits; whether it goes on decoding."""
        try:
            r.submitted.deliver(r.decode.take(logits))
        except Exception as exc:
            r.submitted.fail(_engine_error(exc))
            return False
        if r.decode.finished:
            r.submitted.finish(r.decode.generated, r.cached_tokens)
            return False
        return True

    def _drop_cancelled(self) -> None:
        self._retain(self._wanted)

    def _wanted(self, r: _Running, _rows: range) -> bool:
        """Whether ``r``'s client still waits (a cancelled request is finished here)."""
        if r.submitted.job.cancelled.is_set():
            r.submitted.finish(r.decode.generated, r.cached_tokens)
            return False
        return True

    def _retain(self, stays: Callable[[_Running, range], bool]) -> None:
        """Keep the running requests for which ``stays(request, its batch rows)`` holds."""
        keep: list[int] = []
        still: list[_Running] = []
        offset = 0
        for r in self.running:
            rows = range(offset, offset + r.decode.n)
            offset += r.decode.n
            if stays(r, rows):
                keep.extend(rows)
                still.append(r)
        self._keep(still, keep)

    def _keep(self, still: list[_Running], rows: list[int]) -> None:
        if len(still) == len(self.running):
            return
        self.running = still
        if not rows or self.batch is None:
            self.batch = None
        else:
            self.batch.select(rows)


class _Abandoned(Exception):
    """Raised inside a forward pass that no request needs any more."""


def _decoder_layers(model: Any) -> Sequence[Any]:
    """The model's transformer blocks (empty when its layout is unknown: no early stop)."""
    inner = getattr(model, "model", None)
    layers = getattr(inner, "layers", None)
    return list(layers) if layers is not None else []


def _prefill_groups(lengths: Sequence[int]) -> list[list[int]]:
    """Split ascending ``lengths`` into runs prefilled together, padding bounded."""
    groups: list[list[int]] = []
    total = 0
    for i, length in enumerate(lengths):
        if groups:
            count = len(groups[-1]) + 1
            if length * count <= (1 + PREFILL_PADDING) * (total + length) + 16:
                groups[-1].append(i)
                total += length
                continue
        groups.append([i])
        total = length
    return groups


def _engine_error(exc: BaseException) -> EngineError:
    if isinstance(exc, EngineError):
        return exc
    error = EngineError(f"decoding failed: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error
