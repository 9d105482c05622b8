"""What each JSON Schema keyword is to the converter: enforced, annotation, or unsupported."""

from __future__ import annotations

#: Keywords that describe but never constrain: always "ignored", in strict mode too.
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "$schema",
        "$id",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentMediaType",
        "contentEncoding",
        "discriminator",  # OpenAPI: a hint; the oneOf branches themselves are enforced
        "$defs",
        "definitions",
        "$anchor",  # references to it are rewritten to JSON pointers before the walk
        "$dynamicAnchor",  # likewise; a $dynamicRef that could pick another one is refused
    }
)

#: The converter's own keyword: a number that is not an integer (the negation of
#: ``type: integer`` writes it; no JSON Schema keyword says that).
FRACTION = "$wafer-fraction"
#: The converter's own keyword: a string that is none of the listed ones (the negation
#: of a string ``enum`` writes it).
NOT_IN = "$wafer-notIn"

#: Keywords the grammar enforces (some only in some combinations: the converter says).
ENFORCED = frozenset(
    {
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "prefixItems",
        "additionalItems",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "anyOf",
        "oneOf",
        "allOf",
        "$ref",
        "nullable",
        "minProperties",
        "maxProperties",
        "contains",
        "minContains",
        "maxContains",
        "uniqueItems",
        "multipleOf",
        "patternProperties",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "unevaluatedProperties",
        "unevaluatedItems",
        FRACTION,
        NOT_IN,
    }
)

#: Real validation keywords this converter cannot put into a grammar: a validator
#: (``jsonschema``) checks them after decoding.
VALIDATION_ONLY = frozenset(
    {
        "dependencies",
        "$dynamicRef",
        "$recursiveRef",
        "$recursiveAnchor",
        "contentSchema",
    }
)

#: Keywords that only matter for one JSON type (a schema without ``type`` that
#: uses them still admits every other type).
TYPE_KEYWORDS = {
    "object": frozenset(
        {
            "properties",
            "required",
            "additionalProperties",
            "minProperties",
            "maxProperties",
            "patternProperties",
            "propertyNames",
        }
    ),
    "array": frozenset(
        {
            "items",
            "prefixItems",
            "additionalItems",
            "minItems",
            "maxItems",
            "contains",
            "minContains",
            "maxContains",
            "uniqueItems",
        }
    ),
    "string": frozenset({"minLength", "maxLength", "pattern", "format", NOT_IN}),
    "number": frozenset(
        {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", FRACTION}
    ),
}

JSON_TYPES = ("null", "boolean", "object", "array", "number", "string")
ALL_TYPES = frozenset({*JSON_TYPES, "integer"})


def escape_pointer(token: str) -> str:
    """One JSON pointer reference token (``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape_pointer(token: str) -> str:
    """The inverse of :func:`escape_pointer`."""
    return token.replace("~1", "/").replace("~0", "~")


def child(pointer: str, *tokens: str | int) -> str:
    """``pointer`` extended by ``tokens``."""
    return pointer + "".join("/" + escape_pointer(str(t)) for t in tokens)
