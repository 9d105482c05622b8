"""Importing the local package (and its CLI and fixtures) stays light."""

from __future__ import annotations

import subprocess
import sys


def test_import_is_light() -> None:
    code = (
        "import sys, wafer_grammar, wafer_grammar.local, wafer_grammar.cli.serve_cmd, "
        "wafer_grammar.local.pytest_fixtures\n"
        "heavy = [m for m in ('torch', 'transformers', 'xgrammar', 'tokenizers', 'numpy')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
