"""A pydantic model -> its JSON Schema, for :meth:`Grammar.from_model`."""

from __future__ import annotations

from typing import Any


def model_schema(model: Any) -> dict[str, Any]:
    """``model.model_json_schema()`` (or a ``TypeAdapter``'s ``json_schema()``).

    Raises:
        TypeError: ``model`` has no ``model_json_schema()`` (pydantic v1 models, instances).
    """
    method = getattr(model, "model_json_schema", None) or getattr(model, "json_schema", None)
    if not callable(method) or not (isinstance(model, type) or hasattr(model, "json_schema")):
        raise TypeError(
            f"expected a pydantic v2 model class or TypeAdapter, not {model!r}: "
            "pass the class itself (Grammar.from_model(MyModel))"
        )
    schema: dict[str, Any] = method()
    return schema
