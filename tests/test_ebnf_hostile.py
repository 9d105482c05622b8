"""Hostile inputs end in a verdict or a WaferGrammarError: never RecursionError, ValueError,
OverflowError or a hang.

Each case runs in a child process (a regression must not hang the suite); the
generous timeout is only a safety net: the assertions are about what came back,
never about how long it took.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

N = 50_000
_FLAT = "root ::= " + " | ".join(f"r{i}" for i in range(N)) + "\n"
_FLAT += "".join(f'r{i} ::= "x{i}"\n' for i in range(N))
_CHAIN = "root ::= r0\n" + "".join(f'r{i} ::= r{i + 1} "a"\n' for i in range(N)) + f'r{N} ::= "b"\n'
_BIG = "".join(f'r{i} ::= "{"x" * 180}" r{i + 1} | [a-z]+\n' for i in range(N))
_BIG = _BIG.replace("r0 ::=", "root ::=", 1) + f'r{N} ::= "z"\n'
_REFS = (
    "root ::= r0\n" + "".join(f"r{i} ::= r{i + 1}\n" for i in range(20_000)) + 'r20000 ::= "b"\n'
)
_NESTED = "root ::= " + "(" * 999 + '"a"' + ")?" * 999

# name: (grammar, what to do with it, the expected outcome)
CASES: dict[str, tuple[str, str, object]] = {
    "ambiguous star": ('root ::= ("a" | "a" | "aa")*', f"accepts({'a' * 21 + 'b'!r})", False),
    "nested counted stars": ("root ::= (([a]*){3}){3,}", f"accepts({'a' * 13 + 'b'!r})", False),
    "regex (a*)*b, 24": ('root ::= Regex("(a*)*b")', f"accepts({'a' * 24!r})", False),
    "regex (a*)*b, 5000": ('root ::= Regex("(a*)*b")', f"accepts({'a' * 5000!r})", False),
    "billion copies, prefix": ('root ::= "a"{1000000000}', 'is_prefix("aaa")', True),
    "billion copies, accepts": ('root ::= "a"{1000000000}', 'accepts("aaa")', False),
    "50,000 rules, flat": (_FLAT, "check()", []),
    "50,000 rules, chained": (_CHAIN, "check()", []),
    "10 MB grammar": (_BIG, "check()", []),
    "20,000-rule reference chain": (_REFS, 'accepts("b")', True),
    "999 nested groups, accepts": (_NESTED, 'accepts("a")', True),
    "999 nested groups, check": (_NESTED, "len(g.check())", 1),  # W203: root matches ""
    "balanced tree of 400": ('root ::= a\na ::= a a | "x"', 'len(str(g.parse("x" * 400))) > 0', True),
    "tree 3000 deep": ('root ::= "x" root | "x"', 'len(g.parse("x" * 3000).pretty()) > 0', True),
    "regex 5000 deep": ('root ::= Regex("' + "(" * 5000 + "a" + ")" * 5000 + '")', 'accepts("a")', True),
    "class above U+10FFFF": ("root ::= [\\x992d8e]", 'accepts("a")', False),
    "class up to 0xFFFFFFFF": ('root ::= [\\xFFFFFFFF] | "b"', 'accepts("b")', True),
    "max_chars prefix": ('root[max_chars=2] ::= "(" root | ""', 'is_prefix("(((")', False),
    "byte-order mark": ('\ufeffroot ::= "a"', "accepts('a')", "GrammarSyntaxError"),
}  # fmt: skip

_RUNNER = textwrap.dedent(
    """
    import json, sys
    from wafer_grammar import Grammar
    from wafer_grammar.errors import WaferGrammarError
    for line in sys.stdin:
        text, action = json.loads(line)
        try:
            g = Grammar.from_ebnf(text)
            value = eval(action if action.startswith(("len(", "g.")) else "g." + action)
            out = {"value": value if not isinstance(value, list) else [d.code for d in value]}
        except WaferGrammarError as exc:
            out = {"error": type(exc).__name__}
        except BaseException as exc:  # what must never happen
            out = {"crash": f"{type(exc).__name__}: {str(exc)[:200]}"}
        print(json.dumps(out), flush=True)
    """
)


@pytest.fixture(scope="module")
def outcomes() -> dict[str, dict[str, object]]:
    jobs = "".join(json.dumps([text, action]) + "\n" for text, action, _ in CASES.values())
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER],
        input=jobs,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = done.stdout.splitlines()
    return {name: json.loads(line) for name, line in zip(CASES, lines, strict=False)}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input(name: str, outcomes: dict[str, dict[str, object]]) -> None:
    _, _, expected = CASES[name]
    got = outcomes.get(name)
    assert got is not None, "the runner died before this case"
    assert "crash" not in got, got["crash"]
    if isinstance(expected, str):
        assert got == {"error": expected}
    else:
        assert got == {"value": expected}
