"""The keyword options of ``completions`` / ``chat`` and their streaming twins, declared once.

Four methods on two clients take the same keywords; declaring them once as
TypedDicts (``**options: Unpack[CompletionOptions]``) keeps the eight
signatures from drifting apart, and still gives editors and mypy every name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

from wafer_grammar.client.config import Timeouts
from wafer_grammar.client.request_body import SAMPLING_FIELDS, Sampling

if TYPE_CHECKING:
    from wafer_grammar.grammar import Grammar


class CompletionOptions(TypedDict, total=False):
    """Keywords of ``completions`` and ``stream_completions`` (all optional)."""

    grammar: Grammar | str | None
    """A Grammar (sent as its canonical ``to_ebnf()`` text) or EBNF text, sent as ``ebnf``."""
    max_tokens: int | None
    min_tokens: int | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    min_p: float | None
    frequency_penalty: float | None
    presence_penalty: float | None
    repetition_penalty: float | None
    stop: str | Sequence[str] | None
    stop_token_ids: Sequence[int] | None
    seed: int | None
    n: int | None
    logprobs: bool | None
    top_logprobs: int | None
    logit_bias: Mapping[int, float] | None
    zdr: bool | None
    """Send ``Wafer-ZDR: required`` (None: the client's setting)."""
    timeout: Timeouts | float | None
    """This call's timeouts (None: the client's)."""
    extra_body: Mapping[str, Any] | None
    """Extra JSON fields, sent as given (for parameters this version does not know)."""


class ChatOptions(CompletionOptions, total=False):
    """Keywords of ``chat`` and ``stream_chat``: the completion ones plus chat's own."""

    thinking: bool | Mapping[str, Any] | None
    """Reasoning on or off: sent as ``thinking: {"type": "enabled" | "disabled"}``."""
    keep_thinking: bool | None
    """Carry earlier turns' reasoning into the prompt (Kimi-K2.6, GLM-5.1)."""
    reasoning_effort: str | None
    """``none``, ``low``, ``medium``, ``high`` or ``max`` (checked before sending)."""
    enable_thinking: bool | None
    preserve_thinking: bool | None
    """``keep_thinking`` under its Wafer field name."""
    tools: Sequence[Mapping[str, Any]] | None
    tool_choice: str | Mapping[str, Any] | None
    parallel_tool_calls: bool | None
    """Allow several ``tool_calls`` in one answer."""
    response_format: Any
    """A dict as OpenAI defines it, or a pydantic model class (sent as its JSON Schema)."""


class MessagesOptions(TypedDict, total=False):
    """Keywords of ``messages`` and ``stream_messages`` (Anthropic's Messages API)."""

    system: str | Sequence[Mapping[str, Any]] | None
    """The system prompt: a string or a list of text blocks."""
    stop_sequences: Sequence[str] | None
    temperature: float | None
    """0 to 1 (Anthropic's range)."""
    top_p: float | None
    top_k: int | None
    thinking: bool | Mapping[str, Any] | None
    """False (sent as ``{"type": "disabled"}``) or Anthropic's object as given."""
    zdr: bool | None
    timeout: Timeouts | float | None
    extra_body: Mapping[str, Any] | None


COMPLETION_KEYS = frozenset(CompletionOptions.__annotations__)
MESSAGES_KEYS = frozenset(MessagesOptions.__annotations__)
CHAT_KEYS = frozenset(ChatOptions.__annotations__) | COMPLETION_KEYS


def split(
    method: str, options: Mapping[str, Any], allowed: frozenset[str]
) -> tuple[Sampling, dict[str, Any]]:
    """``options`` as the Sampling part and the rest; unknown names are a TypeError,
    as they would be for an ordinary keyword argument."""
    for name in options:
        if name not in allowed:
            raise TypeError(f"{method}() got an unexpected keyword argument {name!r}")
    sampling = Sampling(**{k: v for k, v in options.items() if k in SAMPLING_FIELDS})
    rest = {k: v for k, v in options.items() if k not in SAMPLING_FIELDS}
    return sampling, rest
