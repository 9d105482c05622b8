"""`wafer-grammar test` and `wafer-grammar sample`, through their own parser + register()."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from wafer_grammar.cli import testing_cmd as cli

GRAMMAR = 'root ::= "[" (item ("," item)*)? "]"\nitem ::= [0-9]+ | "x"\n'


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="wafer-grammar")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return int(args.func(args))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "list.ebnf").write_text(GRAMMAR, encoding="utf-8")
    (tmp_path / "list.cases.toml").write_text(
        'downstream = "json"\naccept = ["[]", "[1,22]"]\nreject = ["[1,]", "[x"]\n',
        encoding="utf-8",
    )
    return tmp_path


def test_passing_grammar(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "list.ebnf").write_text(
        'root ::= "[" (item ("," item)*)? "]"\nitem ::= [1-9] [0-9]*\n'
    )
    assert run("test", str(project), "-n", "5") == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{project / 'list.ebnf'}: 14 passed, 0 failed",
        "  coverage 100%: 2 of 2 rules, 0 of 0 alternatives",
        "14 passed, 0 failed",
    ]


def test_wrong_cases_fail_with_offset_and_expected(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "list.cases.toml").write_text(
        'accept = ["[1;2]", "[3]"]\nreject = ["[]"]\n', encoding="utf-8"
    )
    assert run("test", str(project / "list.ebnf"), "-n", "3") == 1
    out = capsys.readouterr().out
    assert out.splitlines()[:8] == [
        f"{project / 'list.ebnf'}: 7 passed, 2 failed",
        "  FAILED accept[0] '[1;2]' was rejected at offset 2: line 1, column 3: "
        'unexpected ";"; expected ",", "]", [0-9]',
        "    [1;2]",
        "      ^",
        "    rule path: root > item",
        "  FAILED reject[0] '[]' was accepted, but must be rejected",
        "  coverage 75%: 2 of 2 rules, 1 of 2 alternatives",
        "    not exercised: rule 'item', alternative 2 of 2 (line 2, column 19): \"x\"",
    ]
    assert out.splitlines()[-1] == "7 passed, 2 failed"


def test_downstream_failure_of_a_generated_member(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "x" is in the grammar but not JSON: a generated member shows it.
    assert run("test", str(project), "-n", "10") == 1
    out = capsys.readouterr().out
    assert (
        "  FAILED generated member '[x]' is accepted, but downstream json.loads refuses it: JSONDecodeError: Expecting value: line 1 column 2 (char 1)"
        in out.splitlines()
    )


def test_fail_under_and_missing_case_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "yes.ebnf").write_text('root ::= "yes" | "no"\n', encoding="utf-8")
    assert run("test", str(tmp_path / "yes.ebnf"), "-n", "2", "--fail-under", "90") == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{tmp_path / 'yes.ebnf'}: 4 passed, 0 failed",
        "  no case file (write yes.cases.toml beside it)",
        "  FAILED coverage 0% is under --fail-under 90%",
        "4 passed, 1 failed",
    ]


def test_broken_inputs_are_reported_per_grammar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.ebnf").write_text('root ::= "a" | \n', encoding="utf-8")
    (tmp_path / "lonely.cases.toml").write_text("accept = []\n", encoding="utf-8")
    (tmp_path / "ok.ebnf").write_text('root ::= "a"\n', encoding="utf-8")
    (tmp_path / "ok.cases.toml").write_text("accept = [\n", encoding="utf-8")
    assert run("test", str(tmp_path), "-n", "1") == 1
    out = capsys.readouterr().out
    assert (
        f"  ERROR {tmp_path / 'lonely.cases.toml'} has no grammar beside it: expected {tmp_path / 'lonely.ebnf'}"
        in out
    )
    assert (
        f"  ERROR {tmp_path / 'ok.cases.toml'}: line 1, column 11: not valid TOML: Invalid value"
        in out
    )
    assert f"  ERROR {tmp_path / 'bad.ebnf'} is not a valid grammar:" in out
    assert out.splitlines()[-1] == "0 passed, 3 failed"


def test_missing_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("test", str(tmp_path / "nope.ebnf")) == 2
    assert (
        capsys.readouterr().err
        == f"wafer-grammar: no such file or directory: {tmp_path / 'nope.ebnf'}\n"
    )
    assert run("test", str(tmp_path)) == 2
    assert (
        capsys.readouterr().err
        == f"wafer-grammar: no .ebnf or .cases.toml files under {tmp_path}\n"
    )


def test_xgrammar_engine_missing(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import wafer_grammar.engines.xgrammar_oracle as oracle

    monkeypatch.setattr(oracle, "xgrammar_available", lambda: False)
    assert run("test", str(project), "--engine", "xgrammar") == 2
    assert capsys.readouterr().err == (
        "wafer-grammar: --engine xgrammar: checking verdicts with XGrammar needs the xgrammar "
        "package, which is not installed: run `make venv`, or "
        "`pip install --no-deps xgrammar==0.2.8 apache-tvm-ffi` next to torch\n"
    )


def test_sample_members_and_near_misses(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from wafer_grammar import Grammar

    grammar = Grammar.from_ebnf(GRAMMAR)
    assert run("sample", str(project / "list.ebnf"), "-n", "7", "--seed", "1") == 0
    members = capsys.readouterr().out.splitlines()
    assert len(members) == len(set(members)) == 7
    assert all(grammar.accepts(m) for m in members)
    assert run("sample", str(project / "list.ebnf"), "-n", "7", "--seed", "1") == 0
    assert capsys.readouterr().out.splitlines() == members  # a seed reproduces
    assert run("sample", str(project / "list.ebnf"), "-n", "5", "--near-misses", "--json") == 0
    misses = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(misses) == 5 and not any(grammar.accepts(m) for m in misses)


def test_sample_fewer_than_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "yn.ebnf").write_text('root ::= "yes" | "no"\n', encoding="utf-8")
    assert run("sample", str(tmp_path / "yn.ebnf"), "-n", "5", "--seed", "0") == 0
    captured = capsys.readouterr()
    assert sorted(captured.out.splitlines()) == ["no", "yes"]
    assert captured.err == "wafer-grammar: found only 2 distinct members of 5 asked\n"


def test_sample_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tok.ebnf").write_text("root ::= Token(1)\n", encoding="utf-8")
    assert run("sample", str(tmp_path / "tok.ebnf")) == 2
    assert capsys.readouterr().err.startswith("wafer-grammar: rule 'root' uses Token(...)")
    (tmp_path / "r.ebnf").write_text('root ::= "a"\nother ::= "b"\n', encoding="utf-8")
    assert run("sample", str(tmp_path / "r.ebnf"), "--root", "other", "-n", "1") == 0
    assert capsys.readouterr().out == "b\n"
