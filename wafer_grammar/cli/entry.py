"""The entry point: the parser of every command group, and the one place errors are printed."""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import threading
from collections.abc import Sequence

from wafer_grammar.cli import grammar_cmd, serve_cmd, tasks_cmd, testing_cmd, tokenize_cmd
from wafer_grammar.cli.exits import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    CommandError,
    ignore_further_interrupts,
    print_error,
)
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
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if in_main_thread else None
    try:
        return int(args.func(args))
    except (CommandError, WaferGrammarError) as exc:
        print_error(exc)
        return EXIT_ERROR
    except KeyboardInterrupt:
        ignore_further_interrupts()
        print_error("interrupted")
        return EXIT_INTERRUPTED
    finally:
        # Called in-process (argv given, as tests and scripts do): leave Ctrl-C as it
        # was. From the console script the process is ending: stay deaf to it.
        if argv is not None and previous is not None:
            signal.signal(signal.SIGINT, previous)


def console_main() -> None:
    """The console script: :func:`main`, then exit; after Ctrl-C, without the slow part.

    Unloading torch and the model at interpreter exit takes about a second. Once
    interrupted, every file is closed and the exit handlers (which cut the embedded
    engine's generations) have run, so the process ends at once instead.
    """
    code = main()
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        atexit._run_exitfuncs()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    console_main()
