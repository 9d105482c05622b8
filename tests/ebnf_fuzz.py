"""Differential fuzzing of the grammar layer against XGrammar 0.2.8, the server's engine.

Seeded generation of grammars over the whole dialect (rules, options, lookahead,
macros, escapes, repetitions, code points past U+10FFFF, ...) plus syntax
mutations of them, and of strings for each (random derivations, their edits,
random text). Every verdict is compared: validity (``from_ebnf`` against
XGrammar's parser *and* compiler), ``accepts`` and ``is_prefix``.

XGrammar runs in a worker process that is restarted when it crashes or hangs
(0.2.8 segfaults on a few grammars), so a campaign always finishes.

Run a campaign from the repository root::

    .venv/bin/python tests/ebnf_fuzz.py --seed 13 --count 20000

Deviations we keep on purpose (documented in tests/conformance/README.md) are
classified by :func:`deviation`, never counted as disagreements.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from wafer_grammar import Grammar  # noqa: E402
from wafer_grammar.ebnf.analysis import reachable_rules  # noqa: E402
from wafer_grammar.ebnf.charclass import positive_ranges  # noqa: E402
from wafer_grammar.ebnf.desugar import desugar  # noqa: E402
from wafer_grammar.ebnf.syntax import (  # noqa: E402
    TOKEN_LEVEL_MACROS,
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    MacroCall,
    Repeat,
    RuleRef,
    Sequence,
    walk,
)
from wafer_grammar.errors import GrammarError, TextUnjudgeable  # noqa: E402

# --------------------------------------------------------------------------- the oracle

_WORKER = r"""
import json, re, sys
import xgrammar as xgr
compiler = xgr.GrammarCompiler(xgr.TokenizerInfo([]), cache_enabled=False)
prefix = re.compile(r"^\[[^\]]*\] \S+:\d+: ")
def first(exc):
    return prefix.sub("", str(exc).strip().splitlines()[0]) if str(exc).strip() else type(exc).__name__
for line in sys.stdin:
    job = json.loads(line)
    out = {"parse_error": None, "compile_error": None, "accepts": [], "prefix": []}
    try:
        grammar = xgr.Grammar.from_ebnf(job["grammar"])
    except Exception as exc:
        out["parse_error"] = first(exc)
    else:
        try:
            compiled = compiler.compile_grammar(grammar)
        except Exception as exc:
            out["compile_error"] = first(exc)
        else:
            for text in job["strings"]:
                m = xgr.GrammarMatcher(compiled, terminate_without_stop_token=True)
                ok = bool(m.accept_string(text))
                out["prefix"].append(ok)
                out["accepts"].append(ok and bool(m.is_terminated()))
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
"""


class Oracle:
    """XGrammar in a child process; a crash or a hang costs one grammar, not the run."""

    def __init__(self, timeout: float = 20.0) -> None:
        self.timeout = timeout
        self.proc: subprocess.Popen[str] | None = None
        self.crashes = 0

    def _start(self) -> subprocess.Popen[str]:
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        return subprocess.Popen(
            [sys.executable, "-c", _WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )

    def judge(self, grammar: str, strings: list[str]) -> dict[str, Any] | None:
        """XGrammar's verdicts; None when it crashed or hung on this grammar."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps({"grammar": grammar, "strings": strings}) + "\n")
            self.proc.stdin.flush()
            ready, _, _ = select.select([self.proc.stdout], [], [], self.timeout)
            line = self.proc.stdout.readline() if ready else ""
        except (BrokenPipeError, OSError):
            line = ""
        if not line:
            self.crashes += 1
            self.close()
            return None
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    pipe.close()
            self.proc = None


# --------------------------------------------------------------------------- generation

