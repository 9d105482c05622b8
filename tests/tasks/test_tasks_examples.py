"""The task examples run end to end on the embedded engine, as a user would run them.

(examples/classify_reviews.py, ``make demo``, is run by tests/local/test_local_classify.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Offline, and on the embedded engine even where the developer has a key set.
ENV = {k: v for k, v in os.environ.items() if k != "WAFER_API_KEY"} | {"HF_HUB_OFFLINE": "1"}
EMBEDDED = (
    "backend: embedded engine (SmolLM2-135M-Instruct, WAFER_API_KEY is not set) at "
    "http://127.0.0.1:"
)


def run(*command: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command, env=ENV, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.mark.slow
def test_extract_contacts() -> None:
    done = run(sys.executable, str(EXAMPLES / "extract_contacts.py"))
    assert done.stderr.startswith(EMBEDDED)
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and all(" <- " in line for line in lines)


@pytest.mark.slow
def test_batch_extract_runs_then_resumes(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", str(EXAMPLES / "batch_extract.sh"), str(tmp_path)],
        env=ENV | {"PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summaries = [line for line in done.stderr.splitlines() if line.startswith("batch done:")]
    assert summaries[0].startswith("batch done: 2 processed (2 ok, 0 failed), 0 already in")
    assert summaries[1].startswith("batch done: 0 processed (0 ok, 0 failed), 2 already in")
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in records) == ["ann", "bob"]
    assert all(set(r["value"]) == {"name", "email"} for r in records)
    assert done.stdout.startswith("dry run: 2 inputs to process (0 already in the output), ")
