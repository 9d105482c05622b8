"""A pydantic model -> grammar, through ``model_json_schema()``."""

from __future__ import annotations

from typing import Any

from wafer_grammar.convert.json_schema import json_schema_grammar
from wafer_grammar.ebnf.grammar import Grammar


def model_grammar(model: Any, *, strict: bool = True, whitespace: str = "compact") -> Grammar:
    """The grammar of ``model.model_json_schema()`` (see :func:`json_schema_grammar`).

    ``model`` is a pydantic v2 ``BaseModel`` subclass (or anything with
    ``model_json_schema()``, such as a ``TypeAdapter``).

    Raises:
        TypeError: ``model`` has no ``model_json_schema()`` (pydantic v1 models, instances).
        UnsupportedSchema: as :func:`json_schema_grammar`.
    """
    method = getattr(model, "model_json_schema", None) or getattr(model, "json_schema", None)
    if not callable(method) or not (isinstance(model, type) or hasattr(model, "json_schema")):
        raise TypeError(
            f"expected a pydantic v2 model class or TypeAdapter, not {model!r}: "
            "pass the class itself (Grammar.from_model(MyModel))"
        )
    return json_schema_grammar(method(), strict=strict, whitespace=whitespace)
