"""``wafer-grammar classify | extract | batch``: the tasks on the command line.

The backend is chosen by :mod:`wafer_grammar.tasks.backend` (``--base-url``, else
Wafer when ``WAFER_API_KEY`` is set, else the embedded engine) and named on
stderr, so a run never talks to a server the user did not expect.
Exit codes: 0 success; 1 a batch finished with failed inputs; 2 the command could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from wafer_grammar.cli.exits import (
    EXIT_FAIL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CommandError,
    ignore_further_interrupts,
)
from wafer_grammar.tasks.backend import Backend, choose


def _labels(text: str) -> list[str]:
    from wafer_grammar.errors import InvalidLabels
    from wafer_grammar.label_set import validate_labels

    labels = [label.strip() for label in text.split(",")]
    if not all(labels):
        raise CommandError(f"--labels needs comma-separated, non-empty labels, not {text!r}")
    try:
        return list(validate_labels(labels))
    except InvalidLabels as exc:
        raise CommandError(f"--labels: {exc}") from exc


def _preflight(args: argparse.Namespace, *, labels: list[str] | None = None) -> None:
    """Every argument checked before anything slow (a model load, a server) starts."""
    from wafer_grammar.local.engine_config import MODEL_ID
    from wafer_grammar.tasks.classification import label_orders

    _check_model(args)
    if args.model is not None and choose(args.base_url) == "embedded" and args.model != MODEL_ID:
        raise CommandError(
            f"--model {args.model!r}: the embedded engine serves {MODEL_ID!r} only; "
            "set WAFER_API_KEY or --base-url to use another model"
        )
    if labels is not None:
        try:
            label_orders(labels, args.orders)
        except ValueError as exc:
            raise CommandError(f"--orders: {exc}") from exc
    if getattr(args, "max_tokens", 1) < 1:
        raise CommandError(f"--max-tokens must be a positive integer, not {args.max_tokens}")
    output = getattr(args, "output", None)
    if output is not None and not Path(output).resolve().parent.is_dir():
        raise CommandError(f"--output {output}: the folder {Path(output).parent} does not exist")


def _grammar_of(schema: dict[str, Any], path: str) -> None:
    """The schema converted now, so a keyword the grammar cannot enforce stops the run early."""
    from wafer_grammar.errors import UnsupportedSchema
    from wafer_grammar.grammar import Grammar

    try:
        Grammar.from_json_schema(schema)
    except UnsupportedSchema as exc:
        where = exc.pointer or "the root"
        message = f'{path}: keyword "{exc.keyword}" at {where} {exc.reason}'
        if exc.lax_helps:
            message += (
                "; the command line converts strictly: drop the keyword, or use "
                "Grammar.from_json_schema(..., strict=False) from Python"
            )
        raise CommandError(message) from exc


def _schema(path: str) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"{path} is not a JSON file: {exc}") from exc
    if not isinstance(doc, dict):
        raise CommandError(f"{path} must hold a JSON Schema object")
    return doc


def _check_model(args: argparse.Namespace) -> None:
    """Fail before any server starts when the model cannot be known."""
    if args.model is None and choose(args.base_url) != "embedded":
        raise CommandError(
            "--model is required unless the embedded engine is used "
            "(no WAFER_API_KEY and no --base-url)"
        )


def _model(args: argparse.Namespace, backend: Backend) -> str:
    model = args.model or backend.embedded_model
    assert model is not None, "checked by _check_model"
    return str(model)


@contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """Python warnings (label design) as ``warning: ...`` lines, not a traceback-ish dump."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for warning in caught:
                print(f"warning: {warning.message}", file=sys.stderr)


def cmd_classify(args: argparse.Namespace) -> int:
    from wafer_grammar.tasks.api_sync import classify
    from wafer_grammar.tasks.backend import open_client

    labels = _labels(args.labels)
    _preflight(args, labels=labels)
    with open_client(args.base_url) as (client, backend):
        print(backend.describe(), file=sys.stderr)
        with _warnings_to_stderr():
            found = classify(
                args.text,
                labels,
                model=_model(args, backend),
                client=client,
                instructions=args.instructions,
                orders=args.orders,
            )
    if args.json:
        print(json.dumps(found.to_dict(), ensure_ascii=False))
        return EXIT_OK
    print("\n".join(render_classification(found, orders=args.orders)))
    return EXIT_OK


