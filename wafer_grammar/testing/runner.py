"""Run a grammar's tests: its case file, generated members and near-misses, coverage.

Pure apart from reading the grammar and case files: results come back as
data (:class:`GrammarRun`); the CLI and the pytest plugin print them.

What each check asks:

- ``accept[i]``: the grammar accepts the case (and ``downstream`` takes it);
- ``reject[i]``: the grammar rejects it;
- ``member[i]``: a generated member is taken by ``downstream``: "everything my
  grammar allows parses in my code" (acceptance holds by construction);
- ``near-miss[i]``: a generated near-miss is rejected (by construction) and,
  with ``engine="xgrammar"``, XGrammar rejects it too.

With ``engine="xgrammar"`` every verdict is also asked of XGrammar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from wafer_grammar.errors import GrammarError, WaferGrammarError
from wafer_grammar.grammar import Grammar
from wafer_grammar.testing.assertions import (
    Engine,
    GrammarAssertionError,
    check_accepts,
    check_rejects,
    quote,
    trace_of,
    xgrammar_matcher,
)
from wafer_grammar.testing.case_coverage import CoverageReport, coverage
from wafer_grammar.testing.cases import CaseFile, CaseFileError, case_path_for, load_cases
from wafer_grammar.testing.generate import Bounds
from wafer_grammar.testing.near_miss import NearMiss, sample_near_misses
from wafer_grammar.testing.plan import make_plan
from wafer_grammar.testing.strategies import sample_members

Consumer = Callable[[str], object]


@dataclass(frozen=True)
class Check:
    """One verdict: ``name`` like ``accept[3]``; ``message`` says what went wrong."""

    name: str
    passed: bool
    message: str = ""


@dataclass
class GrammarRun:
    """Everything one grammar's test run found."""

    grammar_path: Path
    case_path: Path | None = None
    checks: list[Check] = field(default_factory=list)
    coverage: CoverageReport | None = None
    error: str | None = None  # the run could not even start (counts as one failure)

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.checks)

    @property
    def failed(self) -> int:
        return sum(not c.passed for c in self.checks) + (self.error is not None)


def downstream_check(consumer: Consumer | None, name: str, text: str, subject: str) -> None:
    """Raise :class:`GrammarAssertionError` if the downstream consumer refuses ``text``."""
    if consumer is None:
        return
    try:
        consumer(text)
    except Exception as exc:  # any consumer error is the finding we report
        what = getattr(consumer, "__qualname__", name)
        module = getattr(consumer, "__module__", "")
        label = f"{module}.{what}" if module and module != "builtins" else what
        raise GrammarAssertionError(
            f"{subject} is accepted, but downstream {label} refuses it: "
            f"{type(exc).__name__}: {exc}",
            text=text,
        ) from exc


def accept_case(grammar: Grammar, cases: CaseFile, i: int, engine: Engine = "wafer") -> None:
    """Check ``cases.accept[i]``; raise :class:`GrammarAssertionError` if it fails."""
    text = cases.accept[i]
    subject = f"accept[{i}] {quote(text)}"
    check_accepts(grammar, text, subject, engine)
    downstream_check(cases.consumer(), cases.downstream or "", text, subject)


def reject_case(grammar: Grammar, cases: CaseFile, i: int, engine: Engine = "wafer") -> None:
    """Check ``cases.reject[i]``; raise :class:`GrammarAssertionError` if it fails."""
    text = cases.reject[i]
    check_rejects(grammar, text, f"reject[{i}] {quote(text)}", engine)


def member_check(
    grammar: Grammar, text: str, consumer: Consumer | None, name: str, engine: Engine
) -> None:
    """A generated member: accepted (on ``engine``) and taken by ``consumer``."""
    subject = f"generated member {quote(text)}"
    check_accepts(grammar, text, subject, engine)
    downstream_check(consumer, name, text, subject)


def near_miss_check(grammar: Grammar, miss: NearMiss, engine: Engine) -> None:
    """A generated near-miss: rejected (on ``engine``)."""
    subject = f"near-miss {quote(miss.text)} ({miss.edit} in {quote(miss.member)})"
    check_rejects(grammar, miss.text, subject, engine)


