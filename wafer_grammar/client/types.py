"""What the API returns, typed: model cards, completions (OpenAI shape), stream chunks.

Plain frozen dataclasses; :mod:`wafer_grammar.client.parse` builds them from JSON
and is the only place that knows the wire shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "abort"]


# -- /v1/models ----------------------------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    """``wafer.capabilities``: branch on these rather than on model names."""

    vision: bool = False
    tools: bool = False
    reasoning: bool = False


@dataclass(frozen=True)
class Pricing:
    """``wafer.pricing``: what Wafer bills, in US cents per million tokens."""

    input_cents_per_million: float
    output_cents_per_million: float
    cache_read_cents_per_million: float | None = None
    """Prompt tokens served from the prefix cache; None: billed as ordinary input."""


@dataclass(frozen=True)
class ModelCard:
    """One ``/v1/models`` entry: the stable OpenAI fields plus Wafer's."""

    id: str
    """The model ID to send (case-sensitive)."""
    object: str = "model"
    created: int | None = None
    owned_by: str | None = None
    max_model_len: int | None = None
    """Hard cap on prompt plus output tokens."""
    zdr_supported: bool = False
    """Whether the model accepts ``Wafer-ZDR: required``."""
    display_name: str | None = None
    description: str | None = None
    tier: str | None = None
    """``pass_included`` or a pay-as-you-go tier."""
    context_length: int | None = None
    capabilities: Capabilities = field(default_factory=Capabilities)
    pricing: Pricing | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The card as received, for fields this version does not know."""


# -- logprobs and usage ------------------------------------------------------------


@dataclass(frozen=True)
class TopLogprob:
    """One alternative at a position: its token text and log-probability."""

    token: str
    logprob: float
    bytes: tuple[int, ...] | None = None


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token, its log-probability and the most likely alternatives."""

    token: str
    logprob: float
    top: tuple[TopLogprob, ...] = ()
    bytes: tuple[int, ...] | None = None
    offset: int | None = None
    """Where the token's text starts in the choice's text (completions only)."""


@dataclass(frozen=True)
class Logprobs:
    """Per-token log-probabilities of one choice (completions and chat, one shape).

    The OpenAI completions views (``tokens``, ``token_logprobs``,
    ``top_logprobs``, ``text_offset``) are properties over ``content``.
    """

    content: tuple[TokenLogprob, ...] = ()

    @property
    def tokens(self) -> list[str]:
        return [t.token for t in self.content]

    @property
    def token_logprobs(self) -> list[float]:
        return [t.logprob for t in self.content]

    @property
    def top_logprobs(self) -> list[dict[str, float]]:
        return [{alt.token: alt.logprob for alt in t.top} for t in self.content]

    @property
    def text_offset(self) -> list[int | None]:
        return [t.offset for t in self.content]

    def __add__(self, other: Logprobs) -> Logprobs:
        return Logprobs(self.content + other.content)


@dataclass(frozen=True)
class Usage:
    """Token counts billed for one request (all ``n`` choices together)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int = 0
    """Prompt tokens read from the prefix cache (``prompt_tokens_details.cached_tokens``)."""
    reasoning_tokens: int | None = None
    """Completion tokens spent reasoning, when the server reports it."""


# -- completions -------------------------------------------------------------------


@dataclass(frozen=True)
class CompletionChoice:
    index: int
    text: str
    finish_reason: str | None
    logprobs: Logprobs | None = None
    matched_stop: int | str | None = None
    """The stop token ID or string that ended the choice, when the server says."""


@dataclass(frozen=True)
class Completion:
    """A ``/v1/completions`` answer: ``.choices[i].text``, ``.usage``."""

    id: str
    model: str
    choices: tuple[CompletionChoice, ...]
    usage: Usage | None
    created: int | None = None
    object: str = "text_completion"
    request_id: str | None = None
    """Wafer's ``x-request-id`` of the answer: quote it to support."""

    @property
    def text(self) -> str:
        """The first choice's text."""
        return self.choices[0].text if self.choices else ""


@dataclass(frozen=True)
class CompletionChunk:
    """One server-sent event of a streamed completion."""

    id: str
    model: str
    choices: tuple[CompletionChoice, ...]
    usage: Usage | None = None
    created: int | None = None


# -- chat --------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionCall:
    name: str
    arguments: str
    """JSON text, as the model wrote it; :meth:`parsed` decodes it."""

    def parsed(self) -> Any:
        """``arguments`` decoded (raises ``json.JSONDecodeError`` when it is not JSON)."""
        return json.loads(self.arguments) if self.arguments else {}


@dataclass(frozen=True)
class ToolCall:
    id: str
    function: FunctionCall
    type: str = "function"
    index: int | None = None


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str | None
    reasoning_content: str | None = None
    """The model's reasoning: the API's field, or split out of inline ``<think>`` blocks."""
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ChatChoice:
    index: int
    message: ChatMessage
    finish_reason: str | None
    logprobs: Logprobs | None = None

    @property
    def text(self) -> str:
        """The message content ("" when the model only called tools)."""
        return self.message.content or ""


@dataclass(frozen=True)
class ChatCompletion:
    """A ``/v1/chat/completions`` answer."""

    id: str
    model: str
    choices: tuple[ChatChoice, ...]
    usage: Usage | None
    created: int | None = None
    object: str = "chat.completion"
    request_id: str | None = None

    @property
    def text(self) -> str:
        """The first choice's content."""
        return self.choices[0].text if self.choices else ""


@dataclass(frozen=True)
class ChatDelta:
    role: str | None = None
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ChatChunkChoice:
    index: int
    delta: ChatDelta
    finish_reason: str | None = None
    logprobs: Logprobs | None = None


@dataclass(frozen=True)
class ChatCompletionChunk:
    """One server-sent event of a streamed chat completion."""

    id: str
    model: str
    choices: tuple[ChatChunkChoice, ...]
    usage: Usage | None = None
    created: int | None = None
