"""Acceptance speed on a ~100 KB JSON document: our accepts() vs lark's own JSON parser.

Run: ``.venv/bin/python bench/accept.py`` (prints one table; no arguments).

Rows:
- ``accepts() json.ebnf``: our Acceptor on grammars/json.ebnf (LALR fast path).
- ``lark LALR, hand-written``: the JSON grammar from lark's docs, as its users run it.
- ``lark Earley, EBNF-derived``: plain lark Earley (default dynamic lexer) on the
  very grammar ``to_lark()`` produced for json.ebnf.
- ``exact recognizer (reject path)``: our character-level Earley, which confirms
  rejections; shown on the same valid document for scale.
"""

from __future__ import annotations

import os
import sys

# bench/tokenize.py would shadow the stdlib module of that name (linecache needs it,
# lark imports logging which imports linecache): take this folder off the import path,
# as bench/engine.py and bench/client.py do.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

from lark import Lark  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wafer_grammar import Grammar  # noqa: E402
from wafer_grammar.ebnf.acceptor import Acceptor  # noqa: E402
from wafer_grammar.ebnf.parser import parse_ebnf  # noqa: E402

# lark's JSON grammar, as in lark's docs (examples/json_parser.py).
LARK_JSON = r"""
    ?start: value
    ?value: object
          | array
          | string
          | SIGNED_NUMBER      -> number
          | "true"             -> true
          | "false"            -> false
          | "null"             -> null
    array  : "[" [value ("," value)*] "]"
    object : "{" [pair ("," pair)*] "}"
    pair   : string ":" value
    string : ESCAPED_STRING
    %import common.ESCAPED_STRING
    %import common.SIGNED_NUMBER
    %import common.WS
    %ignore WS
"""


def make_document(target: int = 100_000, seed: int = 7) -> str:
    """A deterministic, realistic JSON document of about ``target`` characters."""
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "naïve", "caf\u00e9", 'quote"d', "tab\there"]
    records = []
    text = ""
    while len(text) < target:
        records.append(
            {
                "id": len(records),
                "name": " ".join(rng.choice(words) for _ in range(3)),
                "score": round(rng.uniform(-1e3, 1e3), 4),
                "ok": rng.random() < 0.5,
                "tags": [rng.choice(words) for _ in range(rng.randint(0, 4))],
                "meta": {"n": rng.randint(0, 10**9), "ratio": 1e-3 * rng.random(), "none": None},
            }
        )
        text = json.dumps(records, indent=2, ensure_ascii=len(records) % 2 == 0)
    return text


def make_grammar(rules: int = 1000, seed: int = 3) -> str:
    """A deterministic grammar of ``rules`` rules: literals, classes, bounded repeats,
    optional groups, references forward through the grammar, comments (~95 KB)."""
    rng = random.Random(seed)
    lines = ['root ::= r0 ("," r0)*']
    for i in range(rules - 1):
        later = range(i + 1, rules - 1)
        refs = [f"r{j}" for j in rng.sample(later, k=min(2, len(later)))]
        alternatives = [
            f'"kw{i}" [ ]? ' + (refs[0] if refs else '"end"'),
            f'[a-z_]+ "=" ("{i}" | [0-9]{{1,3}})',
            '"(" ' + (" ".join(refs) if refs else '""') + ' ")"?',
        ]
        lines.append(f"r{i} ::= " + " | ".join(alternatives) + f"  # rule {i}")
    return "\n".join(lines) + "\n"


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) if repeat < 5 else statistics.median(times)


def main() -> None:
    doc = make_document()
    acceptor = Acceptor(parse_ebnf((ROOT / "grammars" / "json.ebnf").read_text()))
    assert acceptor.accepts(doc)  # also builds and caches the parsers
    lark_lalr = Lark(LARK_JSON, parser="lalr")
    lark_earley = Lark(acceptor.to_lark(), start="root", parser="earley")
    rows = [
        ("accepts() json.ebnf", best_of(lambda: acceptor.accepts(doc), 5)),
        ("lark LALR, hand-written", best_of(lambda: lark_lalr.parse(doc), 5)),
        ("lark Earley, EBNF-derived", best_of(lambda: lark_earley.parse(doc), 1)),
        ("exact recognizer (reject path)", best_of(lambda: acceptor.accepts_earley(doc), 1)),
    ]
    ours = rows[0][1]
    size = len(doc.encode())
    print(f"document: {size / 1000:.1f} KB of JSON, {len(doc):,} code points")
    print(f"{'path':34} {'seconds':>9} {'MB/s':>7} {'vs accepts()':>13}")
    for name, secs in rows:
        print(f"{name:34} {secs:9.4f} {size / secs / 1e6:7.2f} {secs / ours:12.2f}x")
    print(f"\nratio accepts()/lark LALR = {ours / rows[1][1]:.2f} (target <= 1.3)")
    print(f"lark Earley / accepts()   = {rows[2][1] / ours:.1f}x (target >= 20x)")

    text = make_grammar()
    grammar = Grammar.from_ebnf(text)
    parse_s = best_of(lambda: Grammar.from_ebnf(text), 5)
    check_s = best_of(grammar.check, 5)
    print(
        f"\n1,000-rule grammar ({len(text) / 1000:.0f} KB): parse {parse_s * 1000:.0f} ms + "
        f"check {check_s * 1000:.0f} ms = {(parse_s + check_s) * 1000:.0f} ms (target < 200 ms)"
    )


if __name__ == "__main__":
    main()
