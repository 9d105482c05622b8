"""Our JSON Schema converter against XGrammar 0.2.8's on the official JSON Schema Test Suite.

Usage: ``make suite && .venv/bin/python bench/json_schema_suite.py [--only ours|xgrammar]
[--list refused|unsound|bad-members|incomplete]``

Both converters see the same groups (draft 2020-12 and its ``optional/format``; remote
refs and custom metaschemas skipped) in the same run. Each instance is judged on its
canonical serialization; up to 20 members per converted grammar (fixed seed) are
validated by ``jsonschema`` with formats asserted. Ours runs with ``closed=False`` (the
specification's reading of absent ``additionalProperties`` and of ``items`` after
``prefixItems``, properties in any order) and with the default ``closed=True``. XGrammar runs as
``from_json_schema(..., any_whitespace=False, strict_mode=True)`` and its verdicts come
from its own matcher; its members are sampled from its EBNF by our generator.
"""

from __future__ import annotations

import os
import sys

# This folder holds a tokenize.py: keep it off sys.path so the stdlib module is found.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(_HERE).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "convert"))

from suite_support import MEMBERS, SEED, SUITE, SUITE_MISSING, Group, Verdict, groups, judge  # noqa: E402

from wafer_grammar import Grammar  # noqa: E402
from wafer_grammar.errors import UnsupportedSchema, WaferGrammarError  # noqa: E402
from wafer_grammar.testing.generate import Bounds  # noqa: E402
from wafer_grammar.testing.strategies import sample_members  # noqa: E402


def _members(grammar: Grammar) -> list[str]:
    try:
        trees = sample_members(grammar, MEMBERS, seed=SEED, bounds=Bounds(max_size=400))
    except WaferGrammarError:
        return []
    return [t.flatten() for t in trees]


def ours(group: Group, closed: bool = False) -> Verdict:
    start = time.perf_counter()
    try:
        grammar = Grammar.from_json_schema(group.schema, closed=closed)
    except UnsupportedSchema as exc:
        verdict = Verdict(group, refused=f"{exc.keyword} at {exc.pointer or '/'}: {exc.reason}")
    except Exception as exc:
        verdict = Verdict(group, crashed=f"{type(exc).__name__}: {exc}")
    else:
        verdict = judge(group, grammar.accepts, _members(grammar))
    verdict.seconds = time.perf_counter() - start
    return verdict


def xgrammar(group: Group) -> Verdict:
    import xgrammar as xgr

    from wafer_grammar.engines.xgrammar_oracle import XGrammarMatcher

    start = time.perf_counter()
    try:
        compiled = xgr.Grammar.from_json_schema(
            json.dumps(group.schema), any_whitespace=False, strict_mode=True
        )
        ebnf = str(compiled)
        matcher = XGrammarMatcher(ebnf)
    except Exception as exc:
        verdict = Verdict(group, refused=str(exc).strip().splitlines()[0][:120])
    else:
        try:
            members = _members(Grammar.from_ebnf(ebnf))
        except WaferGrammarError:
            members = []
        verdict = judge(group, matcher.accepts, members)
    verdict.seconds = time.perf_counter() - start
    return verdict


def _row(name: str, verdicts: list[Verdict]) -> list[str]:
    done = [v for v in verdicts if v.converted]
    invalid = sum(len([t for t in v.group.tests if not t["valid"]]) for v in done)
    valid = sum(v.valid_total for v in done)
    accepted = sum(v.valid_accepted for v in done)
    members = sum(v.members for v in done)
    return [
        name,
        f"{len(done)} / {len(verdicts)} ({100 * len(done) / max(len(verdicts), 1):.0f}%)",
        f"{sum(len(v.false_accepts) for v in done)} of {invalid}",
        f"{sum(len(v.bad_members) for v in done)} of {members}",
        f"{100 * accepted / max(valid, 1):.1f}%",
        f"{sum(v.seconds for v in verdicts):.1f} s",
    ]


def _table(rows: list[list[str]]) -> str:
    head = ["", "groups converted", "invalid accepted", "invalid members", "completeness", "time"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _details(kind: str, verdicts: list[Verdict]) -> None:
    for v in verdicts:
        g = v.group
        if kind == "refused" and not v.converted:
            print(f"{g.name}\t{v.refused or v.crashed}")
        elif kind == "unsound" and v.false_accepts:
            print(f"{g.name}\t{v.false_accepts}")
        elif kind == "bad-members" and v.bad_members:
            print(f"{g.name}\t{v.bad_members[:3]}")
        elif kind == "incomplete" and v.converted and v.valid_accepted < v.valid_total:
            print(f"{g.name}\t{v.valid_accepted}/{v.valid_total}\t{g.description}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["ours", "xgrammar"])
    parser.add_argument("--list", choices=["refused", "unsound", "bad-members", "incomplete"])
    args = parser.parse_args(argv)
    if not SUITE.is_dir():
        print(SUITE_MISSING, file=sys.stderr)
        return 2
    all_groups = list(groups())
    kept = [g for g in all_groups if g.skip is None]
    skipped = Counter(
        g.skip.split(" ")[0] + " " + g.skip.split(" ")[1] for g in all_groups if g.skip
    )
    print(f"suite: {SUITE}")
    print(f"{len(all_groups)} groups, {len(kept)} judged; skipped: {dict(skipped)}")
    runs: list[tuple[str, Callable[[Group], Verdict]]] = []
    if args.only != "xgrammar":
        runs.append(("ours (strict, closed=False)", ours))
        runs.append(("ours (strict)", lambda g: ours(g, True)))
    if args.only != "ours":
        runs.append(("XGrammar 0.2.8", xgrammar))
    rows = []
    for name, convert in runs:
        verdicts = [convert(g) for g in kept]
        rows.append(_row(name, verdicts))
        if args.list:
            print(f"-- {name}: {args.list}")
            _details(args.list, verdicts)
        if name.startswith("ours (strict, closed=False"):
            refusals = Counter((v.refused or "").split(" at ")[0] for v in verdicts if v.refused)
            crashes = [v for v in verdicts if v.crashed]
            print(
                f"ours: refused by keyword {dict(refusals.most_common())}; crashes {len(crashes)}"
            )
    print(_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
