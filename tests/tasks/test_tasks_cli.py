"""``wafer-grammar classify | extract`` against the embedded server: output and messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wafer_grammar.cli import main


def run(server: Any, *args: str) -> int:
    return main([*args[:1], "--base-url", server.base_url, "--model", server.model, *args[1:]])


def test_classify_prints_the_label_then_each_probability(
    server_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(server_env, "classify", "--labels", "positive,negative", "Loved it!") == 0
    out, err = capsys.readouterr()
    assert err == f"backend: server at {server_env.base_url}\n"
    lines = out.splitlines()
    assert lines[0] in ("positive", "negative")
    assert lines[1].split()[0] == lines[0]  # the most probable label is listed first
    assert all(line.startswith("  ") and len(line.split()) == 2 for line in lines[1:])


def test_classify_json_and_label_warnings(
    server_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(server_env, "classify", "--json", "--labels", "no,not sure", "Is it?") == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert set(doc) == {"label", "probabilities", "usage", "cost_cents"}
    assert err.splitlines()[1:] == [
        "warning: label 'no' is a prefix of 'not sure': after 'no' the model may stop or go on"
    ]


def test_extract_prints_the_value(
    server_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {"city": {"type": "string", "maxLength": 10}},
                "required": ["city"],
            }
        )
    )
    assert run(server_env, "extract", "--schema", str(schema), "I live in Oslo.") == 0
    value = json.loads(capsys.readouterr().out)
    assert set(value) == {"city"}

    # --stream: the same stdout; the views on stderr, one JSON line each, growing.
    assert run(server_env, "extract", "--stream", "--schema", str(schema), "I live in Oslo.") == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == value
    views = [json.loads(line) for line in err.splitlines()[1:]]  # after the backend line
    assert views and all(isinstance(v, dict) for v in views)
    assert views[-1]["city"] == value["city"][: len(views[-1]["city"])]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["classify", "--labels", "a,,b", "x"],
            "wafer-grammar: --labels needs comma-separated, non-empty labels, not 'a,,b'\n",
        ),
        (
            ["extract", "--schema", "/nonexistent/s.json", "x"],
            "wafer-grammar: cannot read /nonexistent/s.json: No such file or directory\n",
        ),
    ],
)
def test_usage_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert capsys.readouterr().err == message


def test_a_model_is_needed_away_from_the_embedded_engine(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["classify", "--base-url", "http://127.0.0.1:9/v1", "--labels", "a,b", "x"]) == 2
    assert capsys.readouterr().err == (
        "wafer-grammar: --model is required unless the embedded engine is used "
        "(no WAFER_API_KEY and no --base-url)\n"
    )


def test_the_key_never_shows(
    server_env: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAFER_API_KEY", "sk-wrong-" + server_env.api_key[::-1])
    assert run(server_env, "classify", "--labels", "a,b", "x") == 2
    out, err = capsys.readouterr()
    assert "sk-wrong" not in out + err and server_env.api_key not in out + err
    assert err.splitlines()[-1].startswith("wafer-grammar: ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["classify", "--labels", "a,a", "x"], "wafer-grammar: --labels: duplicate labels: 'a'"),
        (
            ["classify", "--labels", "a,b", "--orders", "5", "x"],
            "wafer-grammar: --orders: orders must be an integer from 1 to the number of labels "
            "(2), not 5",
        ),
        (
            ["classify", "--labels", "a,b", "--model", "GLM-5.1", "x"],
            "wafer-grammar: --model 'GLM-5.1': the embedded engine serves "
            "'SmolLM2-135M-Instruct' only; set WAFER_API_KEY or --base-url to use another model",
        ),
        (
            [
                "batch",
                "classify",
                "--labels",
                "a,b",
                "--input",
                "in.jsonl",
                "--output",
                "/nonexistent/dir/o.jsonl",
            ],
            "wafer-grammar: --output /nonexistent/dir/o.jsonl: the folder /nonexistent/dir does "
            "not exist",
        ),
    ],
)
def test_mistakes_are_caught_before_anything_loads(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WAFER_API_KEY", raising=False)

    def no_engine(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine was started before the arguments were checked")

    monkeypatch.setattr("wafer_grammar.local.server.LocalServer.__init__", no_engine)
    assert main(argv) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == message


def test_a_schema_error_names_the_cli_way_out(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WAFER_API_KEY", raising=False)
    schema = tmp_path / "s.json"
    schema.write_text('{"type": "object", "not": {"type": "string", "pattern": "a"}}')
    assert main(["extract", "--schema", str(schema), "x"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f'wafer-grammar: {schema}: keyword "not" at the root cannot be negated: the values that '
        'fail "pattern" have no grammar; the command line converts strictly: drop the keyword, '
        "or use Grammar.from_json_schema(..., strict=False) from Python\n"
    )
