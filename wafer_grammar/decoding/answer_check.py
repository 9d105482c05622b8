"""``decode``: a completion -> a validated, typed value, checked layer by layer.

Layers, in order, each with its own error (``.layer`` names it):
finish (``TruncatedOutput``), grammar (``ConstraintViolation``), json
(``OutputNotJSON``), schema (``SchemaViolation``), model (``ModelValidationFailed``).
Pure: no I/O; ``jsonschema`` and ``pydantic`` are imported only when asked for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wafer_grammar.client.types import ChatChoice, ChatCompletion, Completion, CompletionChoice
from wafer_grammar.errors import (
    ConstraintViolation,
    ModelValidationFailed,
    OutputMismatch,
    OutputNotJSON,
    SchemaViolation,
    TextUnjudgeable,
    TruncatedOutput,
)

if TYPE_CHECKING:
    from wafer_grammar.grammar import Grammar

Answer = Completion | ChatCompletion | CompletionChoice | ChatChoice | str


def choice_of(answer: Answer, choice: int = 0) -> tuple[str, str | None]:
    """``(text, finish_reason)`` of one choice (a bare string has no finish reason)."""
    if isinstance(answer, str):
        return answer, None
    if isinstance(answer, (Completion, ChatCompletion)):
        if not 0 <= choice < len(answer.choices):
            raise IndexError(
                f"choice {choice} is out of range: the answer has {len(answer.choices)} choice(s)"
            )
        picked: CompletionChoice | ChatChoice = answer.choices[choice]
    else:
        picked = answer
    if isinstance(picked, ChatChoice):
        # reasoning_content is already split off (inline <think> too): judge the answer only
        return picked.message.content or "", picked.finish_reason
    return picked.text, picked.finish_reason


def as_grammar(grammar: Grammar | str | None) -> Grammar | None:
    if grammar is None or not isinstance(grammar, str):
        return grammar
    from wafer_grammar.grammar import Grammar

    return Grammar.from_ebnf(grammar)


def decode(
    completion: Answer,
    grammar: Grammar | str | None = None,
    *,
    model: Any = None,
    schema: Mapping[str, Any] | bool | None = None,
    choice: int = 0,
    as_json: bool | None = None,
) -> Any:
    """The value of one choice of ``completion``, checked against what was asked.

    Parameters:
        completion: a Completion, ChatCompletion, one of their choices, or text.
        grammar: the grammar the request was constrained by (Grammar or EBNF text).
        model: a pydantic model class (or any type pydantic's ``TypeAdapter``
            takes): the result is built into it.
        schema: a JSON Schema the value must satisfy (checked with ``jsonschema``).
        choice: which choice to decode.
        as_json: parse the text as JSON; default: when ``model`` or ``schema`` is
            given, or ``grammar`` came from a JSON Schema or model.

    Returns:
        The model instance, else the parsed JSON value, else the text.

    Raises:
        TruncatedOutput: ``finish_reason == "length"`` (``.viable_prefix`` says
            whether more tokens could still have finished it).
        ConstraintViolation: the text is outside ``grammar`` (where, with a caret).
        OutputNotJSON, SchemaViolation, ModelValidationFailed: later layers.
    """
    text, finish = choice_of(completion, choice)
    parsed = as_grammar(grammar)
    if finish == "length":
        raise TruncatedOutput(text=text, viable_prefix=_viable(parsed, text))
    if parsed is not None:
        _check_grammar(parsed, text)
    if as_json is None:
        as_json = (
            model is not None
            or schema is not None
            or (getattr(parsed, "coverage", None) is not None)
        )
    if not as_json:
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputNotJSON(text=text, reason=exc.msg, offset=exc.pos) from exc
    if schema is not None:
        _check_schema(schema, value, text)
    if model is not None:
        return _build(model, value, text)
    return value


def _viable(grammar: Grammar | None, text: str) -> bool | None:
    if grammar is None:
        return None
    try:
        return grammar.is_prefix(text)
    except TextUnjudgeable:
        return None


def _check_grammar(grammar: Grammar, text: str) -> None:
    try:
        if grammar.accepts(text):
            return
        grammar.parse(text)  # slower, but says where and what was expected
    except TextUnjudgeable:
        return  # token-level macros: only the server's engine can judge this text
    except OutputMismatch as mismatch:
        raise ConstraintViolation(mismatch) from None
    # accepts() said no but parse() found a tree: trust the exact parser's verdict.


def _check_schema(schema: Mapping[str, Any] | bool, value: Any, text: str) -> None:
    try:
        from jsonschema.validators import (  # type: ignore[import-untyped,unused-ignore]
            validator_for,
        )
    except ImportError as exc:  # pragma: no cover - jsonschema is in the convert extra
        raise ModuleNotFoundError(
            "decode(schema=...) needs jsonschema: pip install 'wafer-grammar[convert]'"
        ) from exc
    cls = validator_for(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    found = sorted(validator.iter_errors(value), key=lambda e: (list(e.absolute_path), e.message))
    if found:
        errors = [(_pointer(e.absolute_path), e.message) for e in found]
        raise SchemaViolation(text=text, errors=errors)


def _pointer(path: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _build(model: Any, value: Any, text: str) -> Any:
    from pydantic import TypeAdapter, ValidationError

    name = getattr(model, "__name__", repr(model))
    try:
        validate = getattr(model, "model_validate", None)
        if callable(validate):
            return validate(value)
        return TypeAdapter(model).validate_python(value)
    except ValidationError as exc:
        errors = [
            {k: v for k, v in error.items() if k in ("type", "loc", "msg")}
            for error in exc.errors()
        ]
        raise ModelValidationFailed(text=text, model_name=name, errors=errors) from None
