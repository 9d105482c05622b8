"""wafer-grammar: grammar-constrained, token-level work against Wafer's LLM API."""

from wafer_grammar.ebnf.build import GrammarBuilder
from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.ebnf.grammar import Grammar
from wafer_grammar.errors import (
    ChatTemplateMissing,
    ContextLengthExceeded,
    GrammarError,
    GrammarSyntaxError,
    LanguageNotFinite,
    OutputMismatch,
    RegistryError,
    TextUnjudgeable,
    ThinkingUnsupported,
    TokenizerError,
    TokenizerNotFound,
    WaferGrammarError,
)
from wafer_grammar.tokenize import (
    LabelReport,
    ModelEntry,
    Prompt,
    Registry,
    Tokenizer,
    check_budget,
    check_labels,
    default_registry,
    load_tokenizer,
    max_tokens_for,
    register_model,
)

__all__ = [
    "ChatTemplateMissing",
    "ContextLengthExceeded",
    "Diagnostic",
    "Grammar",
    "GrammarBuilder",
    "GrammarError",
    "GrammarSyntaxError",
    "LabelReport",
    "LanguageNotFinite",
    "ModelEntry",
    "OutputMismatch",
    "Prompt",
    "Registry",
    "RegistryError",
    "TextUnjudgeable",
    "ThinkingUnsupported",
    "Tokenizer",
    "TokenizerError",
    "TokenizerNotFound",
    "WaferGrammarError",
    "check_budget",
    "check_labels",
    "default_registry",
    "load_tokenizer",
    "max_tokens_for",
    "register_model",
]
