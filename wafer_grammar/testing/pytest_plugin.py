"""The pytest plugin (entry point ``pytest11``): case files become tests.

Every ``NAME.cases.toml`` pytest meets becomes a collector beside ``NAME.ebnf``
with one item per case (``accept[0]``, ``reject[2]``, ...) plus ``members`` (N
generated members through the case file's ``downstream``) and ``near-misses``.
A failure shows the offset with a caret, what was expected there and the
rule path, the same text as ``wafer-grammar test``.

Options: ``--grammar-engine=xgrammar`` (also ask XGrammar for every verdict),
``--grammar-samples=N`` (default 20); ini ``wafer_grammar_cases = false``
turns collection of case files off. Fixtures: ``load_grammar`` (a cached
loader) and ``grammar_engine`` (the engine chosen on the command line).

This module is imported by every pytest run in an environment where
wafer-grammar is installed, so it imports nothing but pytest at load time:
grammar machinery (lark, hypothesis) loads when a case file is collected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from wafer_grammar.grammar import Grammar
    from wafer_grammar.testing.assertions import Engine
    from wafer_grammar.testing.cases import CaseFile

SUFFIX = ".cases.toml"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wafer-grammar", "grammar case files (wafer-grammar)")
    group.addoption(
        "--grammar-engine",
        choices=("wafer", "xgrammar"),
        default="wafer",
        help="xgrammar: also ask XGrammar (the server's engine) for every case's verdict",
    )
    group.addoption(
        "--grammar-samples",
        type=int,
        default=20,
        metavar="N",
        help="generated members and near-misses per case file (default: 20)",
    )
    parser.addini(
        "wafer_grammar_cases",
        type="bool",
        default=True,
        help="collect NAME.cases.toml files as grammar tests (default: true)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("grammar_engine", "wafer") == "xgrammar":
        from wafer_grammar.engines.xgrammar_oracle import xgrammar_available
        from wafer_grammar.testing.assertions import NO_XGRAMMAR

        if not xgrammar_available():
            raise pytest.UsageError(f"--grammar-engine=xgrammar: {NO_XGRAMMAR}")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith(SUFFIX) and parent.config.getini("wafer_grammar_cases"):
        return CaseFileCollector.from_parent(parent, path=file_path)
    return None


def _engine(config: pytest.Config) -> Engine:
    return "xgrammar" if config.getoption("grammar_engine") == "xgrammar" else "wafer"


class CaseFileCollector(pytest.File):
    """One case file: loads it and its grammar, yields an item per case."""

    cases: CaseFile
    grammar: Grammar

    def collect(self) -> Iterator[pytest.Item]:
        from wafer_grammar.errors import WaferGrammarError
        from wafer_grammar.testing.cases import load_cases
        from wafer_grammar.testing.runner import load_grammar_for

        try:
            self.cases = load_cases(self.path)
            self.grammar = load_grammar_for(self.cases.grammar_path, self.cases.root)
        except WaferGrammarError as exc:
            # One failing item, not a collection error: a broken case file must not
            # interrupt the rest of the session.
            yield BrokenCaseFile.from_parent(self, name="load", message=str(exc))
            return
        for kind, texts in (("accept", self.cases.accept), ("reject", self.cases.reject)):
            for i in range(len(texts)):
                yield CaseItem.from_parent(self, name=f"{kind}[{i}]", kind=kind, index=i)
        yield GeneratedItem.from_parent(self, name="members", kind="members")
        yield GeneratedItem.from_parent(self, name="near-misses", kind="near-misses")


class _GrammarItem(pytest.Item):
    """Failures from our checks print their message alone: it already says it all."""

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> Any:
        from wafer_grammar.errors import WaferGrammarError
        from wafer_grammar.testing.assertions import GrammarAssertionError

        if isinstance(excinfo.value, GrammarAssertionError | WaferGrammarError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def collector(self) -> CaseFileCollector:
        assert isinstance(self.parent, CaseFileCollector)
        return self.parent


class BrokenCaseFile(_GrammarItem):
    """Stands for a case file (or its grammar) that could not be loaded."""

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def runtest(self) -> None:
        from wafer_grammar.errors import WaferGrammarError

        raise WaferGrammarError(self.message)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.path.name}: could not load"


class CaseItem(_GrammarItem):
    """One ``accept`` or ``reject`` case."""

    def __init__(self, *, kind: str, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind = kind
        self.index = index

    def runtest(self) -> None:
        from wafer_grammar.testing.runner import accept_case, reject_case

        parent = self.collector()
        check = accept_case if self.kind == "accept" else reject_case
        check(parent.grammar, parent.cases, self.index, _engine(self.config))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.collector().cases.lines.get(self.kind)
        return self.path, None if line is None else line - 1, f"{self.kind}[{self.index}]"


class GeneratedItem(_GrammarItem):
    """N generated members (through ``downstream``) or N near-misses, all in one item."""

    def __init__(self, *, kind: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind = kind

    def runtest(self) -> None:
        from wafer_grammar.testing.assertions import GrammarAssertionError
        from wafer_grammar.testing.near_miss import sample_near_misses
        from wafer_grammar.testing.runner import member_check, near_miss_check
        from wafer_grammar.testing.strategies import sample_members

        parent = self.collector()
        grammar, cases, engine = parent.grammar, parent.cases, _engine(self.config)
        n = int(self.config.getoption("grammar_samples"))
        checks: list[Callable[[], None]] = []
        if self.kind == "members":
            consumer = cases.consumer()
            name = cases.downstream or ""
            checks = [
                partial(member_check, grammar, tree.flatten(), consumer, name, engine)
                for tree in sample_members(grammar, n, seed=0)
            ]
        else:
            checks = [
                partial(near_miss_check, grammar, miss, engine)
                for miss in sample_near_misses(grammar, n, seed=0)
            ]
        failures: list[str] = []
        for check in checks:
            try:
                check()
            except GrammarAssertionError as exc:
                failures.append(str(exc))
        if failures:
            raise GrammarAssertionError(
                f"{len(failures)} of {len(checks)} {self.kind} failed:\n" + "\n".join(failures),
                text="",
            )

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.kind


@pytest.fixture(scope="session")
def load_grammar() -> Callable[..., Grammar]:
    """``load_grammar(path, root="root")``: a grammar file, parsed once per session."""
    from wafer_grammar.testing.runner import load_grammar_for

    cache: dict[tuple[str, str], Grammar] = {}

    def load(path: str | Path, root: str = "root") -> Grammar:
        key = (str(Path(path).resolve()), root)
        if key not in cache:
            cache[key] = load_grammar_for(Path(path), root)
        return cache[key]

    return load


@pytest.fixture(scope="session")
def grammar_engine(pytestconfig: pytest.Config) -> Engine:
    """The engine from ``--grammar-engine``: pass it to ``assert_accepts(..., engine=...)``."""
    return _engine(pytestconfig)
