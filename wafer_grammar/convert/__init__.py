"""Everyday inputs -> grammars: labels, Python regexes, JSON Schemas, pydantic models.

Each converter is exact or refuses: a constraint it cannot put into the
grammar raises (or, for JSON Schema with ``strict=False``, is listed in the
grammar's ``coverage`` report). The :class:`~wafer_grammar.Grammar`
classmethods ``choice``, ``from_regex``, ``from_json_schema`` and
``from_model`` call these.
"""

from __future__ import annotations

from wafer_grammar.convert.choice import LabelGrammar, choice_grammar
from wafer_grammar.convert.coverage import Coverage, CoverageEntry
from wafer_grammar.convert.json_schema import json_schema_grammar
from wafer_grammar.convert.pydantic import model_grammar
from wafer_grammar.convert.regex import regex_grammar

__all__ = [
    "Coverage",
    "CoverageEntry",
    "LabelGrammar",
    "choice_grammar",
    "json_schema_grammar",
    "model_grammar",
    "regex_grammar",
]
