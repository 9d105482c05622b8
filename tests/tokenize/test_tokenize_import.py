"""Importing the package stays light: no tokenizers, transformers, jinja2 or gguf."""

from __future__ import annotations

import subprocess
import sys


def test_import_is_light() -> None:
    code = (
        "import sys, wafer_grammar, wafer_grammar.tokenize, wafer_grammar.cli.tokenize_cmd\n"
        "heavy = [m for m in ('tokenizers', 'transformers', 'jinja2', 'gguf', 'huggingface_hub',"
        " 'tiktoken', 'torch') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
