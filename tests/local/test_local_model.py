"""Model loading: the file lookup, its refusals, and the dequantized cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wafer_grammar.errors import ModelUnavailable
from wafer_grammar.local.engine_config import (
    MODEL_PATH_ENV,
    EngineConfig,
    packaged_model_path,
    resolve_model_path,
)
from wafer_grammar.local.model import cache_entry, load_model


def test_packaged_model_is_found() -> None:
    path = packaged_model_path()
    assert path is not None and path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert resolve_model_path(EngineConfig()) == path


def test_missing_override_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelUnavailable) as info:
        resolve_model_path(EngineConfig(model_path=missing))
    assert str(info.value) == f"model file {missing} does not exist"
    monkeypatch.setenv(MODEL_PATH_ENV, str(missing))
    with pytest.raises(ModelUnavailable) as info:
        resolve_model_path(EngineConfig())
    assert str(info.value) == f"model file {missing} does not exist"


def test_cache_entry_follows_size_and_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAFER_GRAMMAR_CACHE_DIR", str(tmp_path / "cache"))
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"x" * 10)
    first = cache_entry(gguf)
    assert first.parent == tmp_path / "cache" / "models"
    os.utime(gguf, ns=(1, 1))
    assert cache_entry(gguf) != first


@pytest.mark.slow
def test_cold_load_fills_the_cache_and_the_next_load_uses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAFER_GRAMMAR_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cold = load_model(EngineConfig())
    assert not cold.from_cache
    assert (cache_entry(cold.path) / "model.safetensors").is_file()
    warm = load_model(EngineConfig())
    assert warm.from_cache
    assert warm.load_seconds < cold.load_seconds
    assert warm.stop_token_ids == cold.stop_token_ids == (0, 2)
    assert warm.vocab_size == 49152
