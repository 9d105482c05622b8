"""The HTTP client for Wafer's OpenAI-compatible API (and the embedded local server).

``WaferClient`` (blocking) and ``AsyncWaferClient`` (asyncio) share one sans-I/O
core (:mod:`~wafer_grammar.client.core`); they are imported on first use, so
``import wafer_grammar.client`` for the types and config does not load httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wafer_grammar.client.config import ClientConfig, Limits, Timeouts, resolve_config
from wafer_grammar.client.request_body import IgnoredParameterWarning, Sampling
from wafer_grammar.client.retry import RetryPolicy
from wafer_grammar.client.types import (
    Capabilities,
    ChatChoice,
    ChatChunkChoice,
    ChatCompletion,
    ChatCompletionChunk,
    ChatDelta,
    ChatMessage,
    Completion,
    CompletionChoice,
    CompletionChunk,
    FunctionCall,
    Logprobs,
    ModelCard,
    Pricing,
    TokenLogprob,
    ToolCall,
    TopLogprob,
    Usage,
)

if TYPE_CHECKING:
    from wafer_grammar.client.aio import AsyncStream, AsyncWaferClient
    from wafer_grammar.client.sync import Stream, WaferClient

_LAZY = {
    "WaferClient": "wafer_grammar.client.sync",
    "Stream": "wafer_grammar.client.sync",
    "AsyncWaferClient": "wafer_grammar.client.aio",
    "AsyncStream": "wafer_grammar.client.aio",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wafer_grammar.client' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AsyncStream",
    "AsyncWaferClient",
    "Capabilities",
    "ChatChoice",
    "ChatChunkChoice",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatDelta",
    "ChatMessage",
    "ClientConfig",
    "Completion",
    "CompletionChoice",
    "CompletionChunk",
    "FunctionCall",
    "IgnoredParameterWarning",
    "Limits",
    "Logprobs",
    "ModelCard",
    "Pricing",
    "RetryPolicy",
    "Sampling",
    "Stream",
    "Timeouts",
    "TokenLogprob",
    "ToolCall",
    "TopLogprob",
    "Usage",
    "WaferClient",
    "resolve_config",
]