_NAMES = ("root", "a", "b", "c")
_CHARS = ["a", "b", "c", ",", " ", "\\n", "\\x41", "\\u00e9", "\\t", '\\"', "é", "\\x110000"]
_CLASSES = [
    "[a-c]", "[ab]", "[^a]", "[^]", "[]", "[a]", "[b-c,]", "[\\-a]", "[a-]", "[^\\n]",
    "[\\x992d8e]", "[^\\xFFFFFFFF]", "[a-\\x110000]", "[\\u00e9a]", "[ \\t]",
]  # fmt: skip
_REGEXES = [
    "a+", "[ab]*c?", "(a|b)*", "a{2}", "a{1,3}", ".", "\\\\d+", "(a*)*b", "[^a]+", "a|", "(?:ab)+",
    "(", "a\\\\bc", "[", "a{2,1}", "\\\\p{L}", "a]", "[]a]", "(a)\\\\1", "^a$", "(?=a)b", "\\\\x41",
]  # fmt: skip
_OPTIONS = ["lazy", "max_chars=2", "max_chars=0", "max_tokens=3", "capture", "temperature=0.5"]
_FRAGMENTS = [
    '"a"', '"b"', "[a-z]", "[^]", "[]", "x", "root", "(", ")", "|", "*", "+", "?", "{2}",
    "{1,3}", "{2,}", "{,2}", "(=", "::=", "\n", " ", "#c\n", '""', "( )", 'Regex("a+")',
    'Substring("ab")', 'a ::= "q"', '\nb ::= "z"', "[lazy]", "[max_chars=2]", ",", "=",
    '"\\x41"', '"\\u00e9"', "[\\-a]", "[a-]", "-", "1", '(("a"))', 'TagDispatch(("t", a))',
    "Token(1)", "\r\n", "\t", '"', "[", "]", "\\", "'", "\x00", "\ufeff", "{4294967296}",
    "{99999999999}", "(= \"\")", "(= Regex(\"a\"))", "[\\x992d8e]",
]  # fmt: skip


class _Gen:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def literal(self) -> str:
        n = self.rng.choice([0, 1, 1, 2, 3])
        return '"' + "".join(self.rng.choice(_CHARS) for _ in range(n)) + '"'

    def macro(self) -> str:
        r = self.rng.random()
        if r < 0.6:
            flags = self.rng.choice(["", "", ', flags="i"', ', flags="s"', ", json_string=true"])
            return f'Regex("{self.rng.choice(_REGEXES)}"{flags})'
        if r < 0.85:
            parts = [self.literal() for _ in range(self.rng.randint(1, 3))]
            return f"Substring({', '.join(parts)})"
        if r < 0.95:
            target = self.rng.choice(_NAMES[1:])
            loop = self.rng.choice(["", ", loop_after_dispatch=false"])
            return f'TagDispatch(("<{self.rng.choice("xy")}>", {target}){loop})'
        return f"Token({self.rng.randint(0, 3)})"

    def element(self, depth: int) -> str:
        r = self.rng.random()
        if depth <= 0 or r < 0.3:
            return self.literal()
        if r < 0.5:
            return self.rng.choice(_CLASSES)
        if r < 0.68:
            return self.rng.choice(_NAMES)
        if r < 0.74:
            return self.macro()
        if r < 0.77:
            return "( )"
        return "(" + self.body(depth - 1) + ")"

    def quantified(self, depth: int) -> str:
        element = self.element(depth)
        r = self.rng.random()
        if r < 0.6:
            return element
        suffix = self.rng.choice(["?", "*", "+", "{2}", "{0}", "{1,2}", "{0,3}", "{2,}", "{3,3}"])
        return element + suffix

    def sequence(self, depth: int) -> str:
        return " ".join(self.quantified(depth) for _ in range(self.rng.choice([1, 1, 2, 3])))

    def body(self, depth: int) -> str:
        return " | ".join(self.sequence(depth) for _ in range(self.rng.choice([1, 1, 2, 3])))

    def rule(self, name: str) -> str:
        head = name
        if self.rng.random() < 0.15:
            opts = self.rng.sample(_OPTIONS, self.rng.choice([1, 1, 2]))
            head += "[" + ", ".join(opts) + "]"
        text = f"{head} ::= {self.body(self.rng.choice([1, 2, 3]))}"
        if self.rng.random() < 0.1:
            look = self.rng.choice(
                ['"a"', "[ab]", '""', "( )", 'Regex("a")', '"a" | "b"', '"b"?', "a", '"" ""']
            )
            text += f" (= {look})"
        return text

    def grammar(self) -> str:
        names = ["root", *self.rng.sample(_NAMES[1:], self.rng.randint(0, 3))]
        rules = [self.rule(name) for name in names]
        self.rng.shuffle(rules)
        return "\n".join(rules)

    def mutate(self, text: str) -> str:
        for _ in range(self.rng.randint(1, 3)):
            i = self.rng.randint(0, len(text))
            op = self.rng.choice(["insert", "delete", "replace"])
            piece = self.rng.choice(_FRAGMENTS)
            if op == "insert":
                text = text[:i] + piece + text[i:]
            elif op == "delete":
                text = text[:i] + text[i + self.rng.randint(1, 3) :]
            else:
                text = text[:i] + piece + text[i + 1 :]
        return text


