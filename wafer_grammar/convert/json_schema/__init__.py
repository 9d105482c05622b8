"""JSON Schema -> grammar AST and coverage report; see :func:`json_schema_ast`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from wafer_grammar.convert.json_schema.converter import SchemaConverter
from wafer_grammar.convert.json_schema.refs import rewrite_refs
from wafer_grammar.convert.schema_coverage import Coverage
from wafer_grammar.ebnf.analysis import productive_rules
from wafer_grammar.ebnf.syntax import GrammarAST, Rule
from wafer_grammar.errors import UnsupportedSchema


def json_schema_ast(
    schema: Mapping[str, Any] | bool | str,
    *,
    strict: bool = True,
    whitespace: str = "compact",
    closed: bool = True,
) -> tuple[GrammarAST, Coverage]:
    """The AST of a grammar whose every output ``json.loads`` and validates against ``schema``.

    :meth:`Grammar.from_json_schema <wafer_grammar.grammar.Grammar.from_json_schema>`
    wraps the result and documents the parameters and errors (this function takes the
    same ones).

    Returns:
        The grammar's AST and its :class:`Coverage` report.
    """
    if isinstance(schema, str):
        schema = json.loads(schema)
    if isinstance(schema, Mapping):
        schema = rewrite_refs(dict(schema))
    converter = SchemaConverter(schema, strict=strict, whitespace=whitespace, closed=closed)
    body = converter.convert(schema, "", rule="root")
    if body is None:
        if converter.first_empty is not None:
            keyword, pointer, reason = converter.first_empty
            raise UnsupportedSchema(
                keyword,
                pointer,
                f"{reason}, so the schema admits no value: nothing to generate",
                lax_helps=False,
            )
        raise UnsupportedSchema(
            "type", "", "admits no value: there is nothing to generate", lax_helps=False
        )
    converter.bodies["root"] = body
    empty = [name for name, b in converter.bodies.items() if b is None]
    if empty:  # pragma: no cover - every rule is defined once its body is known
        raise AssertionError(f"rules without a body: {empty}")
    rules = [
        Rule(name, b, options=converter.options.get(name, ()))
        for name, b in converter.bodies.items()
        if b is not None
    ]
    rules += converter.library.rules_for(rules)
    ast = GrammarAST(tuple(rules), "root")
    if "root" not in productive_rules(ast):  # only cycles (``root ::= root``): no value
        raise UnsupportedSchema(
            "$ref", "", "admits no value: its references only loop", lax_helps=False
        )
    return ast, converter.coverage


__all__ = ["json_schema_ast"]
