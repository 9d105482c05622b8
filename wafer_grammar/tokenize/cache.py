"""Where converted tokenizers are kept between runs (an explicit, inspectable cache)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

CACHE_ENV = "WAFER_GRAMMAR_CACHE_DIR"


def cache_dir() -> Path:
    """The cache root: ``$WAFER_GRAMMAR_CACHE_DIR`` or the platform's user cache dir.

    Read on every call (not at import) so tests and scripts can redirect it late.
    """
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("wafer-grammar"))


def read_cached(name: str) -> str | None:
    """The text of cache entry ``tokenizers/<name>``, or None when absent or unreadable."""
    path = cache_dir() / "tokenizers" / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def write_cached(name: str, text: str) -> Path | None:
    """Store ``text`` atomically; a cache that cannot be written is skipped, not fatal."""
    folder = cache_dir() / "tokenizers"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Write then rename: a concurrent reader sees the old entry or the whole new one.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, folder / name)
    except OSError:
        return None
    return folder / name