def _sample(rng: random.Random, ast: GrammarAST, budget: int = 60) -> str | None:
    """A random derivation of the root (``None`` when it did not finish within budget)."""
    rules = ast.rule_map()
    out: list[str] = []
    stack: list[Expr] = [rules[ast.root].body]
    steps = 0
    while stack:
        steps += 1
        if steps > budget * 4:
            return None
        node = stack.pop()
        if isinstance(node, Literal):
            out.append(node.value)
        elif isinstance(node, CharClass):
            ranges = positive_ranges(node)
            if not ranges:
                return None
            lo, hi = rng.choice(ranges)
            cp = rng.randint(lo, min(hi, lo + 3))
            if 0xD800 <= cp <= 0xDFFF:
                return None
            out.append(chr(cp))
        elif isinstance(node, RuleRef):
            if node.name not in rules:
                return None
            stack.append(rules[node.name].body)
        elif isinstance(node, Sequence):
            stack.extend(reversed(node.items))
        elif isinstance(node, Choice):
            stack.append(rng.choice(node.alternatives))
        elif isinstance(node, Repeat):
            top = node.min + 2 if node.max is None else node.max
            if node.min > 8:
                return None
            count = rng.randint(node.min, min(top, node.min + 2))
            stack.extend([node.item] * count)
        else:
            return None
        if len(out) > budget:
            return None
    return "".join(out)


def tag_dispatch_grammars(count: int, seed: int) -> list[str]:
    """TagDispatch grammars with overlapping tags ("<x>", "<xy>", "x>", "<"), excluded
    strings and both loop settings: what a stream cut inside a tag must get right."""
    rng, out = random.Random(seed), []
    tags = ["<x>", "<xy>", "<y>", "x>", "<"]
    bodies = ['"a"', '[a-c]+ "</>"', '"b"? "!"', 'n "."', '""']
    while len(out) < count:
        chosen = rng.sample(tags, rng.randint(1, 3))
        calls = ", ".join(f'("{t}", n{k})' for k, t in enumerate(chosen))
        extra = ""
        if rng.random() < 0.5:
            excluded = rng.sample(["</>", "ab", "q"], 2)
            extra += ", excludes=(" + ", ".join(f'"{e}"' for e in excluded) + ")"
        if rng.random() < 0.4:
            extra += ", loop_after_dispatch=false"
        head = rng.choice(["", '"s" ', "[a-c] "])
        rules = [f"root ::= {head}TagDispatch({calls}{extra})"]
        rules += [f"n{k} ::= {rng.choice(bodies)}" for k in range(len(chosen))]
        rules.append("n ::= [ab]")
        out.append("\n".join(rules))
    return out


def tag_dispatch_texts(rng: random.Random, count: int) -> list[str]:
    """Texts for :func:`tag_dispatch_grammars`: tags, parts of tags and body pieces."""
    pieces = ["<x>", "<xy>", "<y>", "x>", "<", "a", "b", "c", "</>", "ab", "q", "!", ".", "s"]
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))) for _ in range(count)]


