"""Batch classify / extract: JSONL in, JSONL out, bounded concurrency, resumable.

Every input gets exactly one output record carrying its ``id``: the result, or
``{"id": ..., "error": {"type": ..., "message": ...}}``. Records are appended as
they land (see :mod:`wafer_grammar.tasks.jsonl` for why a kill -9 loses nothing
but the line being written), so a rerun skips the ids already in the output.

No input can stop the others: a line that cannot be processed is recorded as an
``InvalidInput`` error (with its ``line``), and any failure while processing an
input becomes that input's error record. Only a failure to write the output
stops the run (:class:`~wafer_grammar.errors.OutputWriteFailed`): what is saved
stays whole, and the rerun resumes after it.

Rate limits: the client already retries a 429 after its ``Retry-After``. When
one still escapes, every worker pauses for that long (the limit is the
account's, not the request's) and the input goes back in the queue, up to
:data:`MAX_REQUEUES` times, before it is recorded as failed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wafer_grammar.errors import OutputWriteFailed, RateLimited
from wafer_grammar.tasks.api_async import arun_steps
from wafer_grammar.tasks.jsonl import Appender, Item, id_key, read_inputs, recover_output
from wafer_grammar.tasks.progress import Progress, format_cost, make_progress

if TYPE_CHECKING:
    from wafer_grammar.client.aio import AsyncWaferClient
    from wafer_grammar.client.types import Pricing
    from wafer_grammar.tasks.classification import RunPlan
    from wafer_grammar.tasks.extraction import Target

MAX_REQUEUES = 3
DEFAULT_PAUSE = 5.0
"""Seconds every worker waits after a 429 that names no ``Retry-After``."""


@dataclass(frozen=True)
class BatchJob:
    """What to do with each text: ``task`` is ``"classify"`` or ``"extract"``."""

    task: str
    model: str
    labels: tuple[str, ...] = ()
    """For ``classify``."""
    schema: Mapping[str, Any] | None = None
    """For ``extract``: a JSON Schema."""
    instructions: str | None = None
    orders: int = 1
    """For ``classify``: label orders per text (position-bias check)."""
    max_tokens: int = 256
    """For ``extract``: the first budget (a truncation is retried once with 4x)."""

    def __post_init__(self) -> None:
        if self.task not in ("classify", "extract"):
            raise ValueError(f'task must be "classify" or "extract", not {self.task!r}')


@dataclass
class BatchSummary:
    """How a run went (this run only; ``skipped`` were already in the output)."""

    total: int
    skipped: int
    ok: int = 0
    failed: int = 0
    cost_cents: float = 0.0
    seconds: float = 0.0
    label_warnings: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [
            f"batch done: {self.ok + self.failed} processed ({self.ok} ok, {self.failed} "
            f"failed), {self.skipped} already in the output, cost "
            f"{format_cost(self.cost_cents)}, {self.seconds:.1f} s"
        ]
        if self.failed:
            what = (
                "1 failed input is recorded with its error"
                if self.failed == 1
                else f"{self.failed} failed inputs are recorded with their errors"
            )
            lines.append(f"{what}; rerun with --retry-failed to try again")
        return "\n".join(lines)


@dataclass(frozen=True)
class Estimate:
    """A dry run's token and cost estimate (nothing is generated)."""

    to_process: int
    skipped: int
    prompt_tokens: int
    """At most this many (an extraction's retry after a truncation included)."""
    max_output_tokens: int
    """At most this many (each request's ``max_tokens``, the retry's included)."""
    model: str
    cost_cents: float | None
    """An upper bound (no prefix-cache discount); None when the card has no pricing."""
    bounded: bool = True
    """False for the exact method's label trie walk: how many requests it makes
    depends on how the model spells the labels, so the figures are estimates."""

    def render(self) -> str:
        how = "at most" if self.bounded else "about"
        head = (
            f"dry run: {self.to_process} inputs to process ({self.skipped} already in the "
            f"output), {how} {self.prompt_tokens} prompt tokens and {how} "
            f"{self.max_output_tokens} output tokens"
        )
        if not self.bounded:
            head += (
                " (the exact method walks the label trie: one request per branching "
                "prefix if the model spells each label in its usual tokens, more otherwise)"
            )
        if self.cost_cents is None:
            return f"{head}; {self.model}'s card has no pricing, so no cost estimate"
        return (
            f"{head}; estimated cost {how} {format_cost(self.cost_cents)} at "
            f"{self.model}'s card pricing"
        )


