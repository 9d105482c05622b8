"""``wafer-grammar test`` and ``wafer-grammar sample``: grammar unit tests from the shell.

``register(subparsers)`` adds both commands; each handler returns the exit
code: 0 all passed, 1 a check failed, 2 the command could not run (missing
file, invalid grammar for ``sample``, xgrammar not installed).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from wafer_grammar.cli.exits import EXIT_ERROR, EXIT_FAIL, EXIT_OK, print_error
from wafer_grammar.errors import WaferGrammarError


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage, got {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected a percentage from 0 to 100, got {text}")
    return value


def _indent(text: str, pad: str = "    ") -> str:
    return "\n".join(pad + line if line else line for line in text.split("\n"))


def cmd_test(args: argparse.Namespace) -> int:
    from wafer_grammar.testing.generate import Bounds
    from wafer_grammar.testing.runner import find_grammars, run_grammar

    try:
        paths = find_grammars(args.paths)
        if args.engine == "xgrammar":
            _require_xgrammar()
    except WaferGrammarError as exc:
        print_error(exc)
        return EXIT_ERROR
    bounds = Bounds(max_depth=args.max_depth)
    passed = failed = 0
    for path in paths:
        run = run_grammar(path, samples=args.n, engine=args.engine, seed=args.seed, bounds=bounds)
        print(f"{path}: {run.passed} passed, {run.failed} failed")
        if run.error is not None:
            print(_indent(f"ERROR {run.error}", "  "))
        for check in run.checks:
            if not check.passed:
                print(_indent(f"FAILED {check.message}", "  "))
        if run.case_path is None:
            print(f"  no case file (write {path.stem}.cases.toml beside it)")
        if run.coverage is not None:
            print(_indent(run.coverage.render(), "  "))
        low = (
            args.fail_under is not None
            and run.error is None
            and (run.coverage is None or run.coverage.percent() < args.fail_under)
        )
        if low:
            got = 0.0 if run.coverage is None else run.coverage.percent()
            print(f"  FAILED coverage {got:.0f}% is under --fail-under {args.fail_under:g}%")
        passed += run.passed
        failed += run.failed + low
    print(f"{passed} passed, {failed} failed")
    return EXIT_FAIL if failed else EXIT_OK


def _require_xgrammar() -> None:
    from wafer_grammar.engines.xgrammar_oracle import XGrammarUnavailable, xgrammar_available
    from wafer_grammar.testing.assertions import NO_XGRAMMAR

    if not xgrammar_available():
        raise XGrammarUnavailable(f"--engine xgrammar: {NO_XGRAMMAR}")


def cmd_sample(args: argparse.Namespace) -> int:
    from wafer_grammar.testing.generate import Bounds
    from wafer_grammar.testing.near_miss import sample_near_misses
    from wafer_grammar.testing.runner import load_grammar_for
    from wafer_grammar.testing.strategies import sample_members

    bounds = Bounds(max_depth=args.max_depth)
    try:
        grammar = load_grammar_for(Path(args.grammar), args.root)
        if args.near_misses:
            texts = [
                m.text for m in sample_near_misses(grammar, args.n, seed=args.seed, bounds=bounds)
            ]
        else:
            texts = [
                t.flatten() for t in sample_members(grammar, args.n, seed=args.seed, bounds=bounds)
            ]
    except WaferGrammarError as exc:
        print_error(exc)
        return EXIT_ERROR
    for text in texts:
        print(json.dumps(text, ensure_ascii=False) if args.json else text)
    if len(texts) < args.n:
        what = "near-misses" if args.near_misses else "distinct members"
        print_error(f"found only {len(texts)} {what} of {args.n} asked")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``test`` and ``sample`` subcommands to ``wafer-grammar``."""
    test = subparsers.add_parser(
        "test",
        help="run grammars' case files, generated members and near-misses",
        description=(
            "Test grammars: the accept/reject cases of NAME.cases.toml beside each "
            "NAME.ebnf, N generated members (each checked against the case file's "
            "downstream) and N near-misses; then report which rules and alternatives "
            "no accepted case exercised."
        ),
    )
    test.add_argument("paths", nargs="+", metavar="PATH", help=".ebnf files or directories")
    test.add_argument(
        "-n",
        type=_positive,
        default=20,
        metavar="N",
        help="generated members and near-misses per grammar (default: 20)",
    )
    test.add_argument(
        "--engine",
        choices=("wafer", "xgrammar"),
        default="wafer",
        help="xgrammar: also ask XGrammar for every verdict and report disagreements",
    )
    test.add_argument("--seed", type=int, default=0, help="seed for generation (default: 0)")
    test.add_argument(
        "--max-depth",
        type=_positive,
        default=5,
        metavar="D",
        help="nesting depth of recursive rules in generated text (default: 5)",
    )
    test.add_argument(
        "--fail-under",
        type=_percent,
        metavar="PERCENT",
        help="also fail a grammar whose case file covers less than PERCENT",
    )
    test.set_defaults(func=cmd_test)

    sample = subparsers.add_parser(
        "sample", help="print generated members (or near-misses) of a grammar"
    )
    sample.add_argument("grammar", metavar="FILE")
    sample.add_argument(
        "-n", type=_positive, default=10, metavar="N", help="how many (default: 10)"
    )
    sample.add_argument(
        "--near-misses",
        action="store_true",
        help="print rejected strings one small edit away from a member instead",
    )
    sample.add_argument("--root", default="root", help="entry rule name (default: root)")
    sample.add_argument("--seed", type=int, help="seed for reproducible output")
    sample.add_argument(
        "--max-depth",
        type=_positive,
        default=5,
        metavar="D",
        help="nesting depth of recursive rules (default: 5)",
    )
    sample.add_argument(
        "--json", action="store_true", help="print each as a JSON string (one per line)"
    )
    sample.set_defaults(func=cmd_sample)
