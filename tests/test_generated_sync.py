"""The blocking client and task API are generated from the asyncio ones, and are current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_sync_client_is_generated_from_the_async_one() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "generate_sync.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_the_check_fails_on_a_stale_copy(tmp_path: Path) -> None:
    # The same script against a copy of the tree whose sync.py was edited by hand.
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "generate_sync.py").write_bytes(
        (ROOT / ".ci" / "generate_sync.py").read_bytes()
    )
    for name in ("client/aio.py", "client/sync.py", "tasks/api_async.py", "tasks/api_sync.py"):
        copy = tmp_path / "wafer_grammar" / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes((ROOT / "wafer_grammar" / name).read_bytes())
    stale = tmp_path / "wafer_grammar/client/sync.py"
    stale.write_text(stale.read_text(encoding="utf-8") + "\n# edited by hand\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    done = subprocess.run(
        [sys.executable, str(tmp_path / ".ci" / "generate_sync.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr == (
        "wafer_grammar/client/sync.py is stale: run `make sync-client` after editing "
        "wafer_grammar/client/aio.py\n"
    )
