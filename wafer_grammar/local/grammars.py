"""Grammar compilation for the engine: our checker first, then XGrammar, cached by text.

A grammar is checked with :meth:`Grammar.from_ebnf` before XGrammar sees it, so
a bad grammar is refused with every diagnostic (line, column, caret) rather than
XGrammar's first message. The two agree on validity by design; if XGrammar still
refuses a grammar our checker passed, its own message is reported.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

from wafer_grammar.errors import GrammarError, InvalidRequest
from wafer_grammar.grammar import Grammar
from wafer_grammar.tokenize.tokenizer import Tokenizer

_LOG_PREFIX = re.compile(r"^\[[^\]]*\] \S+:\d+: ")


def tokenizer_info(tokenizer: Tokenizer, vocab_size: int, stop_token_ids: tuple[int, ...]) -> Any:
    """XGrammar's view of the vocabulary.

    Control tokens (``<|im_start|>``...) are given as empty strings, which XGrammar
    treats as special: the mask never allows them. Given as their text, a grammar
    admitting ``<`` and ``|`` would let the model emit a control token whose text
    then vanishes from the decoded output.
    """
    import xgrammar as xgr

    controls = set(tokenizer.control_tokens().values())
    vocab = ["" if i in controls else (tokenizer.id_to_token(i) or "") for i in range(vocab_size)]
    return xgr.TokenizerInfo(
        vocab,
        xgr.VocabType.BYTE_LEVEL,
        vocab_size=vocab_size,
        stop_token_ids=list(stop_token_ids),
        add_prefix_space=False,
    )


class GrammarCache:
    """Compiled grammars keyed by their exact EBNF text; thread-safe, LRU-bounded."""

    def __init__(self, info: Any, *, size: int = 256) -> None:
        import xgrammar as xgr

        self._compiler = xgr.GrammarCompiler(info, max_threads=1, cache_enabled=False)
        self._size = size
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, ebnf: str) -> Any:
        """The compiled grammar of ``ebnf``.

        Raises
        ------
        GrammarError
            The grammar is invalid (``.diagnostics`` has line and column).
        InvalidRequest
            Our checker passed it but XGrammar refused it (``code="invalid_grammar"``).
        """
        with self._lock:
            found = self._entries.get(ebnf)
            if found is not None:
                self._entries.move_to_end(ebnf)
                self.hits += 1
                return found
        # Compile outside the lock: a slow grammar must not hold up cached ones.
        compiled = self._compile(ebnf)
        with self._lock:
            self.misses += 1
            self._entries[ebnf] = compiled
            self._entries.move_to_end(ebnf)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return compiled

    def _compile(self, ebnf: str) -> Any:
        Grammar.from_ebnf(ebnf)  # raises GrammarError with every diagnostic
        try:
            return self._compiler.compile_grammar(ebnf)
        except (RuntimeError, ValueError) as exc:
            message = _LOG_PREFIX.sub("", str(exc).strip().splitlines()[0])
            raise InvalidRequest(
                f"XGrammar refused the grammar: {message}", param="ebnf", code="invalid_grammar"
            ) from exc


__all__ = ["GrammarCache", "GrammarError", "tokenizer_info"]
