"""Batch runs against the embedded server: records, resume, failures, rate limits, dry run,
and the kill -9 crash test."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from wafer_grammar.cli import main
from wafer_grammar.client import AsyncWaferClient, RetryPolicy
from wafer_grammar.local.faults import Fault
from wafer_grammar.tasks import BatchJob, run_batch
from wafer_grammar.tasks import batch as batch_module
from wafer_grammar.tasks.batch import Gate
from wafer_grammar.tasks.classification import plan, tokenizer_for
from wafer_grammar.tasks.jsonl import STALL_VARIABLE

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


class FakeClock:
    """Time for the batch's rate-limit gate: sleeping advances it at once, and is logged."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_an_escaped_rate_limit_pauses_and_requeues(
    local_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = inputs(tmp_path, ["Loved it."])
    out = tmp_path / "out.jsonl"
    local_server.inject(Fault.rate_limit(retry_after=1, path="/v1/completions"))
    job = BatchJob("classify", local_server.model, labels=("positive", "negative"))
    fake = FakeClock()
    monkeypatch.setattr(batch_module, "Gate", lambda: Gate(fake.clock, fake.sleep))

    async def go() -> Any:
        async with AsyncWaferClient(
            base_url=local_server.base_url,
            api_key=local_server.api_key,
            retry=RetryPolicy(max_retries=0),
        ) as client:
            return await run_batch(job, source, str(out), client=client, show_progress=False)

    summary = asyncio.run(go())
    assert fake.slept == [1.0]  # the worker waited out the Retry-After before the requeue
    assert (summary.ok, summary.failed) == (1, 0)
    assert [r["id"] for r in records(out)] == [1]
    assert local_server.faults.pending() == []


