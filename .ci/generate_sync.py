"""Generate the blocking code from the asyncio code (``make sync-client``).

``wafer_grammar/client/aio.py`` (the client) and ``wafer_grammar/tasks/api_async.py``
(the tasks' API) are the only hand-written copies; this script runs unasync over
each (``async``/``await`` removed, names mapped below) and formats the result with
ruff. ``--check`` exits 1 when a generated file differs from what it would write:
``make test`` runs it, so a stale generated file fails the build.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import unasync

ROOT = Path(__file__).resolve().parent.parent
# source -> generated file, each relative to the repository root
PAIRS = {
    "wafer_grammar/client/aio.py": "wafer_grammar/client/sync.py",
    "wafer_grammar/tasks/api_async.py": "wafer_grammar/tasks/api_sync.py",
}

# Beyond unasync's own (__aenter__, AsyncIterator, ...): httpx's and our async names.
REPLACEMENTS = {
    "AsyncWaferClient": "WaferClient",
    "AsyncStream": "Stream",
    "AsyncClient": "Client",
    "AsyncBaseTransport": "BaseTransport",
    "aiter_bytes": "iter_bytes",
    "aread": "read",
    "aclose": "close",
    "asyncio": "time",  # only asyncio.sleep is used: time.sleep
    "arun_steps": "run_steps",
    "amap_limited": "map_limited",
    "aclassify": "classify",
    "aextract_full": "extract_full",
    "aextract": "extract",
    "aextract_stream": "extract_stream",
    "astream_texts": "stream_texts",
    "alabel_distribution": "label_distribution",
    "open_async_client": "open_client",
    "api_async": "api_sync",
}

HEADER = '''"""GENERATED from :mod:`{module}` by unasync; do not edit.

Edit that file and run ``make sync-client``; a test fails when this one is stale.
"""
'''


def render(source_path: str, target_path: str) -> str:
    """The text the generated file should have."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "_async" / "module.py"
        source.parent.mkdir()
        shutil.copyfile(ROOT / source_path, source)
        rule = unasync.Rule("/_async/", "/_sync/", additional_replacements=REPLACEMENTS)
        unasync.unasync_files([str(source)], rules=[rule])
        text = (Path(tmp) / "_sync" / "module.py").read_text(encoding="utf-8")
    # Swap the module docstring (the first statement) for the generated file's own.
    end = text.index('"""', 3) + 3
    module = source_path.removesuffix(".py").replace("/", ".")
    text = HEADER.format(module=module) + text[end:].lstrip("\n").join(["\n", ""])
    ruff = Path(sys.executable).with_name("ruff")
    formatted = subprocess.run(
        [str(ruff if ruff.exists() else "ruff"), "format", "--stdin-filename", target_path, "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return formatted.stdout


def main(argv: list[str]) -> int:
    status = 0
    for source, target in PAIRS.items():
        expected = render(source, target)
        path = ROOT / target
        if "--check" not in argv:
            path.write_text(expected, encoding="utf-8")
        elif not path.exists() or path.read_text(encoding="utf-8") != expected:
            print(
                f"{target} is stale: run `make sync-client` after editing {source}", file=sys.stderr
            )
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
