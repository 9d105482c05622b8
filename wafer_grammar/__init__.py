"""wafer-grammar: grammar-constrained, token-level work against Wafer's LLM API."""

from wafer_grammar.errors import (
    GrammarError,
    GrammarSyntaxError,
    OutputMismatch,
    WaferGrammarError,
)

__all__ = [
    "GrammarError",
    "GrammarSyntaxError",
    "OutputMismatch",
    "WaferGrammarError",
]