def pending(items: Sequence[Item], done: set[str]) -> list[Item]:
    return [item for item in items if id_key(item.id) not in done]


def prepare(
    input_path: str, output_path: str, *, retry_failed: bool = False
) -> tuple[list[Item], int]:
    """``(inputs still to do, how many are done)``; recovers a torn output first."""
    items = read_inputs(input_path)
    done, _ = recover_output(output_path, retry_failed=retry_failed)
    todo = pending(items, done)
    return todo, len(items) - len(todo)


def estimate(
    job: BatchJob, todo: Sequence[Item], skipped: int, pricing: Pricing | None
) -> Estimate:
    """Tokens from the model's tokenizer, price from its card: no request is made."""
    from wafer_grammar.tasks import classification as cls
    from wafer_grammar.tasks import extraction as ext

    tokenizer = cls.tokenizer_for(job.model)
    prompt = output = 0
    todo = [item for item in todo if item.problem is None]  # recorded, never sent
    shared = shared_plan(job)
    bounded = True
    if isinstance(shared, cls.RunPlan) and shared.method == "exact":
        from wafer_grammar.tasks.label_trie import usual_walk_depths

        bounded = False
        depths = usual_walk_depths(shared.labels, shared.tokenizer)
        for item in todo:
            for ids in shared.for_text(item.text).prompts:
                prompt += sum(len(ids) + depth for depth in depths)
                output += len(depths)  # each step asks for one token
    elif isinstance(shared, cls.RunPlan):
        for item in todo:
            made = shared.for_text(item.text)
            prompt += sum(len(ids) for ids in made.prompts)
            output += int(made.options["max_tokens"]) * len(made.prompts)
    else:
        target = shared
        # A ceiling, not a guess: a truncated answer is retried once with RETRY_FACTOR
        # times the budget, and the retry sends the prompt again.
        for item in todo:
            prompt += 2 * len(ext.prompt_ids(item.text, target, tokenizer, job.instructions))
            output += job.max_tokens * (1 + ext.RETRY_FACTOR)
    cost = None
    if pricing is not None:
        cost = (
            prompt * pricing.input_cents_per_million + output * pricing.output_cents_per_million
        ) / 1_000_000
    return Estimate(len(todo), skipped, prompt, output, job.model, cost, bounded)


