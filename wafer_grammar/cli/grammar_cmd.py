"""``wafer-grammar check | accepts | fmt``: grammar files on the command line.

Exit codes (:mod:`wafer_grammar.cli.exits`): 0 fine; 1 the check found errors or
the text was rejected; 2 the command could not run (unreadable file, invalid
grammar for ``accepts``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from wafer_grammar.cli.exits import EXIT_ERROR, EXIT_FAIL, EXIT_OK, CommandError, print_error
from wafer_grammar.cli.exits import read_text as _read
from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.errors import GrammarError, OutputMismatch
from wafer_grammar.grammar import Grammar

PROFILES = ("gbnf", "xgrammar-0.1", "xgrammar-0.2")


def _diagnostics_for(path: str, args: argparse.Namespace) -> tuple[str, list[Diagnostic]]:
    text = _read(path)
    try:
        grammar = Grammar.from_ebnf(text, root=args.root)
    except GrammarError as exc:
        return text, exc.diagnostics
    return text, grammar.check(profile=args.profile)


def _grammar_files(names: list[str]) -> list[str]:
    """The files named, a directory standing for the ``.ebnf`` files under it."""
    out: list[str] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            under = sorted(str(p) for p in path.rglob("*.ebnf"))
            if not under:
                raise CommandError(f"no .ebnf files under {name}")
            out += under
        else:
            out.append(name)
    return out


def cmd_check(args: argparse.Namespace) -> int:
    failed = unreadable = False
    report: list[dict[str, object]] = []
    for path in _grammar_files(args.files):
        try:
            text, diagnostics = _diagnostics_for(path, args)
        except CommandError as exc:
            print_error(exc)  # one unreadable file does not hide what the others say
            unreadable = True
            continue
        for diag in diagnostics:
            if diag.severity == "error" or (args.strict and diag.severity == "warning"):
                failed = True
            if args.json:
                report.append({"file": path, **diag.to_dict()})
            else:
                print(diag.render(text, filename=path))
        if not args.json and not diagnostics and not args.quiet:
            print(f"{path}: ok")
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    if unreadable:
        return EXIT_ERROR
    return EXIT_FAIL if failed else EXIT_OK


def _load_grammar(path: str, root: str) -> Grammar:
    text = _read(path)
    try:
        return Grammar.from_ebnf(text, root=root)
    except GrammarError as exc:
        rendered = "\n".join(d.render(text, filename=path) for d in exc.diagnostics)
        raise CommandError(f"{path} is not a valid grammar:\n{rendered}") from exc


def cmd_accepts(args: argparse.Namespace) -> int:
    if (args.text is None) == (args.input is None):
        raise CommandError("give the text to test either as an argument or with --input PATH")
    text = args.text if args.text is not None else _read(args.input)
    grammar = _load_grammar(args.grammar, args.root)
    if grammar.accepts(text):
        if not args.quiet:
            print("accepted")
        return EXIT_OK
    try:
        grammar.parse(text)
    except OutputMismatch as exc:
        print(f"rejected: {exc}", file=sys.stderr)
    else:  # pragma: no cover - accepts() and parse() share one engine
        print("rejected", file=sys.stderr)
    if args.input is not None and text.endswith("\n") and grammar.accepts(text.rstrip("\r\n")):
        print(
            "hint: the file without its final newline is accepted (editors add one); "
            "pass the text as an argument, or allow the newline in the grammar",
            file=sys.stderr,
        )
    return EXIT_FAIL


def cmd_fmt(args: argparse.Namespace) -> int:
    from wafer_grammar.ebnf.layout import format_source

    status = EXIT_OK
    for path in _grammar_files(args.files):
        grammar = _load_grammar(path, args.root)
        source = grammar.source or ""
        formatted = format_source(source, grammar.ast)
        if args.check:
            if source != formatted:
                print(f"{path}: not in canonical form")
                status = EXIT_FAIL
        elif args.write:
            if source != formatted:
                Path(path).write_text(formatted, encoding="utf-8")
                print(f"{path}: reformatted")
        else:
            sys.stdout.write(formatted)
    return status


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``check``, ``accepts`` and ``fmt``."""
    check = sub.add_parser("check", help="validate and lint grammar files")
    check.add_argument("files", nargs="+", metavar="FILE", help="grammar files or directories")
    check.add_argument("--root", default="root", help="entry rule name (default: root)")
    check.add_argument(
        "--profile", choices=PROFILES, help="warn about features beyond this dialect"
    )
    check.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    check.add_argument("--json", action="store_true", help="print diagnostics as JSON")
    check.add_argument("-q", "--quiet", action="store_true", help="print nothing for clean files")
    check.set_defaults(func=cmd_check)

    accepts = sub.add_parser("accepts", help="test whether a text is in a grammar's language")
    accepts.add_argument("grammar", metavar="FILE")
    accepts.add_argument("text", nargs="?", metavar="TEXT")
    accepts.add_argument("--input", metavar="PATH", help="read the text from a file")
    accepts.add_argument("--root", default="root", help="entry rule name (default: root)")
    accepts.add_argument("-q", "--quiet", action="store_true", help="no output on acceptance")
    accepts.set_defaults(func=cmd_accepts)

    fmt = sub.add_parser("fmt", help="print grammars in canonical form (comments kept)")
    fmt.add_argument("files", nargs="+", metavar="FILE", help="grammar files or directories")
    fmt.add_argument("--root", default="root", help="entry rule name (default: root)")
    mode = fmt.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite files in place")
    mode.add_argument("--check", action="store_true", help="exit 1 if a file is not canonical")
    fmt.set_defaults(func=cmd_fmt)
