"""The tokenizer layer: model registry, tokenizer loading, chat prompts, budgets.

Importing this package is light: ``tokenizers``, ``transformers``, ``jinja2`` and
``gguf`` are imported inside the functions that need them.
"""

from wafer_grammar.tokenize.budget import check_budget
from wafer_grammar.tokenize.label_design import LabelReport, check_labels, max_tokens_for
from wafer_grammar.tokenize.loading import load_tokenizer
from wafer_grammar.tokenize.registry import (
    ModelEntry,
    Registry,
    default_registry,
    register_model,
)
from wafer_grammar.tokenize.tokenizer import Prompt, Tokenizer

__all__ = [
    "LabelReport",
    "ModelEntry",
    "Prompt",
    "Registry",
    "Tokenizer",
    "check_budget",
    "check_labels",
    "default_registry",
    "load_tokenizer",
    "max_tokens_for",
    "register_model",
]
