"""The pytest plugin, run inside pytester: case files become items; failures explain themselves."""

from __future__ import annotations

import re

import pytest

pytest_plugins = ("pytester",)

GRAMMAR = 'root ::= "[" (item ("," item)*)? "]"\nitem ::= [1-9] [0-9]* | "0"\n'


def assert_block(lines: list[str], block: list[str]) -> None:
    """``block`` appears in ``lines`` as consecutive, exact lines."""
    for i in range(len(lines) - len(block) + 1):
        if lines[i : i + len(block)] == block:
            return
    raise AssertionError("not found:\n" + "\n".join(block) + "\nin:\n" + "\n".join(lines))


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".ebnf", nums=GRAMMAR)
    pytester.path.joinpath("nums.cases.toml").write_text(
        'downstream = "json"\naccept = ["[]", "[0,12]"]\nreject = ["[01]", "[1,]"]\n',
        encoding="utf-8",
    )
    return pytester


def test_one_item_per_case(project: pytest.Pytester) -> None:
    result = project.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "nums.cases.toml::accept[0]",
            "nums.cases.toml::accept[1]",
            "nums.cases.toml::reject[0]",
            "nums.cases.toml::reject[1]",
            "nums.cases.toml::members",
            "nums.cases.toml::near-misses",
        ]
    )
    assert project.runpytest().ret == 0


def test_a_wrong_case_fails_naming_case_offset_and_expected(project: pytest.Pytester) -> None:
    project.path.joinpath("nums.cases.toml").write_text(
        'accept = ["[1,2]", "[1 2]"]\nreject = ["[3]"]\n', encoding="utf-8"
    )
    result = project.runpytest("-p", "no:cacheprovider")
    assert result.ret == 1
    result.assert_outcomes(passed=3, failed=2)
    lines = result.stdout.lines
    assert_block(
        lines,
        [
            "__________________________________ accept[1] ___________________________________",
            "accept[1] '[1 2]' was rejected at offset 2: line 1, column 3: "
            'unexpected " "; expected ",", "]", [0-9]',
            "  [1 2]",
            "    ^",
            "  rule path: root > item",
            "__________________________________ reject[0] ___________________________________",
            "reject[0] '[3]' was accepted, but must be rejected",
        ],
    )


def test_downstream_failures_of_generated_members(pytester: pytest.Pytester) -> None:
    pytester.makefile(".ebnf", words='root ::= "[" [a-z]+ "]"\n')
    pytester.path.joinpath("words.cases.toml").write_text(
        'downstream = "json"\naccept = ["[a]"]\n', encoding="utf-8"
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--grammar-samples=3")
    result.assert_outcomes(passed=1, failed=2)
    lines = result.stdout.lines
    assert (
        "accept[0] '[a]' is accepted, but downstream json.loads refuses it: "
        "JSONDecodeError: Expecting value: line 1 column 2 (char 1)"
    ) in lines
    at = lines.index("3 of 3 members failed:")
    assert all(
        re.fullmatch(
            r"generated member '\[[a-z]+\]' is accepted, but downstream json.loads refuses "
            r"it: JSONDecodeError: Expecting value: line 1 column 2 \(char 1\)",
            line,
        )
        for line in lines[at + 1 : at + 4]
    )


def test_a_broken_case_file_is_one_failing_item(project: pytest.Pytester) -> None:
    project.path.joinpath("nums.cases.toml").write_text("accept = [1]\n", encoding="utf-8")
    project.makepyfile(test_other="def test_still_runs():\n    pass\n")
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    assert_block(
        result.stdout.lines,
        [
            f"{project.path / 'nums.cases.toml'}: line 1, column 1: "
            "accept[0] must be a string, not an integer 1",
            "  accept = [1]",
            "  ^",
        ],
    )


def test_collection_can_be_turned_off(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nwafer_grammar_cases = false\n")
    result = project.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_fixtures_and_helpers(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_mine="""
from wafer_grammar.testing import assert_accepts, assert_rejects


def test_loader(load_grammar, grammar_engine):
    g = load_grammar("nums.ebnf")
    assert load_grammar("nums.ebnf") is g
    assert grammar_engine == "wafer"
    assert_accepts(g, "[1,2]", engine=grammar_engine)
    assert_rejects(g, "[1,,2]", engine=grammar_engine)


def test_failing_helper(load_grammar):
    assert_accepts(load_grammar("nums.ebnf"), "[1,,2]")
"""
    )
    result = project.runpytest("-p", "no:cacheprovider", "test_mine.py")
    result.assert_outcomes(passed=1, failed=1)
    assert_block(
        result.stdout.lines,
        [
            '>       assert_accepts(load_grammar("nums.ebnf"), "[1,,2]")',
            "E       wafer_grammar.testing.assertions.GrammarAssertionError: '[1,,2]' was rejected "
            'at offset 3: line 1, column 4: unexpected ","; expected "0", [1-9]',
            "E         [1,,2]",
            "E            ^",
            "E         rule path: root",
        ],
    )


def test_xgrammar_engine_without_xgrammar(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wafer_grammar.engines.xgrammar_oracle as oracle

    monkeypatch.setattr(oracle, "xgrammar_available", lambda: False)
    result = project.runpytest("-p", "no:cacheprovider", "--grammar-engine=xgrammar")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines[0] == (
        "ERROR: --grammar-engine=xgrammar: checking verdicts with XGrammar needs the "
        "xgrammar package, which is not installed: run `make venv`, or "
        "`pip install --no-deps xgrammar==0.2.8 apache-tvm-ffi` next to torch"
    )


def test_plugin_module_imports_only_pytest() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import wafer_grammar.testing.pytest_plugin; "
        "print(sorted(m for m in ('hypothesis', 'lark', 'xgrammar', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (
        "hypothesis" not in out.stdout
        and "xgrammar" not in out.stdout
        and "torch" not in out.stdout
    )
