"""The ``wafer-grammar`` command: one module per command group, one exit-code convention.

See :mod:`wafer_grammar.cli.exits` for the exit codes and the error format and
:mod:`wafer_grammar.cli.entry` for the entry point.
"""

from __future__ import annotations

from wafer_grammar.cli.entry import build_parser, console_main, main

__all__ = ["build_parser", "console_main", "main"]
