"""Case files: the format, and an exact message for every way to get it wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from wafer_grammar.testing.cases import (
    CaseFileError,
    case_path_for,
    grammar_path_for,
    load_cases,
    parse_cases,
)

PATH = Path("g/answer.cases.toml")


def test_a_full_case_file() -> None:
    source = (
        '# cases\nroot = "value"\ndownstream = "json"\n'
        'accept = [\'{"a": 1}\', "[]"]\nreject = [\'\\d\', "\\\\d"]\n'
    )
    cases = parse_cases(source, PATH)
    assert cases.root == "value"
    assert cases.downstream == "json"
    assert cases.accept == ('{"a": 1}', "[]")
    assert cases.reject == ("\\d", "\\d")  # a literal string and an escaped basic string
    assert cases.grammar_path == Path("g/answer.ebnf")
    assert cases.lines == {"root": 2, "downstream": 3, "accept": 4, "reject": 5}
    consumer = cases.consumer()
    assert consumer is not None and consumer("[1]") == [1]


def test_defaults() -> None:
    cases = parse_cases("", PATH)
    assert (cases.root, cases.downstream, cases.accept, cases.reject) == ("root", None, (), ())
    assert cases.consumer() is None


def test_paths_pair_up() -> None:
    assert grammar_path_for(Path("a/x.y.cases.toml")) == Path("a/x.y.ebnf")
    assert case_path_for(Path("a/x.y.ebnf")) == Path("a/x.y.cases.toml")


BAD = [
    (
        'accept = ["a", 1]',
        "g/answer.cases.toml: line 1, column 1: accept[1] must be a string, not an integer 1\n"
        '  accept = ["a", 1]\n'
        "  ^",
    ),
    (
        'accept = "a"',
        'g/answer.cases.toml: line 1, column 1: "accept" must be a list of strings, not a string\n'
        '  accept = "a"\n'
        "  ^",
    ),
    (
        "\n  acept = []",
        'g/answer.cases.toml: line 2, column 3: unknown key "acept" (a case file has root, downstream, accept, reject); did you mean "accept"?\n'
        "    acept = []\n"
        "    ^",
    ),
    (
        "accept = []\nreject = []\naccept = []",
        'g/answer.cases.toml: line 3, column 1: "accept" is given twice (lines 1 and 3)\n'
        "  accept = []\n"
        "  ^",
    ),
    (
        'downstream = "yaml"',
        'g/answer.cases.toml: line 1, column 1: unknown downstream "yaml" (known: "json")\n'
        '  downstream = "yaml"\n'
        "  ^",
    ),
    (
        "root = 3",
        'g/answer.cases.toml: line 1, column 1: "root" must be a rule name, not an integer 3\n'
        "  root = 3\n"
        "  ^",
    ),
    (
        'accept = ["\\d"]',
        "g/answer.cases.toml: line 1, column 14: not valid TOML: Unescaped '\\' in a string; write \\\\ in \"...\" strings, or use a literal string '...'\n"
        '  accept = ["\\d"]\n'
        "               ^",
    ),
    (
        'accept = ["a"\nreject = []',
        "g/answer.cases.toml: line 2, column 1: not valid TOML: Unclosed array\n  reject = []\n  ^",
    ),
    (
        "accept = [",
        "g/answer.cases.toml: line 1, column 11: not valid TOML: Invalid value\n"
        "  accept = [\n"
        "            ^",
    ),
]


@pytest.mark.parametrize(("source", "message"), BAD)
def test_malformed_case_files(source: str, message: str) -> None:
    with pytest.raises(CaseFileError) as err:
        parse_cases(source, PATH)
    assert str(err.value) == message
    assert err.value.line is not None and err.value.column is not None


def test_unreadable_and_misnamed(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError) as err:
        load_cases(tmp_path / "gone.cases.toml")
    assert (
        str(err.value) == f"{tmp_path / 'gone.cases.toml'}: cannot read: No such file or directory"
    )
    with pytest.raises(CaseFileError) as err:
        load_cases(tmp_path / "cases.toml")
    assert str(err.value) == f"{tmp_path / 'cases.toml'}: a case file's name ends in .cases.toml"


def test_load_reads_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.cases.toml"
    path.write_text('accept = ["négatif", "中性"]\n', encoding="utf-8")
    assert load_cases(path).accept == ("négatif", "中性")