def strings_for(rng: random.Random, grammar: Grammar, text: str) -> list[str]:
    """Members (random derivations), their edits, and random text over the grammar's letters."""
    alphabet = sorted({c for c in text if c.isprintable()} | set("abc ,\n"))
    found: set[str] = {""}
    try:
        plain = desugar(grammar.ast)
    except GrammarError:
        plain = grammar.ast
    for _ in range(6):
        member = _sample(rng, plain)
        if member is not None:
            found.add(member)
    for seed in list(found):
        for _ in range(2):
            i = rng.randint(0, len(seed))
            edit = rng.choice(["insert", "delete", "dup"])
            if edit == "insert":
                found.add(seed[:i] + rng.choice(alphabet) + seed[i:])
            elif edit == "delete":
                found.add(seed[:i] + seed[i + 1 :])
            else:
                found.add(seed + seed)
    for _ in range(4):
        found.add("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))))
    return sorted(s for s in found if len(s) <= 40)


# --------------------------------------------------------------------------- comparison


@dataclass
class Finding:
    """One disagreement (or documented deviation) between us and XGrammar."""

    kind: str  # "validity", "accepts", "is_prefix" or "matcher"
    grammar: str
    text: str | None
    ours: object
    theirs: object
    deviation: str | None = None


def _codes(exc: GrammarError) -> set[str]:
    return {d.code for d in exc.diagnostics if d.severity == "error"}


def validity_deviation(exc: GrammarError | None, theirs_ok: bool) -> str | None:
    """The documented reason we refuse a grammar XGrammar takes (None: no such reason)."""
    if exc is None or not theirs_ok:
        return None
    codes = _codes(exc)
    if any(
        d.code == "E108" and ("in the grammar text" in d.message or "in a comment" in d.message)
        for d in exc.diagnostics
    ):
        return "nul-outside-literal"  # XGrammar ignores the NUL and all after it
    if codes <= {"E308"}:
        return "bound-above-int32"
    return None


def _uses(ast: GrammarAST, what: str) -> bool:
    rules = ast.rule_map()
    for name in reachable_rules(ast):
        rule = rules[name]
        if what in ("lazy", "max_chars") and rule.option(what) is not None:
            return True
        for top in (rule.body, rule.lookahead):
            for node in walk(top) if top is not None else ():
                if (
                    what == "token"
                    and isinstance(node, MacroCall)
                    and node.name in TOKEN_LEVEL_MACROS
                ):
                    return True
    return False


def acceptance_deviation(grammar: Grammar) -> str | None:
    """Grammars whose acceptance XGrammar 0.2.8 decides differently on purpose or by quirk."""
    if _uses(grammar.ast, "token"):
        return "token-level"
    if _uses(grammar.ast, "max_chars"):
        return "max-chars-quirk"
    if _uses(grammar.ast, "lazy"):
        return "lazy-quirk"
    return None


def compare(grammar_text: str, oracle: Oracle, rng: random.Random) -> list[Finding] | None:
    """Every verdict on one grammar; None when XGrammar crashed on it."""
    ours_exc: GrammarError | None = None
    grammar: Grammar | None = None
    try:
        grammar = Grammar.from_ebnf(grammar_text)
    except GrammarError as exc:
        ours_exc = exc
    strings = strings_for(rng, grammar, grammar_text) if grammar is not None else []
    theirs = oracle.judge(grammar_text, strings)
    if theirs is None:
        return None
    compile_error = theirs["compile_error"]
    if compile_error is not None and "out of the vocabulary range" in compile_error:
        compile_error = None  # token IDs: the server's vocabulary decides, not the grammar
        theirs["accepts"] = theirs["prefix"] = []
    theirs_ok = theirs["parse_error"] is None and compile_error is None
    findings: list[Finding] = []
    if grammar is not None and theirs_ok:
        findings.append(Finding("valid", grammar_text, None, True, True, "counted"))
        findings[-1].ours = len(strings)
    if (grammar is not None) != theirs_ok:
        findings.append(
            Finding(
                "validity",
                grammar_text,
                None,
                "valid"
                if grammar is not None
                else sorted(_codes(ours_exc))  # type: ignore[arg-type]
                if ours_exc
                else "?",
                theirs["parse_error"] or compile_error or "valid",
                validity_deviation(ours_exc, theirs_ok),
            )
        )
        return findings
    if grammar is None or not theirs["accepts"]:
        return findings
    skip = acceptance_deviation(grammar)
    if skip == "token-level":
        return findings
    # Ours: "can still become a member"; XGrammar's matcher also walks into
    # alternatives that can never complete, which lint reports (W206, W201, W202).
    dead_ends = any(d.code in ("W201", "W202", "W206") for d in grammar.check())
    for text, acc, pre in zip(strings, theirs["accepts"], theirs["prefix"], strict=True):
        try:
            ours_acc, ours_pre = grammar.accepts(text), grammar.is_prefix(text)
        except TextUnjudgeable:
            return findings
        if ours_acc != acc:
            findings.append(Finding("accepts", grammar_text, text, ours_acc, acc, skip))
        if ours_pre != pre:
            why = skip or ("dead-end" if dead_ends and pre and not ours_pre else None)
            findings.append(Finding("is_prefix", grammar_text, text, ours_pre, pre, why))
        # The same text through matcher(), in chunks of 1, 2 and 3 characters.
        stream = grammar.matcher()
        alive, k, size = True, 0, 1
        while alive and k < len(text):
            alive = stream.feed(text[k : k + size])
            k, size = k + size, size % 3 + 1
        verdict = (stream.is_complete, alive)
        if verdict != (acc, pre):
            why = skip or ("dead-end" if dead_ends and pre and not alive else None)
            findings.append(Finding("matcher", grammar_text, text, verdict, (acc, pre), why))
    return findings


@dataclass
class Report:
    seed: int
    count: int
    grammars: int = 0
    strings: int = 0
    crashes: int = 0
    valid: int = 0
    seconds: float = 0.0
    disagreements: list[Finding] = field(default_factory=list)
    deviations: dict[str, int] = field(default_factory=dict)


def campaign(seed: int, count: int, *, oracle: Oracle | None = None) -> Report:
    """``count`` grammars from ``seed``: about two thirds generated, one third mutated."""
    rng = random.Random(seed)
    gen = _Gen(rng)
    own = oracle is None
    oracle = oracle or Oracle()
    report = Report(seed, count)
    start = time.monotonic()
    try:
        for i in range(count):
            text = gen.grammar()
            if i % 3 == 2:
                text = gen.mutate(text)
            findings = compare(text, oracle, random.Random(f"{seed}:{i}"))
            if findings is None:
                report.crashes += 1
                continue
            report.grammars += 1
            for f in findings:
                if f.kind == "valid":
                    report.valid += 1
                    report.strings += int(str(f.ours))
                elif f.deviation:
                    report.deviations[f.deviation] = report.deviations.get(f.deviation, 0) + 1
                else:
                    report.disagreements.append(f)
    finally:
        if own:
            oracle.close()
    report.seconds = time.monotonic() - start
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--show", type=int, default=20, help="disagreements to print")
    args = parser.parse_args()
    report = campaign(args.seed, args.count)
    for f in report.disagreements[: args.show]:
        print(json.dumps(f.__dict__, ensure_ascii=False))
    print(
        f"seed {report.seed}: {report.grammars} grammars judged ({report.valid} valid on both, "
        f"{report.strings} strings; {report.crashes} XGrammar crashes skipped), "
        f"{len(report.disagreements)} disagreements, deviations "
        f"{dict(sorted(report.deviations.items()))}, {report.seconds:.0f} s"
    )
    return 1 if report.disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
