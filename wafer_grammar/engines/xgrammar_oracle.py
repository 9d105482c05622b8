"""Ask XGrammar itself — the engine Wafer's server runs — for verdicts on a grammar.

Optional: needs ``xgrammar`` installed (``make venv`` installs 0.2.8 without its
triton dependency; importing it pulls torch, so nothing imports this module at
package import time). Used by tests and ``--engine xgrammar`` to check that our
grammar layer agrees with the server's engine.
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from typing import Any

from wafer_grammar.errors import WaferGrammarError

_LOG_PREFIX = re.compile(r"^\[[^\]]*\] \S+:\d+: ")


class XGrammarUnavailable(WaferGrammarError, RuntimeError):
    """``xgrammar`` is not installed in this environment."""


def xgrammar_available() -> bool:
    """Whether ``xgrammar`` can be imported (without importing it)."""
    return importlib.util.find_spec("xgrammar") is not None


@lru_cache(maxsize=1)
def _compiler() -> Any:
    if not xgrammar_available():
        raise XGrammarUnavailable(
            "xgrammar is not installed: run `make venv`, or "
            "`pip install --no-deps xgrammar==0.2.8 apache-tvm-ffi` next to torch"
        )
    import xgrammar as xgr

    # An empty vocabulary: the matcher then judges strings, not tokens.
    return xgr.GrammarCompiler(xgr.TokenizerInfo([]), cache_enabled=False)


def xgrammar_error(ebnf: str, *, root: str = "root") -> str | None:
    """XGrammar's message when it refuses ``ebnf``; None when it compiles."""
    import xgrammar as xgr

    _compiler()
    try:
        xgr.Grammar.from_ebnf(ebnf, root_rule_name=root)
    except (RuntimeError, ValueError) as exc:
        # Drop XGrammar's log prefix: "[12:00:00] /project/cpp/grammar_parser.cc:106: ".
        return _LOG_PREFIX.sub("", str(exc).strip().splitlines()[0])
    return None


def xgrammar_compile_error(ebnf: str, *, root: str = "root") -> str | None:
    """XGrammar's message when its parser *or its compiler* refuses ``ebnf``; None when usable.

    Token IDs are judged against a real vocabulary on the server; with the empty
    one used here every ID is out of range, so that one compiler error is ignored.
    """
    import xgrammar as xgr

    error = xgrammar_error(ebnf, root=root)
    if error is not None:
        return error
    try:
        _compiler().compile_grammar(xgr.Grammar.from_ebnf(ebnf, root_rule_name=root))
    except (RuntimeError, ValueError) as exc:
        message = _LOG_PREFIX.sub("", str(exc).strip().splitlines()[0])
        return None if "out of the vocabulary range" in message else message
    return None


class XGrammarMatcher:
    """A compiled grammar that answers ``accepts(text)`` the way the server would."""

    def __init__(self, ebnf: str, *, root: str = "root") -> None:
        import xgrammar as xgr

        self._xgr = xgr
        grammar = xgr.Grammar.from_ebnf(ebnf, root_rule_name=root)
        self._compiled = _compiler().compile_grammar(grammar)

    def accepts(self, text: str) -> bool:
        """Whether ``text`` is a complete output of the root rule."""
        matcher = self._xgr.GrammarMatcher(self._compiled, terminate_without_stop_token=True)
        return bool(matcher.accept_string(text)) and bool(matcher.is_terminated())

    def is_prefix(self, text: str) -> bool:
        """Whether XGrammar would let a model emit ``text`` (and possibly more)."""
        matcher = self._xgr.GrammarMatcher(self._compiled, terminate_without_stop_token=True)
        return bool(matcher.accept_string(text))
