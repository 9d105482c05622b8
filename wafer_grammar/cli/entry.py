"""The entry point: the parser of every command group, and the one place errors are printed."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from wafer_grammar.cli import grammar_cmd, serve_cmd, tasks_cmd, testing_cmd, tokenize_cmd
from wafer_grammar.cli.exits import EXIT_ERROR, EXIT_INTERRUPTED, CommandError, print_error
from wafer_grammar.errors import WaferGrammarError

# Each group keeps its heavy imports inside its handlers, so building the parser is cheap.
_GROUPS = (grammar_cmd, testing_cmd, tokenize_cmd, serve_cmd, tasks_cmd)


def build_parser() -> argparse.ArgumentParser:
    """The ``wafer-grammar`` argument parser with every command."""
    parser = argparse.ArgumentParser(
        prog="wafer-grammar",
        description="Grammar-constrained, token-level work against Wafer's LLM API.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in _GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wafer-grammar`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (CommandError, WaferGrammarError) as exc:
        print_error(exc)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print_error("interrupted")
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
