"""Helpers shared by the converter tests: mutations, serialisation in the grammars' style."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

MUTATION_CHARS = list('{}[],:"\\ 0123456789-.eE+tfnaul\t\n\x00\x1fAZaz_@/#%é😀')


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """``base`` with one to three single-character edits: near misses."""
    text = draw(base)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "swap"]))
        ch = draw(st.sampled_from(MUTATION_CHARS) | st.characters())
        if op == "insert":
            text = text[:at] + ch + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + 1 :]
        elif op == "replace":
            text = text[:at] + ch + text[at + 1 :]
        elif at + 1 < len(text):
            text = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    return text


def _number(value: float | int) -> str:
    if isinstance(value, (bool, int)):
        return json.dumps(value)
    text = format(Decimal(repr(value)), "f")  # positional: the grammars write no exponents
    if "." not in text:
        text += ".0"
    return text


def dumps(value: Any, style: str = "compact", indent: int = 0) -> str:
    """``value`` as the converted grammars write it (positional numbers, raw non-ASCII)."""
    if isinstance(value, float):  # integral values as integers: "integer" admits 0.0 too
        return str(int(value)) if value.is_integer() else _number(value)
    if isinstance(value, dict):
        colon = ": " if style == "pretty" else ":"
        items = [
            f"{json.dumps(k, ensure_ascii=False)}{colon}{dumps(v, style, indent + 2)}"
            for k, v in value.items()
        ]
        return _wrap("{", items, "}", style, indent)
    if isinstance(value, list):
        items = [dumps(v, style, indent + 2) for v in value]
        return _wrap("[", items, "]", style, indent)
    return json.dumps(value, ensure_ascii=False)


def _wrap(open_: str, items: list[str], close: str, style: str, indent: int) -> str:
    if not items:
        return open_ + close
    if style == "compact":
        return open_ + ",".join(items) + close
    pad = "\n" + " " * (indent + 2)
    return open_ + pad + ("," + pad).join(items) + "\n" + " " * indent + close


class _CompatMany:
    """``many(...).more()`` as hypothesis-jsonschema 0.23 calls it, over today's ``with``/``for`` API."""

    def __init__(self, data: Any, **kwargs: Any) -> None:
        from hypothesis.internal.conjecture.utils import many

        self._many = many(data, **kwargs)
        self._many.__enter__()
        self._steps = iter(self._many)

    def more(self) -> bool:
        try:
            next(self._steps)
        except StopIteration:
            self._many.__exit__(None)
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


def patch_hypothesis_jsonschema() -> None:
    """hypothesis-jsonschema's object strategy uses a hypothesis internal that changed shape."""
    import types

    from hypothesis.internal.conjecture import utils
    from hypothesis_jsonschema import _from_schema

    if hasattr(utils.many, "more"):
        return
    shim = types.SimpleNamespace(
        **{k: getattr(utils, k) for k in dir(utils) if not k.startswith("__")}
    )
    shim.many = _CompatMany
    _from_schema.cu = shim  # type: ignore[attr-defined]
