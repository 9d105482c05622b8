"""``POST /v1/messages``: Anthropic's Messages API over the same engine, sans sockets.

A Messages body becomes the same :class:`Request` a chat body does (``system``
becomes the system message; text blocks become text), so decoding is shared;
only the shapes differ: the answer is a ``message`` with content blocks and a
``stop_reason``, a stream is Anthropic's named events (``message_start``,
``content_block_start``, ``content_block_delta``, ``content_block_stop``,
``message_delta``, ``message_stop``), and errors are ``{"type": "error",
"error": {"type", "message"}}``. Fields this server does not implement (tools,
images, metadata...) are refused with a 400 naming them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from wafer_grammar.errors import InvalidRequest
from wafer_grammar.local.engine_results import EngineChoice, EngineDelta, EngineUsage
from wafer_grammar.local.protocol import Request

MESSAGES_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "stop_sequences",
        "temperature",
        "top_p",
        "top_k",
        "stream",
        "thinking",
    }
)
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
}


def error_body(status: int, message: str) -> dict[str, Any]:
    """An error in Anthropic's shape."""
    kind = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def _text(value: Any, where: str) -> str:
    """A string, or a list of text blocks, as text."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise InvalidRequest(f"{where} must be a string or a list of content blocks", param=where)
    texts = []
    for j, block in enumerate(value):
        if not isinstance(block, dict) or block.get("type") != "text":
            kind = block.get("type") if isinstance(block, dict) else type(block).__name__
            raise InvalidRequest(
                f"{where}[{j}] is a {kind!r} block: this server takes text blocks only",
                param=where,
            )
        extra = set(block) - {"type", "text"}
        if extra:
            raise InvalidRequest(
                f"{where}[{j}] has fields this server does not implement: "
                f"{', '.join(sorted(extra))}",
                param=where,
            )
        if not isinstance(block.get("text"), str):
            raise InvalidRequest(f'{where}[{j}] needs a "text" string', param=where)
        texts.append(block["text"])
    return "".join(texts)


def parse_messages(doc: Mapping[str, Any]) -> Request:
    """Validate a ``/v1/messages`` body as a chat :class:`Request`."""
    present = {k: v for k, v in doc.items() if v is not None}
    unknown = sorted(set(present) - MESSAGES_FIELDS)
    if unknown:
        raise InvalidRequest(
            f"unsupported parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(u) for u in unknown)}: this server's /v1/messages does not "
            f"implement {'them' if len(unknown) > 1 else 'it'} (refused rather than ignored)",
            param=unknown[0],
            code="unsupported_parameter",
        )
    model = present.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("model is required (a model ID from GET /v1/models)", param="model")
    if "max_tokens" not in present:
        raise InvalidRequest("max_tokens is required", param="max_tokens")
    messages: list[dict[str, Any]] = []
    if "system" in present:
        messages.append({"role": "system", "content": _text(present["system"], "system")})
    given = present.get("messages")
    if not isinstance(given, list) or not given:
        raise InvalidRequest("messages must be a non-empty list of messages", param="messages")
    for i, message in enumerate(given):
        where = f"messages[{i}]"
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise InvalidRequest(
                f'{where} must be an object with role "user" or "assistant"', param="messages"
            )
        extra = set(message) - {"role", "content"}
        if extra:
            raise InvalidRequest(
                f"{where} has unknown fields: {', '.join(sorted(extra))}", param="messages"
            )
        content = _text(message.get("content"), f"{where}.content")
        messages.append({"role": message["role"], "content": content})
    req = Request(chat=True, model=model, messages=messages)
    max_tokens = present["max_tokens"]
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        raise InvalidRequest(
            f"max_tokens must be an integer, not {max_tokens!r}", param="max_tokens"
        )
    req.max_tokens = max_tokens
    temperature = present.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float))
        or not 0.0 <= temperature <= 1.0
    ):
        raise InvalidRequest(
            f"temperature must be between 0 and 1, not {temperature!r}", param="temperature"
        )
    req.sampling = {k: present[k] for k in ("temperature", "top_p", "top_k") if k in present}
    if "stop_sequences" in present:
        stops = present["stop_sequences"]
        if not isinstance(stops, list):
            raise InvalidRequest("stop_sequences must be a list of strings", param="stop_sequences")
        req.sampling["stop"] = stops
    if "stream" in present:
        if not isinstance(present["stream"], bool):
            raise InvalidRequest("stream must be true or false", param="stream")
        req.stream = present["stream"]
    thinking = present.get("thinking")
    if thinking is not None:
        if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled"):
            raise InvalidRequest(
                'thinking must be {"type": "disabled"} or {"type": "enabled", ...}',
                param="thinking",
            )
        if thinking["type"] == "enabled":
            req.thinking, req.thinking_field = True, "thinking"
    try:
        req.params(prompt_tokens=1, max_model_len=2**31, max_n=1)
    except InvalidRequest as exc:
        if exc.param == "stop":  # the engine's name for it
            raise InvalidRequest(
                str(exc).replace("stop", "stop_sequences", 1), param="stop_sequences"
            ) from None
        raise
    return req


def new_id() -> str:
    return f"msg_{uuid.uuid4().hex[:24]}"


def stop_reason(finish: str | None, matched: int | str | None) -> tuple[str, str | None]:
    """Anthropic's ``stop_reason`` and ``stop_sequence`` for an engine finish."""
    if finish == "length":
        return "max_tokens", None
    if isinstance(matched, str):
        return "stop_sequence", matched
    return "end_turn", None


def _usage(usage: EngineUsage) -> dict[str, int]:
    # Anthropic counts cache reads apart: input_tokens are the uncached ones.
    return {
        "input_tokens": usage.prompt_tokens - usage.cached_tokens,
        "cache_read_input_tokens": usage.cached_tokens,
        "output_tokens": usage.completion_tokens,
    }


def message_body(
    message_id: str, model: str, choice: EngineChoice, usage: EngineUsage
) -> dict[str, Any]:
    """The whole (non-streamed) answer."""
    reason, sequence = stop_reason(choice.finish_reason, choice.matched_stop)
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": choice.text}],
        "stop_reason": reason,
        "stop_sequence": sequence,
        "usage": _usage(usage),
    }


def events(
    message_id: str,
    model: str,
    deltas: Iterable[EngineDelta],
    prompt_tokens: int,
    final_usage: Any,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """A streamed answer as Anthropic's ``(event name, data)`` sequence."""
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": prompt_tokens, "output_tokens": 0},
            },
        },
    )
    yield (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    )
    finish: str | None = None
    matched: int | str | None = None
    for delta in deltas:
        if delta.text:
            yield (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": delta.text},
                },
            )
        if delta.finish_reason is not None:
            finish, matched = delta.finish_reason, delta.matched_stop
    yield "content_block_stop", {"type": "content_block_stop", "index": 0}
    reason, sequence = stop_reason(finish, matched)
    usage = final_usage()
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": sequence},
            "usage": _usage(usage) if usage is not None else {"output_tokens": 0},
        },
    )
    yield "message_stop", {"type": "message_stop"}
