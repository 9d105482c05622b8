"""The grammar commands of ``wafer-grammar``: exact output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wafer_grammar.cli import main

WARN = 'root ::= item ("," item)*\nitem ::= "yes" | "yes, but" | "no"\n'
BAD = 'root ::= "a" | b\nb ::= [z-a]\n'


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    paths = {}
    for name, text in {"warn": WARN, "bad": BAD, "ok": 'root ::= "x" [0-9]{1,3}\n'}.items():
        path = tmp_path / f"{name}.ebnf"
        path.write_text(text, encoding="utf-8")
        paths[name] = str(path)
    return paths


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_check_prints_errors_with_caret_and_exits_1(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["check", files["bad"]], capsys)
    assert code == 1
    assert out == (
        f"{files['bad']}:2:8: error[E106]: character class range z-a is reversed\n"
        "  b ::= [z-a]\n"
        "         ^~~\n"
        "  = hint: write it low-high: a-z\n"
    )


def test_warnings_exit_0_unless_strict(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["check", files["warn"]], capsys)
    assert code == 0
    assert out.splitlines()[0] == (
        f'{files["warn"]}:2:10: warning[W302]: alternative "yes" is a prefix of alternative '
        '"yes, but": a model can stop after "yes"'
    )
    assert run(["check", "--strict", files["warn"]], capsys)[0] == 1


def test_check_clean_file(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["check", files["ok"]], capsys) == (0, f"{files['ok']}: ok\n", "")
    assert run(["check", "-q", files["ok"]], capsys) == (0, "", "")


def test_check_json(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", "--json", files["bad"], files["ok"]], capsys)
    assert code == 1
    assert json.loads(out) == [
        {
            "file": files["bad"], "code": "E106", "severity": "error",
            "message": "character class range z-a is reversed",
            "line": 2, "column": 8, "end_line": 2, "end_column": 11,
            "rule": None, "hint": "write it low-high: a-z",
        }
    ]  # fmt: skip


def test_accepts(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["accepts", files["warn"], "yes,no"], capsys) == (0, "accepted\n", "")
    code, out, err = run(["accepts", files["warn"], "yes,maybe"], capsys)
    assert (code, out) == (1, "")
    assert err == (
        'rejected: line 1, column 5: unexpected "m"; expected "no", "yes", "yes, but"\n'
        "  yes,maybe\n"
        "      ^\n"
    )


def test_accepts_input_file(
    files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "answer.txt"
    text.write_text("x12", encoding="utf-8")
    assert run(["accepts", files["ok"], "--input", str(text), "-q"], capsys) == (0, "", "")


def test_accepts_usage_errors(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["accepts", files["ok"]], capsys)
    assert (code, err) == (
        2,
        "wafer-grammar: give the text to test either as an argument or with --input PATH\n",
    )
    code, _, err = run(["accepts", files["ok"] + ".missing", "x"], capsys)
    assert (code, err) == (
        2,
        f"wafer-grammar: cannot read {files['ok']}.missing: No such file or directory\n",
    )
    code, _, err = run(["accepts", files["bad"], "x"], capsys)
    assert code == 2
    assert err.startswith(
        f"wafer-grammar: {files['bad']} is not a valid grammar:\n{files['bad']}:2:8: error[E106]"
    )


def test_fmt(files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    messy = tmp_path / "messy.ebnf"
    messy.write_text('root::=( "a"|"b" )  {2}\n', encoding="utf-8")
    assert run(["fmt", str(messy)], capsys) == (0, 'root ::= ("a" | "b"){2}\n', "")
    assert run(["fmt", "--check", str(messy)], capsys) == (
        1,
        f"{messy}: not in canonical form\n",
        "",
    )
    assert run(["fmt", "--write", str(messy)], capsys) == (0, f"{messy}: reformatted\n", "")
    assert messy.read_text(encoding="utf-8") == 'root ::= ("a" | "b"){2}\n'
    assert run(["fmt", "--check", str(messy)], capsys) == (0, "", "")


def test_fmt_keeps_comments_and_is_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "commented.ebnf"
    path.write_text(
        '# header\n\n\nroot ::= a   # the answer\na ::= "x"\n  | # inside\n  "y"\n# tail\n',
        encoding="utf-8",
    )
    assert run(["fmt", "--write", str(path)], capsys) == (0, f"{path}: reformatted\n", "")
    assert path.read_text(encoding="utf-8") == (
        '# header\n\nroot ::= a  # the answer\n# inside\na ::= "x" | "y"\n# tail\n'
    )
    assert run(["fmt", "--check", str(path)], capsys) == (0, "", "")


def test_fmt_check_passes_on_the_shipped_grammars(capsys: pytest.CaptureFixture[str]) -> None:
    grammars = Path(__file__).resolve().parents[1] / "grammars"
    assert run(["fmt", "--check", str(grammars)], capsys) == (0, "", "")


def test_base_url_without_a_scheme_is_refused_while_parsing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["classify", "--labels", "a,b", "--base-url", "localhost:18123", "hi"])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "wafer-grammar classify: error: argument --base-url: must start with http:// or "
        "https://, e.g. http://localhost:18123/v1"
    )


def test_ctrl_c_is_one_line_and_exit_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from wafer_grammar.cli import grammar_cmd

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(grammar_cmd, "cmd_check", interrupted)
    grammar = tmp_path / "g.ebnf"
    grammar.write_text('root ::= "a"\n')
    assert main(["check", str(grammar)]) == 130
    assert capsys.readouterr().err == "wafer-grammar: interrupted\n"


def test_check_walks_directories_and_reports_every_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ok.ebnf").write_text('root ::= "a"\n')
    (tmp_path / "bad.ebnf").write_text("root ::= b\n")
    missing = str(tmp_path / "missing.ebnf")
    code = main(["check", str(tmp_path), missing])
    out, err = capsys.readouterr()
    assert code == 2  # a file could not be read: the command could not do all it was asked
    assert f"{tmp_path / 'sub' / 'ok.ebnf'}: ok" in out.splitlines()
    assert "error[E303]" in out  # bad.ebnf is still reported, before and after the missing one
    assert err == f"wafer-grammar: cannot read {missing}: No such file or directory\n"


def test_accepts_hints_at_a_files_final_newline(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    grammar = tmp_path / "g.ebnf"
    grammar.write_text('root ::= "yes"\n')
    answer = tmp_path / "answer.txt"
    answer.write_text("yes\n")
    assert main(["accepts", str(grammar), "--input", str(answer)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "hint: the file without its final newline is accepted (editors add one); "
        "pass the text as an argument, or allow the newline in the grammar"
    )