def _record(run: GrammarRun, name: str, check: Callable[[], None]) -> None:
    try:
        check()
    except GrammarAssertionError as exc:
        run.checks.append(Check(name, False, str(exc)))
    else:
        run.checks.append(Check(name, True))


def load_grammar_for(grammar_path: Path, root: str = "root") -> Grammar:
    """The grammar at ``grammar_path``, entered at rule ``root``.

    Raises:
        WaferGrammarError: unreadable file or invalid grammar (diagnostics rendered).
    """
    try:
        text = grammar_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise WaferGrammarError(f"cannot read {grammar_path}: {reason}") from exc
    try:
        grammar = Grammar.from_ebnf(text, root=root)
    except GrammarError as exc:
        rendered = "\n".join(d.render(text, filename=str(grammar_path)) for d in exc.diagnostics)
        raise WaferGrammarError(f"{grammar_path} is not a valid grammar:\n{rendered}") from exc
    grammar.path = str(grammar_path)
    return grammar


def run_grammar(
    grammar_path: Path,
    *,
    samples: int = 20,
    engine: Engine = "wafer",
    seed: int = 0,
    bounds: Bounds | None = None,
) -> GrammarRun:
    """Test one grammar: its case file (if any), ``samples`` members and near-misses.

    Raises:
        XGrammarUnavailable: ``engine="xgrammar"`` without xgrammar installed.
    """
    from wafer_grammar.engines.xgrammar_oracle import XGrammarUnavailable

    case_path = case_path_for(grammar_path)
    run = GrammarRun(grammar_path, case_path if case_path.exists() else None)
    try:
        cases = load_cases(case_path) if run.case_path else None
        if cases and not grammar_path.exists():
            raise WaferGrammarError(
                f"{case_path} has no grammar beside it: expected {grammar_path}"
            )
        grammar = load_grammar_for(grammar_path, cases.root if cases else "root")
        if engine == "xgrammar":
            xgrammar_matcher(grammar)  # fails here, once, if XGrammar refuses the grammar
        plan = make_plan(grammar)
    except XGrammarUnavailable:
        raise
    except (CaseFileError, WaferGrammarError) as exc:
        run.error = str(exc)
        return run
    consumer = cases.consumer() if cases else None
    downstream = cases.downstream or "" if cases else ""
    if cases:
        for i in range(len(cases.accept)):
            _record(run, f"accept[{i}]", partial(accept_case, grammar, cases, i, engine))
        for i in range(len(cases.reject)):
            _record(run, f"reject[{i}]", partial(reject_case, grammar, cases, i, engine))
        run.coverage = coverage(trace_of(grammar), cases.accept)
    members = sample_members(grammar, samples, seed=seed, bounds=bounds, plan=plan)
    for i, tree in enumerate(members):
        check = partial(member_check, grammar, tree.flatten(), consumer, downstream, engine)
        _record(run, f"member[{i}]", check)
    misses = sample_near_misses(grammar, samples, seed=seed, bounds=bounds, plan=plan)
    for i, miss in enumerate(misses):
        _record(run, f"near-miss[{i}]", partial(near_miss_check, grammar, miss, engine))
    return run


def find_grammars(paths: list[str]) -> list[Path]:
    """``.ebnf`` files named, beside named case files, or under named directories.

    Raises:
        WaferGrammarError: a path does not exist, or a directory holds no grammar.
    """
    found: dict[Path, None] = {}
    for name in paths:
        path = Path(name)
        if path.is_dir():
            under = sorted(
                {p for p in path.rglob("*.ebnf")}
                | {
                    p.with_name(p.name[: -len(".cases.toml")] + ".ebnf")
                    for p in path.rglob("*.cases.toml")
                }
            )
            if not under:
                raise WaferGrammarError(f"no .ebnf or .cases.toml files under {name}")
            found.update(dict.fromkeys(under))
        elif path.name.endswith(".cases.toml"):
            found[path.with_name(path.name[: -len(".cases.toml")] + ".ebnf")] = None
        elif path.exists():
            found[path] = None
        else:
            raise WaferGrammarError(f"no such file or directory: {name}")
    return list(found)
