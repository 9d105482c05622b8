"""Generated members and near-misses agree with XGrammar, the engine the server runs.

Skipped where xgrammar is not installed (run `make venv`, or
`pip install --no-deps xgrammar==0.2.8 apache-tvm-ffi` next to torch).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from hypothesis import given, settings

from wafer_grammar import Grammar
from wafer_grammar.cli.testing_cmd import register
from wafer_grammar.engines.xgrammar_oracle import xgrammar_available
from wafer_grammar.testing import EmptyLanguage, strings
from wafer_grammar.testing.assertions import xgrammar_matcher
from wafer_grammar.testing.near_miss import sample_near_misses
from wafer_grammar.testing.strategies import sample_members

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.skipif(
    not xgrammar_available(),
    reason="needs xgrammar: run `make venv`, or `pip install --no-deps xgrammar==0.2.8 "
    "apache-tvm-ffi` next to torch",
)


def _corpus() -> list[tuple[str, str]]:
    out = []
    for line in (ROOT / "tests" / "conformance" / "visible.jsonl").read_text().splitlines():
        case = json.loads(line)
        if case.get("valid"):
            out.append((case["id"], case["grammar"]))
    return out


CORPUS = _corpus()
GRAMMAR_FILES = sorted((ROOT / "grammars").glob("*.ebnf"))


def _agree(grammar: Grammar, n: int) -> None:
    matcher = xgrammar_matcher(grammar)
    members = [t.flatten() for t in sample_members(grammar, n, seed=0)]
    assert members
    assert [m for m in members if not matcher.accepts(m)] == []
    misses = [m.text for m in sample_near_misses(grammar, n, seed=0)]
    assert [m for m in misses if matcher.accepts(m)] == []


@pytest.mark.parametrize(("name", "ebnf"), CORPUS, ids=[c[0] for c in CORPUS])
def test_conformance_corpus_members_agree(name: str, ebnf: str) -> None:
    grammar = Grammar.from_ebnf(ebnf)
    try:
        _agree(grammar, 15)
    except EmptyLanguage:
        assert grammar.finite_language() == []  # nothing to generate, rightly


@pytest.mark.parametrize("path", GRAMMAR_FILES, ids=[p.name for p in GRAMMAR_FILES])
def test_ready_grammars_members_agree(path: Path) -> None:
    _agree(Grammar.from_file(path), 25)


def test_hypothesis_members_agree_on_json() -> None:
    grammar = Grammar.from_file(ROOT / "grammars" / "json.ebnf")
    matcher = xgrammar_matcher(grammar)

    @settings(max_examples=40, deadline=None)
    @given(strings(grammar))
    def check(text: str) -> None:
        assert matcher.accepts(text)

    check()


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="wafer-grammar")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return int(args.func(args))


def test_engine_flag_reports_disagreements(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A known XGrammar 0.2.8 quirk (tests/data/xgrammar_semantics.jsonl, x019): with a
    # lazy rule under "+", XGrammar rejects "ab", which our recognizer accepts.
    (tmp_path / "lazy.ebnf").write_text("root ::= n+\nn[lazy] ::= [a-z]+\n", encoding="utf-8")
    (tmp_path / "lazy.cases.toml").write_text('accept = ["a", "ab"]\n', encoding="utf-8")
    assert _cli("test", str(tmp_path / "lazy.ebnf"), "-n", "0") == 0
    capsys.readouterr()
    assert _cli("test", str(tmp_path / "lazy.ebnf"), "-n", "0", "--engine", "xgrammar") == 1
    assert capsys.readouterr().out.splitlines()[:2] == [
        f"{tmp_path / 'lazy.ebnf'}: 1 passed, 1 failed",
        "  FAILED accept[1] 'ab' is accepted by wafer-grammar but rejected by XGrammar: the "
        "engines disagree (please report it, with the grammar and the text)",
    ]


def test_engine_flag_passes_on_agreement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "g.ebnf").write_text('root ::= "(" root ")" | [a-c]+\n', encoding="utf-8")
    (tmp_path / "g.cases.toml").write_text('accept = ["(ab)"]\nreject = ["()"]\n', encoding="utf-8")
    assert _cli("test", str(tmp_path), "-n", "10", "--engine", "xgrammar") == 0
    assert capsys.readouterr().out.splitlines()[-1] == "22 passed, 0 failed"
