"""Every ready grammar in grammars/ passes `wafer-grammar test` with full coverage from its case file."""

from __future__ import annotations

from pathlib import Path

import pytest

from wafer_grammar.testing.runner import run_grammar

GRAMMARS = sorted((Path(__file__).parents[2] / "grammars").glob("*.ebnf"))


@pytest.mark.parametrize("path", GRAMMARS, ids=[p.name for p in GRAMMARS])
def test_ready_grammar(path: Path) -> None:
    run = run_grammar(path, samples=10)
    assert run.case_path is not None, f"{path.name} has no case file: write {path.stem}.cases.toml"
    assert run.error is None, run.error
    assert [c.message for c in run.checks if not c.passed] == []
    assert run.coverage is not None
    assert run.coverage.complete, run.coverage.render()
