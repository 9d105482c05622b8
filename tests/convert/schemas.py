"""Schemas the converter tests share: together they use every supported keyword."""

from __future__ import annotations

from typing import Any

PERSON: dict[str, Any] = {
    "title": "Person",
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 12, "description": "full name"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "email": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "maxItems": 3},
        "nickname": {"type": "string", "nullable": True, "default": None},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}

NUMBERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "small": {"type": "integer", "minimum": -117, "maximum": 3},
        "big": {"type": "integer", "exclusiveMinimum": 99, "exclusiveMaximum": 1001},
        "ratio": {"type": "number", "exclusiveMinimum": 0.5, "maximum": 10.25},
        "neg": {"type": "number", "minimum": -2.5, "exclusiveMaximum": -0.1},
        "open": {"type": "number", "minimum": 1e3},
        "any": {"type": "number"},
        "whole": {"type": "integer"},
    },
    "required": ["small", "big", "ratio", "neg", "open", "any", "whole"],
    "additionalProperties": False,
}

VALUES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "e": {"enum": ["a", 1, None, True, [1, 2], {"k": "v"}, 'q"\\']},
        "c": {"const": "fixed"},
        "typed": {"type": "string", "enum": ["x", 2, "yy"], "maxLength": 1},
    },
    "required": ["e", "c"],
    "additionalProperties": False,
}

ARRAYS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]},
        "tuple_more": {
            "type": "array",
            "prefixItems": [{"type": "boolean"}],
            "items": {"type": "null"},
            "minItems": 2,
            "maxItems": 4,
        },
        "bounded": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 3},
        "anything": {"type": "array", "maxItems": 2},
    },
    "additionalProperties": False,
}

COMBINED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "either": {
            "anyOf": [{"type": "integer", "maximum": 5}, {"type": "string", "maxLength": 2}]
        },
        "pet": {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {
                        "kind": {"const": "cat"},
                        "lives": {"type": "integer", "minimum": 1, "maximum": 9},
                    },
                    "required": ["kind", "lives"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {"kind": {"const": "dog"}, "good": {"type": "boolean"}},
                    "required": ["kind"],
                    "additionalProperties": False,
                },
            ]
        },
        "both": {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                {"properties": {"b": {"type": "string", "maxLength": 3}}},
            ]
        },
        "maybe": {"type": ["string", "null"], "maxLength": 4},
    },
    "required": ["either", "pet"],
    "additionalProperties": False,
}

TREE: dict[str, Any] = {
    "$defs": {
        "node": {
            "type": "object",
            "properties": {
                "value": {"type": "integer", "minimum": 0, "maximum": 99},
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2},
            },
            "required": ["value"],
            "additionalProperties": False,
        }
    },
    "$ref": "#/$defs/node",
}

FORMATS: dict[str, Any] = {
    "type": "object",
    "properties": {
        name: {"type": "string", "format": name}
        for name in ["date", "time", "date-time", "uuid", "email", "uri", "ipv4", "ipv6"]
    },
    "additionalProperties": False,
}

PATTERNS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "pattern": "^[A-Z]{2,3}-[0-9]+"},
        "inside": {"type": "string", "pattern": "ab"},
        "word": {"type": "string", "pattern": "^[a-z]+", "minLength": 2, "maxLength": 8},
        "quoted": {"type": "string", "pattern": '^"[\\\\ a]*'},
    },
    "additionalProperties": False,
}

OPEN: dict[str, Any] = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "idx": {"type": "boolean"}},
    "required": ["id"],
    "additionalProperties": {"type": "integer", "maximum": 9},
}

MAP: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 3}}

STRINGS: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string", "minLength": 2, "maxLength": 4},
    "maxItems": 3,
}

UNTYPED: dict[str, Any] = {"minimum": 3, "maxLength": 2}

ALL = {
    "person": PERSON,
    "numbers": NUMBERS,
    "values": VALUES,
    "arrays": ARRAYS,
    "combined": COMBINED,
    "tree": TREE,
    "formats": FORMATS,
    "patterns": PATTERNS,
    "open": OPEN,
    "map": MAP,
    "strings": STRINGS,
    "untyped": UNTYPED,
}
