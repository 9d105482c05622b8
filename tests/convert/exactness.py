"""A referee for single constructions: what a grammar accepts is valid, and members validate."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from suite_support import canonical

from wafer_grammar import Grammar
from wafer_grammar.testing.generate import Bounds
from wafer_grammar.testing.strategies import sample_members


def check(schema: Any, instances: list[Any], **kwargs: Any) -> Grammar:
    """``schema``'s grammar accepts exactly the valid ``instances``; its members validate.

    Returns the grammar for further checks.
    """
    grammar = Grammar.from_json_schema(schema, **kwargs)
    validator = jsonschema.Draft202012Validator(schema)
    for value in instances:
        valid = validator.is_valid(value)
        assert grammar.accepts(canonical(value)) is valid, (canonical(value), valid)
    for tree in sample_members(grammar, 30, seed=7, bounds=Bounds(max_size=300)):
        member = json.loads(tree.flatten())
        assert validator.is_valid(member), tree.flatten()
    return grammar
