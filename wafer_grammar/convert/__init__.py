"""Everyday inputs -> grammar ASTs: labels, Python regexes, JSON Schemas, pydantic models.

Each converter is exact or refuses: a constraint it cannot put into the
grammar raises (or, for JSON Schema with ``strict=False``, is listed in the
grammar's ``coverage`` report). Converters return ASTs (plus their metadata)
and import only :mod:`wafer_grammar.ebnf`; the :class:`~wafer_grammar.Grammar`
classmethods ``choice``, ``from_regex``, ``from_json_schema`` and
``from_model`` call down into them.
"""

from __future__ import annotations

from wafer_grammar.convert.choice import choice_ast
from wafer_grammar.convert.json_schema import json_schema_ast
from wafer_grammar.convert.pydantic import model_schema
from wafer_grammar.convert.regex import regex_ast
from wafer_grammar.convert.schema_coverage import Coverage, CoverageEntry

__all__ = [
    "Coverage",
    "CoverageEntry",
    "choice_ast",
    "json_schema_ast",
    "model_schema",
    "regex_ast",
]
