"""Loading the embedded model: GGUF -> torch, with a dequantized safetensors cache.

Dequantizing the GGUF takes ~15 s on two cores; the safetensors copy kept in the
user cache dir reloads in well under a second (it is memory-mapped). The cache
entry is keyed by the GGUF's size and mtime, so a replaced file is converted again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wafer_grammar.errors import ModelUnavailable
from wafer_grammar.local.engine_config import (
    MODEL_ID,
    EngineConfig,
    packaged_model_path,
    resolve_model_path,
)
from wafer_grammar.tokenize.cache import cache_dir
from wafer_grammar.tokenize.tokenizer import Tokenizer

logger = logging.getLogger(__name__)

CACHE_FORMAT = 1
"""Bump when the cached layout changes, so old entries are not read."""


@dataclass
class LoadedModel:
    """The model, its tokenizer, and how long loading took."""

    model: Any
    """A ``transformers`` causal LM in eval mode (float32, CPU)."""
    tokenizer: Tokenizer
    path: Path
    """The GGUF it came from."""
    vocab_size: int
    """Rows of the model's logits (the grammar mask's width)."""
    stop_token_ids: tuple[int, ...]
    """Tokens that end a completion (``<|im_end|>``, ``<|endoftext|>``)."""
    load_seconds: float
    from_cache: bool


def cache_entry(path: Path) -> Path:
    """The cache folder for ``path``'s dequantized weights.

    Named ``STEM-WHERE-SIZE-MTIME-vFORMAT``, WHERE a digest of the file's absolute
    path: two installs of the same model (two virtual environments) keep one entry
    each instead of taking each other's for stale.
    """
    stat = path.stat()
    where = "p" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]
    return (
        cache_dir()
        / "models"
        / f"{path.stem}-{where}-{stat.st_size}-{stat.st_mtime_ns}-v{CACHE_FORMAT}"
    )


def _require_engine_packages() -> None:
    import importlib.util

    missing = [
        m
        for m in ("torch", "transformers", "accelerate", "gguf", "xgrammar")
        if importlib.util.find_spec(m) is None
    ]
    if missing:
        raise ModelUnavailable(
            f"the local engine needs {', '.join(missing)}: run `make venv`, or "
            "pip install 'wafer-grammar[local]' plus CPU torch and "
            "`pip install --no-deps xgrammar==0.2.8`"
        )


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """No weight-loading progress bar (it would land in every server's log)."""
    from transformers.utils import logging as _tlog

    tlog: Any = _tlog  # its toggles are untyped
    was_enabled = tlog.is_progress_bar_enabled()
    tlog.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            tlog.enable_progress_bar()


def _load_gguf(path: Path) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    logger.info("dequantizing %s (once; later loads use the cache)", path)
    return AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32
    )


def _save_cache(model: Any, entry: Path) -> bool:
    # transformers refuses save_pretrained on a GGUF-loaded model while it still
    # carries its quantizer; the weights are already plain float32 tensors.
    model.hf_quantizer = None
    model.is_quantized = False
    model.quantization_method = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=".tmp-"))
        model.save_pretrained(str(tmp), safe_serialization=True)
        try:
            # Rename the whole folder: a concurrent loader sees no entry or a complete one.
            os.replace(tmp, entry)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # another process won the race
    except OSError as exc:
        logger.warning("could not cache the dequantized model in %s: %s", entry, exc)
        return False
    _drop_stale_entries(entry)
    return True


def _drop_stale_entries(entry: Path) -> None:
    """Remove the cached copies of earlier versions of the same GGUF file (~540 MB each).

    A replaced file (same path, other size or mtime) or a new cache format makes the
    old entry unreachable, so it is deleted rather than kept forever. Entries of the
    same model at another path are left alone. (Deleting a folder another process
    has memory-mapped is safe on POSIX.)
    """
    stem = entry.name.rsplit("-", 3)[0]  # STEM-WHERE
    # Entries named before WHERE existed (STEM-SIZE-MTIME-vFORMAT) are stale too; a
    # WHERE starts with a letter, so no current entry looks like one.
    legacy = stem.rsplit("-", 1)[0]
    pattern = re.compile(f"(?:{re.escape(stem)}|{re.escape(legacy)})" + r"-\d+-\d+-v\d+")
    for sibling in entry.parent.iterdir():
        if sibling != entry and pattern.fullmatch(sibling.name):
            logger.info("removing stale model cache %s", sibling)
            shutil.rmtree(sibling, ignore_errors=True)


def _load_cached(entry: Path) -> Any | None:
    import torch
    from transformers import AutoModelForCausalLM

    if not (entry / "config.json").is_file():
        return None
    try:
        return AutoModelForCausalLM.from_pretrained(
            str(entry), dtype=torch.float32, local_files_only=True
        )
    except (OSError, ValueError) as exc:  # a damaged entry is rebuilt
        logger.warning("ignoring damaged model cache %s: %s", entry, exc)
        shutil.rmtree(entry, ignore_errors=True)
        return None


def load_model(config: EngineConfig) -> LoadedModel:
    """Load the GGUF named by ``config`` (through the cache) and its tokenizer.

    Raises
    ------
    ModelUnavailable
        The file or an engine package is missing.
    """
    _require_engine_packages()
    path = resolve_model_path(config)
    import torch

    from wafer_grammar.tokenize.loading import load_tokenizer

    if config.threads:
        torch.set_num_threads(config.threads)
    start = time.perf_counter()
    entry = cache_entry(path) if config.use_cache else None
    with _quiet_transformers():
        model = _load_cached(entry) if entry is not None else None
        from_cache = model is not None
        if model is None:
            model = _load_gguf(path)
            if entry is not None:
                _save_cache(model, entry)
    model.eval()
    # The registry's entry (reasoning style, context) describes the packaged file;
    # any other file is read as a plain GGUF (its own tokenizer and template).
    tokenizer = load_tokenizer(MODEL_ID if path == packaged_model_path() else path)
    vocab_size = int(model.config.vocab_size)
    eos = model.config.eos_token_id
    stops = {int(i) for i in (eos if isinstance(eos, list) else [eos]) if i is not None}
    endoftext = tokenizer.token_to_id("<|endoftext|>")
    if endoftext is not None:
        stops.add(endoftext)
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        path=path,
        vocab_size=vocab_size,
        stop_token_ids=tuple(sorted(stops)),
        load_seconds=time.perf_counter() - start,
        from_cache=from_cache,
    )
