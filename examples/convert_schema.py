"""A JSON Schema becomes a grammar: print it, its coverage report, and check samples.

Run: .venv/bin/python examples/convert_schema.py
"""

from __future__ import annotations

import json

from wafer_grammar import Grammar

SCHEMA = {
    "title": "Invoice line",
    "type": "object",
    "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 500},
        "unit_price": {"type": "number", "exclusiveMinimum": 0, "maximum": 10000},
        "currency": {"enum": ["EUR", "USD", "GBP"]},
        "delivered": {"type": "string", "format": "date"},
        "note": {"type": ["string", "null"], "maxLength": 80},
    },
    "required": ["sku", "quantity", "unit_price", "currency"],
    "additionalProperties": False,
}

grammar = Grammar.from_json_schema(SCHEMA)
print(grammar.to_ebnf())

good = {"sku": "ABC-0042", "quantity": 3, "unit_price": 9.5, "currency": "EUR"}
bad = {"sku": "ABC-0042", "quantity": 501, "unit_price": 9.5, "currency": "EUR"}
for value in (good, bad):
    text = json.dumps(value, separators=(",", ":"))
    print(f"{text}: {'accepted' if grammar.accepts(text) else 'rejected'}")

# Pretty layout: json.dumps(v, indent=2) shape, indentation bounded to 32 spaces.
pretty = Grammar.from_json_schema(SCHEMA, whitespace="pretty")
print("pretty:", pretty.accepts(json.dumps(good, indent=2)))

# A keyword the grammar cannot enforce: strict mode names it, lenient mode reports it.
loose = dict(
    SCHEMA, properties={**SCHEMA["properties"], "quantity": {"type": "integer", "multipleOf": 6}}
)
try:
    Grammar.from_json_schema(loose)
except ValueError as exc:
    print("strict:", exc)
lenient = Grammar.from_json_schema(loose, strict=False)
assert lenient.coverage is not None
print(lenient.coverage)