def render_classification(found: Any, *, orders: int) -> list[str]:
    """The label, then each label's probability (most likely first), in aligned columns."""
    lines = [found.label]
    width = max(len(label) for label in found.probabilities)
    for label, p in sorted(found.probabilities.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {label:<{width}}  {p:.3f}")
    if found.position_spread is not None:
        lines.append(f"position spread over {orders} label orders: {found.position_spread:.3f}")
    return lines


def cmd_extract(args: argparse.Namespace) -> int:
    from wafer_grammar.tasks.api_sync import extract_full, extract_stream
    from wafer_grammar.tasks.backend import open_client

    schema = _schema(args.schema)
    _grammar_of(schema, args.schema)
    _preflight(args)
    with open_client(args.base_url) as (client, backend):
        print(backend.describe(), file=sys.stderr)
        request: dict[str, Any] = {
            "model": _model(args, backend),
            "client": client,
            "instructions": args.instructions,
            "max_tokens": args.max_tokens,
        }
        if args.stream:
            # The views go to stderr, one JSON line each: stdout is as without --stream.
            for update in extract_stream(args.text, schema, **request):
                if update.extraction is None:
                    print(json.dumps(update.value, ensure_ascii=False), file=sys.stderr, flush=True)
                else:
                    found = update.extraction
        else:
            found = extract_full(args.text, schema, **request)
    if args.json:
        print(json.dumps(found.to_dict(), ensure_ascii=False))
    else:
        print(json.dumps(found.value, ensure_ascii=False, indent=2))
    return EXIT_OK


def cmd_batch(args: argparse.Namespace) -> int:
    from wafer_grammar.tasks.batch import BatchJob

    if args.task == "classify":
        labels = _labels(args.labels)
        _preflight(args, labels=labels)
        job_args: dict[str, Any] = {"labels": tuple(labels), "orders": args.orders}
    else:
        schema = _schema(args.schema)
        _grammar_of(schema, args.schema)
        _preflight(args)
        job_args = {"schema": schema, "max_tokens": args.max_tokens}
    try:
        return asyncio.run(
            _batch(
                args,
                lambda model: BatchJob(
                    args.task, model, instructions=args.instructions, **job_args
                ),
            )
        )
    except KeyboardInterrupt:
        ignore_further_interrupts()
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED


async def _batch(args: argparse.Namespace, make_job: Callable[[str], Any]) -> int:
    from wafer_grammar.tasks.backend import open_async_client
    from wafer_grammar.tasks.batch import estimate, prepare, run_batch

    async with open_async_client(args.base_url) as (client, backend):
        print(backend.describe(), file=sys.stderr)
        job = make_job(_model(args, backend))
        if args.dry_run:
            # only the model card is fetched (GET /v1/models): nothing is generated
            todo, skipped = prepare(args.input, args.output, retry_failed=args.retry_failed)
            card = await client.model(job.model)
            print(estimate(job, todo, skipped, card.pricing).render())
            return EXIT_OK
        with _warnings_to_stderr(), _deaf_once_cancelled():
            summary = await run_batch(
                job,
                args.input,
                args.output,
                client=client,
                concurrency=args.concurrency,
                retry_failed=args.retry_failed,
                show_progress=not args.no_progress,
            )
    print(summary.render(), file=sys.stderr)
    return EXIT_FAIL if summary.failed else EXIT_OK


@contextmanager
def _deaf_once_cancelled() -> Iterator[None]:
    """asyncio.run turns the first Ctrl-C into a cancellation of the batch; from then
    on ignore Ctrl-C, so the clean-up (records flushed, generations cut) completes."""
    try:
        yield
    except asyncio.CancelledError:
        ignore_further_interrupts()
        raise


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model ID (default: the embedded engine's model)")
    parser.add_argument(
        "--base-url",
        type=_base_url,
        help="any Wafer-compatible server, e.g. http://127.0.0.1:8000/v1 (key: $WAFER_API_KEY)",
    )
    parser.add_argument("--instructions", help="replace the default instruction line")


def _classify_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labels", required=True, help="comma-separated labels: a,b,c")
    parser.add_argument(
        "--orders",
        type=int,
        default=1,
        help="label orders to try per text, to measure position bias",
    )


def _extract_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schema", required=True, help="a JSON Schema file")
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=256,
        help="first output budget; a truncation is retried once with 4x",
    )


def _base_url(text: str) -> str:
    # checked while parsing, before any model or server starts
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(
            f"must start with http:// or https://, e.g. http://{text.rstrip('/')}/v1"
            if "://" not in text
            else f"must start with http:// or https://, not {text!r}"
        )
    return text


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``classify``, ``extract`` and ``batch`` to the ``wafer-grammar`` command."""
    p = sub.add_parser("classify", help="label a text with exactly one of --labels")
    _classify_options(p)
    _common(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("text")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("extract", help="extract JSON matching --schema from a text")
    _extract_options(p)
    _common(p)
    p.add_argument("--json", action="store_true", help="print value, usage and cost as JSON")
    p.add_argument(
        "--stream",
        action="store_true",
        help="show the value so far on stderr as it arrives, one JSON line per change",
    )
    p.add_argument("text")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("batch", help="classify or extract every line of a JSONL file")
    tasks = p.add_subparsers(dest="task", metavar="TASK", required=True)
    for name, options in (("classify", _classify_options), ("extract", _extract_options)):
        t = tasks.add_parser(name, help=f"{name} each input's text")
        options(t)
        _common(t)
        t.add_argument("--input", required=True, help='JSONL: {"text": ..., "id": ...} a line')
        t.add_argument(
            "--output",
            required=True,
            help="JSONL results, appended; a rerun resumes where it stopped",
        )
        t.add_argument("--concurrency", type=int, default=4, help="requests in flight")
        t.add_argument(
            "--retry-failed",
            action="store_true",
            help="run the inputs whose earlier attempt failed again",
        )
        t.add_argument(
            "--dry-run", action="store_true", help="estimate tokens and cost; generate nothing"
        )
        t.add_argument("--no-progress", action="store_true", help="no progress bar")
        t.set_defaults(func=cmd_batch)
