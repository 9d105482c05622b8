"""Loaded tokenizers, kept in one explicit cache that the I/O edges share.

The client's sans-I/O core and the tasks never load a tokenizer themselves: they
are handed a :class:`TokenizerCache` (by default the process's one,
:func:`shared_tokenizers`), which loads each model's tokenizer on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wafer_grammar.tokenize.registry import ModelEntry, Registry
    from wafer_grammar.tokenize.tokenizer import Tokenizer


class TokenizerCache:
    """Tokenizers by model ID, each loaded once, on first use (thread-safe).

    Parameters:
        loader: ``model -> Tokenizer`` (default :func:`~wafer_grammar.tokenize.load_tokenizer`).
        registry: where model entries come from (default: the packaged registry).
    """

    def __init__(
        self,
        loader: Callable[[str], Tokenizer] | None = None,
        registry: Registry | None = None,
    ) -> None:
        self._loader = loader
        self._registry = registry
        self._loaded: dict[str, Tokenizer] = {}
        self._lock = threading.Lock()

    def get(self, model: str) -> Tokenizer:
        """The model's tokenizer, loaded on the first call for it."""
        with self._lock:
            found = self._loaded.get(model)
        if found is None:
            if self._loader is None:
                from wafer_grammar.tokenize.loading import load_tokenizer

                found = load_tokenizer(model)
            else:
                found = self._loader(model)
            with self._lock:
                found = self._loaded.setdefault(model, found)
        return found

    def entry(self, model: str) -> ModelEntry | None:
        """The registry's entry for ``model`` (None for a model it does not know)."""
        if self._registry is None:
            from wafer_grammar.tokenize.registry import default_registry

            return default_registry().get(model)
        return self._registry.get(model)

    def __len__(self) -> int:
        with self._lock:
            return len(self._loaded)


_SHARED = TokenizerCache()


def shared_tokenizers() -> TokenizerCache:
    """The process's cache, used by clients and tasks unless they are given another."""
    return _SHARED