class Gate:
    """A shared pause: after an escaped 429, no worker sends until it is over.

    ``clock`` and ``sleep`` are the time it keeps (tests pass a fake clock).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.until = float("-inf")
        self._clock = clock
        self._sleep = sleep

    def pause(self, seconds: float) -> None:
        self.until = max(self.until, self._clock() + seconds)

    async def wait(self) -> None:
        while (left := self.until - self._clock()) > 0:
            await self._sleep(left)


def shared_plan(job: BatchJob) -> RunPlan | Target:
    """What every input of the run shares, built once: the classification plan (grammar,
    options, tokenizer) or the extraction target (schema grammar).

    Raises:
        InvalidLabels, UnsupportedSchema: before anything is sent.
    """
    from wafer_grammar.tasks import classification as cls
    from wafer_grammar.tasks import extraction as ext

    if job.task == "classify":
        return cls.run_plan(
            job.labels,
            cls.tokenizer_for(job.model),
            instructions=job.instructions,
            orders=job.orders,
        )
    return ext.target_of(job.schema)


async def _result(
    job: BatchJob, shared: RunPlan | Target, client: AsyncWaferClient, item: Item
) -> dict[str, Any]:
    from wafer_grammar.tasks.classification import RunPlan, text_steps
    from wafer_grammar.tasks.extraction import extraction_steps

    if isinstance(shared, RunPlan):
        # label design was checked once for the whole run (summary.label_warnings)
        found = await arun_steps(text_steps(item.text, job.model, shared), client)
        return found.to_dict()
    extraction_body = extraction_steps(
        item.text,
        shared,
        model=job.model,
        instructions=job.instructions,
        max_tokens=job.max_tokens,
    )
    extraction = await arun_steps(extraction_body, client)
    return extraction.to_dict()


def error_record(item_id: Any, exc: BaseException) -> dict[str, Any]:
    # APIError messages never hold the key (the client guarantees it), so they go as they are
    return {"id": item_id, "error": {"type": type(exc).__name__, "message": str(exc)}}


async def process(
    job: BatchJob,
    client: AsyncWaferClient,
    todo: Sequence[Item],
    appender: Appender,
    summary: BatchSummary,
    progress: Progress,
    *,
    concurrency: int = 4,
    shared: RunPlan | Target | None = None,
) -> None:
    """Run ``todo`` with at most ``concurrency`` requests in flight, appending each record.

    Records are written in input order: one that finishes early waits (in memory)
    for those before it. A run that stops early (Ctrl-C, a cancelled task) still
    writes every record it finished, in order, so no answer paid for is lost.

    ``shared`` is the run's :func:`shared_plan` (built here when not given).
    """
    if shared is None:
        shared = shared_plan(job)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, not {concurrency!r}")
    queue: asyncio.Queue[tuple[int, Item, int]] = asyncio.Queue()
    for index, item in enumerate(todo):
        queue.put_nowait((index, item, 0))
    gate = Gate()
    finished: dict[int, dict[str, Any]] = {}
    next_to_write = 0

    def write_ready(*, all_finished: bool = False) -> None:
        # single-threaded event loop: these writes and the counters never interleave;
        # an OSError here ends the run (see run_batch)
        nonlocal next_to_write
        while finished:
            if next_to_write not in finished:
                if not all_finished:
                    return
                next_to_write = min(finished)
            record = finished.pop(next_to_write)
            next_to_write += 1
            appender.write(record)
            cents = record.get("cost_cents") or 0.0
            if "error" in record:
                summary.failed += 1
            else:
                summary.ok += 1
            summary.cost_cents += cents
            progress.advance(cents)

    async def worker() -> None:
        while True:
            try:
                index, item, requeued = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            if item.problem is not None:
                record = {**error_record(item.id, item.problem), "line": item.line}
            else:
                await gate.wait()
                try:
                    record = {"id": item.id, **await _result(job, shared, client, item)}
                except RateLimited as exc:
                    gate.pause(exc.retry_after if exc.retry_after is not None else DEFAULT_PAUSE)
                    if requeued < MAX_REQUEUES:
                        queue.put_nowait((index, item, requeued + 1))
                        continue
                    record = error_record(item.id, exc)
                except Exception as exc:
                    # whatever one input provokes (a bug included) is its own record, named
                    # by type: the other inputs go on
                    record = error_record(item.id, exc)
            finished[index] = record
            write_ready()

    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, max(len(todo), 1)))]
    try:
        await asyncio.gather(*workers)
    except OSError:
        raise  # the output cannot be written: nothing more is tried
    except BaseException:
        write_ready(all_finished=True)  # stopped early: keep what was finished
        raise
    finally:
        # after a failure (a write that failed, a cancel), no worker may go on writing
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def run_batch(
    job: BatchJob,
    input_path: str,
    output_path: str,
    *,
    client: AsyncWaferClient,
    concurrency: int = 4,
    retry_failed: bool = False,
    show_progress: bool = True,
) -> BatchSummary:
    """Process every input of ``input_path`` not yet in ``output_path``.

    Raises:
        BatchFileError: an unreadable input or one with an id used twice, or an output
            that is not a batch output.
        OutputWriteFailed: the output could not be written; the run stopped there.
        ValueError: a bad ``concurrency`` or job.
    """
    start = time.monotonic()
    todo, skipped = prepare(input_path, output_path, retry_failed=retry_failed)
    summary = BatchSummary(total=len(todo) + skipped, skipped=skipped)
    shared = shared_plan(job)  # InvalidLabels / UnsupportedSchema before anything is sent
    if job.task == "classify":
        from wafer_grammar.tasks.classification import tokenizer_for
        from wafer_grammar.tasks.design import design_warnings

        summary.label_warnings = design_warnings(job.labels, tokenizer_for(job.model))
    appender = Appender(output_path)
    progress = make_progress(len(todo), enabled=show_progress)
    try:
        await process(
            job, client, todo, appender, summary, progress, concurrency=concurrency, shared=shared
        )
    except OSError as exc:
        # only the appender raises OSError out of process(): each input's own are recorded
        raise OutputWriteFailed(
            output_path,
            saved=skipped + appender.written,
            total=summary.total,
            written=appender.written,
            errno=exc.errno,
            reason=exc.strerror or str(exc),
        ) from exc
    finally:
        progress.close()
        appender.close()
        summary.seconds = time.monotonic() - start
    return summary
