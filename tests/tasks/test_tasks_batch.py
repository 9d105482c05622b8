"""Batch runs against the embedded server: records, resume, failures, rate limits, dry run,
and the kill -9 crash test."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from wafer_grammar.cli import main
from wafer_grammar.client import AsyncWaferClient, RetryPolicy
from wafer_grammar.local.faults import Fault
from wafer_grammar.tasks import BatchJob, run_batch
from wafer_grammar.tasks.classification import plan, tokenizer_for

LABELS = "positive,negative"


def inputs(tmp_path: Path, texts: list[str]) -> str:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    return str(path)


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def batch(server: Any, task: str, *args: str) -> int:
    return main(
        [
            "batch",
            task,
            "--base-url",
            server.base_url,
            "--model",
            server.model,
            "--no-progress",
            *args,
        ]
    )


SUMMARY = re.compile(
    r"batch done: (\d+) processed \((\d+) ok, (\d+) failed\), (\d+) already "
    r"in the output, cost \$0\.0000, \d+\.\d s"
)


def test_classify_batch_writes_each_input_once_and_resumes(
    server_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = inputs(tmp_path, ["Loved it.", "Broke in a day."])
    out = tmp_path / "out.jsonl"
    assert (
        batch(server_env, "classify", "--labels", LABELS, "--input", source, "--output", str(out))
        == 0
    )
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"backend: server at {server_env.base_url}"
    assert SUMMARY.fullmatch(err[-1]).groups() == ("2", "2", "0", "0")  # type: ignore[union-attr]
    got = records(out)
    assert sorted(r["id"] for r in got) == [1, 2]
    assert all(r["label"] in ("positive", "negative") and "probabilities" in r for r in got)
    assert (
        batch(server_env, "classify", "--labels", LABELS, "--input", source, "--output", str(out))
        == 0
    )
    last = capsys.readouterr().err.splitlines()[-1]
    assert SUMMARY.fullmatch(last).groups() == ("0", "0", "0", "2")  # type: ignore[union-attr]
    assert len(records(out)) == 2


def test_failures_are_recorded_and_retried(
    server_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = inputs(tmp_path, ["Loved it.", "Meh."])
    out = tmp_path / "out.jsonl"
    server_env.inject(Fault("status", status=400, path="/v1/completions"))
    assert (
        batch(
            server_env,
            "classify",
            "--labels",
            LABELS,
            "--input",
            source,
            "--output",
            str(out),
            "--concurrency",
            "1",
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err.endswith(
        "1 failed input is recorded with its error; rerun with --retry-failed to try again\n"
    )
    failed = [r for r in records(out) if "error" in r]
    assert [r["id"] for r in failed] == [1]
    assert failed[0]["error"]["type"] == "BadRequest"
    assert server_env.api_key not in out.read_text() and server_env.api_key not in err
    assert (
        batch(
            server_env,
            "classify",
            "--labels",
            LABELS,
            "--input",
            source,
            "--output",
            str(out),
            "--retry-failed",
        )
        == 0
    )
    got = records(out)
    assert sorted(r["id"] for r in got) == [1, 2] and not any("error" in r for r in got)


def test_an_escaped_rate_limit_pauses_and_requeues(local_server: Any, tmp_path: Path) -> None:
    source = inputs(tmp_path, ["Loved it."])
    out = tmp_path / "out.jsonl"
    local_server.inject(Fault.rate_limit(retry_after=1, path="/v1/completions"))
    job = BatchJob("classify", local_server.model, labels=("positive", "negative"))

    async def go() -> Any:
        async with AsyncWaferClient(
            base_url=local_server.base_url,
            api_key=local_server.api_key,
            retry=RetryPolicy(max_retries=0),
        ) as client:
            return await run_batch(job, source, str(out), client=client, show_progress=False)

    started = time.monotonic()
    summary = asyncio.run(go())
    assert time.monotonic() - started >= 1.0  # every worker waited out the Retry-After
    assert (summary.ok, summary.failed) == (1, 0)
    assert [r["id"] for r in records(out)] == [1]


def test_dry_run_estimates_without_generating(
    server_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = ["Loved it.", "Meh.", "Awful."]
    source = inputs(tmp_path, texts)
    out = tmp_path / "out.jsonl"
    out.write_text('{"id":1,"label":"positive"}\n')
    assert (
        batch(
            server_env,
            "classify",
            "--labels",
            LABELS,
            "--input",
            source,
            "--output",
            str(out),
            "--dry-run",
        )
        == 0
    )
    tokenizer = tokenizer_for(server_env.model)
    plans = [plan(t, ["positive", "negative"], tokenizer) for t in texts[1:]]
    prompt = sum(len(p.prompts[0]) for p in plans)
    output = sum(p.options["max_tokens"] for p in plans)
    assert capsys.readouterr().out == (
        f"dry run: 2 inputs to process (1 already in the output), {prompt} prompt tokens and "
        f"at most {output} output tokens; estimated cost at most $0.0000 at "
        "SmolLM2-135M-Instruct's card pricing\n"
    )
    assert all(r.path != "/v1/completions" for r in server_env.requests())


def test_extract_batch(server_env: Any, tmp_path: Path) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {"name": {"type": "string", "maxLength": 10}},
                "required": ["name"],
            }
        )
    )
    source = inputs(tmp_path, ["I am Bo Li."])
    out = tmp_path / "out.jsonl"
    assert (
        batch(
            server_env, "extract", "--schema", str(schema), "--input", source, "--output", str(out)
        )
        == 0
    )
    (got,) = records(out)
    assert got["id"] == 1 and isinstance(got["value"]["name"], str)


def check_output(path: Path, ids: set[int], *, complete: bool) -> None:
    """No id twice among the whole lines; with ``complete``, every id exactly once."""
    data = path.read_bytes() if path.exists() else b""
    whole = data[: data.rfind(b"\n") + 1]  # a torn tail is allowed mid-run only
    seen = [json.loads(line)["id"] for line in whole.splitlines()]
    assert len(seen) == len(set(seen)), f"duplicated ids: {sorted(seen)}"
    assert set(seen) <= ids
    if complete:
        assert whole == data and set(seen) == ids


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_and_repeats_nothing(
    local_server: Any, tmp_path: Path
) -> None:
    # enough inputs that every kill lands mid-run; the final run finishes the rest
    n = 100
    source = inputs(tmp_path, [f"Review {i}: {'good' if i % 2 else 'bad'}." for i in range(n)])
    out = tmp_path / "out.jsonl"
    command = [
        sys.executable,
        "-m",
        "wafer_grammar.cli",
        "batch",
        "classify",
        "--base-url",
        local_server.base_url,
        "--model",
        local_server.model,
        "--labels",
        LABELS,
        "--input",
        source,
        "--output",
        str(out),
        "--concurrency",
        "2",
        "--no-progress",
    ]
    env = {**os.environ, "WAFER_API_KEY": local_server.api_key, "HF_HUB_OFFLINE": "1"}
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    killed_mid_run = killed_while_writing = 0
    for _ in range(20):
        before = out.stat().st_size if out.exists() else 0
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.3, 2.2))
        if process.poll() is None:
            killed_mid_run += 1
            os.kill(process.pid, signal.SIGKILL)
            # results landed during this run, so the kill hit a run that was writing
            killed_while_writing += out.exists() and out.stat().st_size > before
        process.wait()
        check_output(out, set(range(1, n + 1)), complete=False)
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, (seed, finished.stderr)
    check_output(out, set(range(1, n + 1)), complete=True)
    assert killed_mid_run == 20, f"seed {seed}: only {killed_mid_run} kills landed mid-run"
    assert killed_while_writing >= 10, (seed, killed_while_writing)
