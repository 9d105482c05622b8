"""Structured extraction: a JSON Schema or pydantic model in, a validated value out.

schema -> grammar -> constrained completion -> ``decode`` (grammar, JSON, schema,
model layers). A truncated answer is retried once with a larger budget, since
a grammar-constrained output that ran out of tokens is usually just long; a
second truncation is reported as :class:`TruncatedOutput`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wafer_grammar.errors import TruncatedOutput
from wafer_grammar.tasks.classification import sum_costs, sum_usage, tokenizer_for, usage_dict
from wafer_grammar.tasks.steps import Complete, Steps, price_all

if TYPE_CHECKING:
    from wafer_grammar.client.types import Completion
    from wafer_grammar.decoding.cost import Cost
    from wafer_grammar.grammar import Grammar
    from wafer_grammar.tokenize.tokenizer import Tokenizer

DEFAULT_INSTRUCTIONS = "Extract the information in the text as JSON that follows this schema."
DEFAULT_MAX_TOKENS = 256
RETRY_FACTOR = 4
"""The retry after a truncation gets ``RETRY_FACTOR`` times the first budget."""


@dataclass(frozen=True)
class Target:
    """What to extract: the schema shown to the model, its grammar, how to decode."""

    schema: dict[str, Any]
    grammar: Grammar
    model: Any = None
    """The pydantic model class, when one was given."""


def target_of(schema_or_model: Any) -> Target:
    """A :class:`Target` from a JSON Schema dict or a pydantic model class."""
    from wafer_grammar.grammar import Grammar

    if isinstance(schema_or_model, type) and hasattr(schema_or_model, "model_json_schema"):
        schema = schema_or_model.model_json_schema()
        return Target(schema, Grammar.from_model(schema_or_model), schema_or_model)
    if isinstance(schema_or_model, Mapping):
        schema = dict(schema_or_model)
        return Target(schema, Grammar.from_json_schema(schema))
    raise TypeError(
        "extract() needs a JSON Schema (a dict) or a pydantic model class, not "
        f"{type(schema_or_model).__name__}"
    )


def prompt_ids(
    text: str, target: Target, tokenizer: Tokenizer, instructions: str | None = None
) -> list[int]:
    """Schema first, text last: every text of a batch shares the prompt prefix."""
    if not isinstance(text, str):
        raise TypeError(f"the text to extract from must be a str, not {type(text).__name__}")
    schema = json.dumps(target.schema, separators=(",", ":"), ensure_ascii=False)
    system = f"{instructions or DEFAULT_INSTRUCTIONS}\nSchema: {schema}"
    messages = [{"role": "system", "content": system}, {"role": "user", "content": text}]
    return tokenizer.encode_chat(messages, thinking=False).ids


def extraction_options(target: Target, max_tokens: int) -> dict[str, Any]:
    """The completion's options: the target's grammar, greedy, ``max_tokens``."""
    return {"grammar": target.grammar, "max_tokens": max_tokens, "temperature": 0}


def _decode(answer: Completion, target: Target) -> Any:
    """The answer's value, validated by every layer (grammar, JSON, schema or model)."""
    from wafer_grammar.decoding import decode

    if target.model is not None:
        return decode(answer, target.grammar, model=target.model)
    return decode(answer, target.grammar, schema=target.schema)


@dataclass(frozen=True)
class Extraction:
    """An extracted value with what it took (batch records these)."""

    value: Any
    answers: tuple[Completion, ...]
    costs: tuple[Cost | None, ...]

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        if hasattr(value, "model_dump"):
            value = value.model_dump(mode="json")
        usages = [a.usage for a in self.answers]
        cost = sum_costs(self.costs)
        return {
            "value": value,
            "usage": usage_dict(sum_usage(usages)),
            "cost_cents": cost.total_cents if cost is not None else None,
        }


def _check_budget(max_tokens: int) -> None:
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise ValueError(f"max_tokens must be a positive integer, not {max_tokens!r}")


def budgets(max_tokens: int) -> tuple[int, int]:
    """The first budget and the retry's after a truncation."""
    return max_tokens, max_tokens * RETRY_FACTOR


#: What :func:`decode_attempt` gives for a truncated answer that gets a retry.
RETRY = object()


def decode_attempt(answers: Sequence[Completion], target: Target) -> Any:
    """The last answer's value, or :data:`RETRY` when it was truncated and a budget is left.

    Raises:
        TruncatedOutput: the answer to the last budget was truncated too.
    """
    try:
        return _decode(answers[-1], target)
    except TruncatedOutput:
        if len(answers) == len(budgets(1)):
            raise
        return RETRY


def extraction_request(
    text: str,
    schema_or_model: Any,
    *,
    model: str,
    instructions: str | None,
    max_tokens: int,
) -> tuple[Target, list[int]]:
    """The target (a :class:`Target` passes through) and the prompt, arguments checked."""
    _check_budget(max_tokens)
    target = schema_or_model if isinstance(schema_or_model, Target) else target_of(schema_or_model)
    return target, prompt_ids(text, target, tokenizer_for(model), instructions)


def extraction_steps(
    text: str,
    schema_or_model: Any,
    *,
    model: str,
    instructions: str | None,
    max_tokens: int,
) -> Steps[Extraction]:
    """The extraction, as steps (see :mod:`wafer_grammar.tasks.steps`).

    ``schema_or_model`` may be a :class:`Target` already built (a batch builds its
    schema's grammar once per run, not per input).
    """
    target, ids = extraction_request(
        text, schema_or_model, model=model, instructions=instructions, max_tokens=max_tokens
    )
    answers: list[Completion] = []
    for budget in budgets(max_tokens):
        answers.append((yield Complete(model, ids, extraction_options(target, budget))))
        value = decode_attempt(answers, target)
        if value is RETRY:
            continue
        costs = yield from price_all(answers)
        return Extraction(value, tuple(answers), tuple(costs))
    raise AssertionError("unreachable: the second truncation is raised above")