def test_one_bad_input_among_fifty_is_one_error_record(
    server_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [json.dumps({"text": f"Review {i}: {'good' if i % 2 else 'bad'}."}) for i in range(50)]
    lines[16] = '{"text": "Good \\ud800 stuff"}'  # valid JSON, but not valid Unicode text
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = ["--labels", LABELS, "--input", str(source), "--output", str(out)]
    assert batch(server_env, "classify", *args) == 1
    err = capsys.readouterr().err.splitlines()
    assert SUMMARY.fullmatch(err[-2]).groups() == ("50", "49", "1", "0")  # type: ignore[union-attr]
    got = [json.loads(line) for line in out.read_bytes().decode("utf-8").splitlines()]
    assert sorted(r["id"] for r in got) == list(range(1, 51))
    failed = [r for r in got if "error" in r]
    assert failed == [
        {
            "id": 17,
            "error": {
                "type": "InvalidInput",
                "message": f'{source}, line 17: the "text" field is not valid Unicode (a lone '
                "surrogate \\ud800 at character 6)",
            },
            "line": 17,
        }
    ]
    assert all(r["label"] in ("positive", "negative") for r in got if "error" not in r)
    # the rerun has nothing left to do: the bad input has its record too
    assert batch(server_env, "classify", *args) == 0
    last = capsys.readouterr().err.splitlines()[-1]
    assert SUMMARY.fullmatch(last).groups() == ("0", "0", "0", "50")  # type: ignore[union-attr]


def test_a_bad_id_is_recorded_under_its_line_number(
    server_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"id": "a", "text": "Loved it."}\n{"id": "\\udc00x", "text": "Meh."}\n'
        '{"id": {"k": 1}, "text": "Meh."}\nnot json\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    args = ["--labels", LABELS, "--input", str(source), "--output", str(out)]
    assert batch(server_env, "classify", *args) == 1
    got = {r["id"]: r for r in records(out)}
    assert sorted(got, key=str) == [2, 3, 4, "a"]
    assert "error" not in got["a"]
    assert {k: got[k]["error"]["message"] for k in (2, 3, 4)} == {
        2: f'{source}, line 2: the "id" field is not valid Unicode (a lone surrogate \\udc00 at '
        "character 1)",
        3: f'{source}, line 3: the "id" field must be a string or a number',
        4: f"{source}, line 4: not valid JSON (Expecting value)",
    }
    capsys.readouterr()


def run_limited(command: list[str], env: dict[str, str], max_bytes: int) -> Any:
    """``command`` (a ``python -m`` one) in a process whose files may not grow past
    ``max_bytes``: a full disk, as the process sees it (EFBIG; SIGXFSZ ignored so that
    the write fails instead of killing the process)."""
    launcher = (
        "import resource, runpy, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({max_bytes}, {max_bytes}))\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
    )
    assert command[1] == "-m"
    return subprocess.run(
        [command[0], "-c", launcher, *command[2:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_full_disk_stops_the_run_with_one_line_and_the_rerun_completes(
    local_server: Any, tmp_path: Path
) -> None:
    n = 8
    source = inputs(tmp_path, [f"Review {i}." for i in range(n)])
    out = tmp_path / "out.jsonl"
    command = cli_command(local_server, source, out)
    env = {**os.environ, "WAFER_API_KEY": local_server.api_key, "HF_HUB_OFFLINE": "1"}
    limit = 500  # room for a few records, not for eight
    stopped = run_limited(command, env, limit)
    data = out.read_bytes()
    saved = data.count(b"\n")
    assert stopped.returncode == 2, stopped.stderr
    assert stopped.stderr.splitlines() == [
        f"backend: server at {local_server.base_url}",
        f"wafer-grammar: cannot write to {out}: File too large; {saved} of {n} records are "
        f"saved there ({saved} from this run); fix that and run the same command again to "
        "resume",
    ]
    assert 0 < saved < n and len(data) <= limit
    assert data.endswith(b"\n")  # the line that did not fit was cut back off
    check_output(out, set(range(1, n + 1)), complete=False)
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    last = resumed.stderr.splitlines()[-1]
    assert SUMMARY.fullmatch(last).groups() == (  # type: ignore[union-attr]
        str(n - saved),
        str(n - saved),
        "0",
        str(saved),
    )
    check_output(out, set(range(1, n + 1)), complete=True)


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
        f"dry run: 2 inputs to process (1 already in the output), at most {prompt} prompt tokens and "
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


def cli_command(server: Any, source: str, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "wafer_grammar.cli",
        "batch",
        "classify",
        "--base-url",
        server.base_url,
        "--model",
        server.model,
        "--labels",
        LABELS,
        "--input",
        source,
        "--output",
        str(out),
        "--no-progress",
        *extra,
    ]


def stall_line(process: subprocess.Popen[str], limit: float = 300.0) -> str:
    """The child's "stalled after ..." line, read from its stderr (it then waits to be
    killed). ``limit`` only guards against a hang; no outcome depends on it."""
    guard = threading.Timer(limit, process.kill)
    guard.start()
    seen: list[str] = []
    try:
        assert process.stderr is not None
        while line := process.stderr.readline():
            if line.startswith("stalled after "):
                return line.rstrip("\n")
            seen.append(line)
    finally:
        guard.cancel()
    raise AssertionError(f"the run ended without stalling: {''.join(seen)}")


# (whole records this run writes, bytes of the next record written) before each kill:
# kills between two records (requests in flight) and kills in the middle of a line
KILL_POINTS = [(1 + i % 3, (0, 1, 17, 60)[i % 4]) for i in range(20)]


@pytest.mark.slow
def test_kill_9_mid_write_loses_and_repeats_nothing(local_server: Any, tmp_path: Path) -> None:
    # each run stops at a chosen point of its write sequence (the appender's stall hook) and
    # is killed there; 100 inputs are more than all twenty runs write, so every kill lands
    # mid-run, and the final run finishes the rest
    n = 100
    ids = set(range(1, n + 1))
    source = inputs(tmp_path, [f"Review {i}: {'good' if i % 2 else 'bad'}." for i in range(n)])
    out = tmp_path / "out.jsonl"
    command = cli_command(local_server, source, out, "--concurrency", "2")
    env = {**os.environ, "WAFER_API_KEY": local_server.api_key, "HF_HUB_OFFLINE": "1"}
    whole = 0
    for records_, cut in KILL_POINTS:
        with subprocess.Popen(
            command,
            env={**env, STALL_VARIABLE: f"{records_}:{cut}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            try:
                line = stall_line(process)
            finally:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        assert process.returncode == -signal.SIGKILL
        assert line == f"stalled after {records_} records and {cut} bytes"
        data = out.read_bytes()
        done = data[: data.rfind(b"\n") + 1]
        # this run cut the last run's torn line, then wrote exactly its records; the kill
        # tore the next one after exactly `cut` bytes
        assert done.count(b"\n") == whole + records_
        assert len(data) - len(done) == cut
        whole += records_
        check_output(out, ids, complete=False)
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    check_output(out, ids, complete=True)
