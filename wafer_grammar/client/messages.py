"""Anthropic's Messages API (``POST /v1/messages``), sans-I/O: bodies out, typed answers in.

Wafer exposes it beside the OpenAI-compatible API; so does the embedded server.
The request is checked here first (what the server would refuse after a round
trip is refused before it), the answer becomes a :class:`Message`, and a stream's
named events (``message_start`` ... ``message_stop``) fold into the same
:class:`Message` the non-streamed call returns.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wafer_grammar.client import parse
from wafer_grammar.client.stream import Assembler
from wafer_grammar.client.types import Usage
from wafer_grammar.errors import BadRequest, MalformedResponse

ANTHROPIC_VERSION = "2023-06-01"
"""Sent as ``anthropic-version``, which Anthropic-compatible servers may require."""


@dataclass(frozen=True)
class ContentBlock:
    """One block of a message's ``content``: ``text`` for text blocks, else ``raw``."""

    type: str
    text: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class MessageUsage:
    """Tokens read and written, as Anthropic counts them."""

    input_tokens: int
    """Prompt tokens not read from the cache (Anthropic counts cache reads apart)."""
    output_tokens: int
    cache_read_input_tokens: int = 0

    def as_usage(self) -> Usage:
        """The same counts in the OpenAI shape the rest of the client uses (cache reads
        are part of ``prompt_tokens`` there, and ``cached_tokens`` says how many)."""
        prompt = self.input_tokens + self.cache_read_input_tokens
        return Usage(
            prompt_tokens=prompt,
            completion_tokens=self.output_tokens,
            total_tokens=prompt + self.output_tokens,
            cached_tokens=self.cache_read_input_tokens,
        )


@dataclass(frozen=True)
class Message:
    """A ``/v1/messages`` answer."""

    id: str
    model: str
    role: str
    content: tuple[ContentBlock, ...]
    stop_reason: str | None
    """``end_turn``, ``max_tokens``, ``stop_sequence``, ``tool_use``..."""
    stop_sequence: str | None
    usage: MessageUsage
    request_id: str | None = None

    @property
    def text(self) -> str:
        """The text blocks, joined."""
        return "".join(b.text for b in self.content if b.type == "text")


@dataclass(frozen=True)
class MessageEvent:
    """One streamed event: its ``type`` (``message_start``, ``content_block_delta``...),
    the text it adds (``text_delta`` events; else ""), and the event as received."""

    type: str
    index: int | None = None
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _positive_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise BadRequest(f"{name} must be an integer >= {low}, not {value!r}", param=name)


def _unit(name: str, value: object, *, open_low: bool) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"{name} must be a number, not {value!r}", param=name)
    if (value <= 0.0 if open_low else value < 0.0) or value > 1.0:
        span = "(0, 1]" if open_low else "[0, 1]"
        raise BadRequest(f"{name} must be in {span}, not {value!r}", param=name)


def _thinking(value: bool | Mapping[str, Any]) -> dict[str, Any]:
    if value is False:
        return {"type": "disabled"}
    if isinstance(value, Mapping) and value.get("type") in ("enabled", "disabled"):
        return dict(value)
    raise BadRequest(
        'thinking must be False, {"type": "disabled"} or '
        f'{{"type": "enabled", "budget_tokens": N}}, not {value!r}',
        param="thinking",
    )


def thinking_enabled(thinking: bool | Mapping[str, Any] | None) -> bool:
    """Whether ``thinking`` turns reasoning on (its shape checked first).

    Raises:
        BadRequest: not a shape the Messages API takes.
    """
    return thinking is not None and _thinking(thinking)["type"] == "enabled"


def messages_body(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    *,
    max_tokens: int,
    system: str | Sequence[Mapping[str, Any]] | None = None,
    stop_sequences: Sequence[str] | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    top_k: int | None = None,
    thinking: bool | Mapping[str, Any] | None = None,
    stream: bool = False,
    extra_body: Mapping[str, Any] | None = None,
) -> bytes:
    """The checked JSON body of a Messages request (None arguments are not sent).

    Raises:
        BadRequest: a value the Messages API does not take (``.param`` names it).
    """
    if not isinstance(model, str) or not model:
        raise BadRequest("model must be a model ID", param="model")
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence) or not messages:
        raise BadRequest("messages must be a non-empty list of messages", param="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping) or message.get("role") not in ("user", "assistant"):
            raise BadRequest(
                f'messages[{i}] must be an object with role "user" or "assistant"',
                param="messages",
            )
    _positive_int("max_tokens", max_tokens, 1)
    body: dict[str, Any] = {
        "model": model,
        "messages": [dict(m) for m in messages],
        "max_tokens": max_tokens,
    }
    if system is not None:
        if not isinstance(system, str):
            system = [dict(block) for block in system]
        body["system"] = system
    if stop_sequences is not None:
        if isinstance(stop_sequences, str) or not all(
            isinstance(s, str) and s for s in stop_sequences
        ):
            raise BadRequest(
                "stop_sequences must be a list of non-empty strings", param="stop_sequences"
            )
        body["stop_sequences"] = list(stop_sequences)
    _unit("temperature", temperature, open_low=False)
    _unit("top_p", top_p, open_low=True)
    if top_k is not None:
        _positive_int("top_k", top_k, 0)
    for name, value in (("temperature", temperature), ("top_p", top_p), ("top_k", top_k)):
        if value is not None:
            body[name] = value
    if thinking is not None:
        body["thinking"] = _thinking(thinking)
    if stream:
        body["stream"] = True
    if extra_body:
        body.update(extra_body)
    return json.dumps(body, separators=(",", ":")).encode()


def _block(item: Any, path: str) -> ContentBlock:
    block = parse._obj(item, path)
    kind = parse._str(block, "type", path + ".")
    text = block.get("text", "")
    if kind == "text" and not isinstance(text, str):
        raise parse.Shape(f"{path}.text is not a string")
    return ContentBlock(kind, text if isinstance(text, str) else "", block)


def _usage(data: Any, path: str) -> MessageUsage:
    body = parse._obj(data, path)
    return MessageUsage(
        input_tokens=parse._int(body, "input_tokens", path + ".", 0),
        output_tokens=parse._int(body, "output_tokens", path + ".", 0),
        cache_read_input_tokens=_cache_reads(body, path, 0),
    )


def _cache_reads(body: dict[str, Any], path: str, default: int) -> int:
    # Anthropic sends null when nothing was read from the cache.
    if body.get("cache_read_input_tokens") is None:
        return default
    return parse._int(body, "cache_read_input_tokens", path + ".", default)


def message(data: Any, request_id: str | None = None) -> Message:
    """A ``message`` object (raises :class:`parse.Shape` on a wrong shape)."""
    body = parse._obj(data, "")
    return Message(
        id=parse._str(body, "id", ""),
        model=parse._str(body, "model", "", ""),
        role=parse._str(body, "role", "", "assistant"),
        content=tuple(
            _block(b, f"content[{i}]")
            for i, b in enumerate(parse._list(body.get("content", []), "content"))
        ),
        stop_reason=parse._opt_str(body, "stop_reason", ""),
        stop_sequence=parse._opt_str(body, "stop_sequence", ""),
        usage=_usage(body.get("usage", {}), "usage"),
        request_id=request_id,
    )


def parse_message(
    body: bytes, *, request_id: str | None, status: int, secret: str | None
) -> Message:
    """A non-streamed answer's bytes as a :class:`Message` (or MalformedResponse)."""
    data = parse.loads(body, what="messages", request_id=request_id, status=status, secret=secret)
    return parse.shaped(
        lambda d: message(d, request_id),
        data,
        what="messages",
        request_id=request_id,
        status=status,
        secret=secret,
    )


class MessageAssembler(Assembler[MessageEvent, Message]):
    """Folds Anthropic's stream events into the :class:`Message` they describe."""

    def __init__(self, *, secret: str | None, request_id: str | None) -> None:
        super().__init__(secret=secret, request_id=request_id)
        self.start: Message | None = None
        self.blocks: dict[int, ContentBlock] = {}
        self.stop_reason: str | None = None
        self.stop_sequence: str | None = None
        self.tokens: MessageUsage | None = None

    def event(self, data: str) -> MessageEvent | None:
        doc = self._load(data)
        return parse.shaped(
            self._event,
            doc,
            what="stream event",
            request_id=self.request_id,
            status=200,
            secret=self.secret,
        )

    def _event(self, doc: Any) -> MessageEvent | None:
        body = parse._obj(doc, "")
        kind = parse._str(body, "type", "")
        index = body.get("index") if isinstance(body.get("index"), int) else None
        text = ""
        if kind == "message_start":
            self.start = message(body.get("message"), self.request_id)
            self.id, self.model = self.start.id, self.start.model
            self._count(self.start.usage)
        elif kind == "content_block_start" and index is not None:
            self.blocks[index] = _block(body.get("content_block"), "content_block")
        elif kind == "content_block_delta" and index is not None:
            delta = parse._obj(body.get("delta"), "delta")
            if delta.get("type") == "text_delta":
                text = parse._str(delta, "text", "delta.")
                known = self.blocks.get(index, ContentBlock("text"))
                self.blocks[index] = ContentBlock(known.type, known.text + text, known.raw)
        elif kind == "message_delta":
            delta = parse._obj(body.get("delta", {}), "delta")
            self.stop_reason = parse._opt_str(delta, "stop_reason", "delta.")
            self.stop_sequence = parse._opt_str(delta, "stop_sequence", "delta.")
            if body.get("usage") is not None:
                usage = parse._obj(body["usage"], "usage")
                before = self.tokens or MessageUsage(0, 0)
                self._count(
                    MessageUsage(
                        parse._int(usage, "input_tokens", "usage.", before.input_tokens),
                        parse._int(usage, "output_tokens", "usage.", before.output_tokens),
                        _cache_reads(usage, "usage", before.cache_read_input_tokens),
                    )
                )
        elif kind == "message_stop":
            self.done = True
        return MessageEvent(kind, index, text, body)

    def _count(self, usage: MessageUsage) -> None:
        self.tokens = usage
        self.usage = usage.as_usage()

    def end(self) -> None:
        if not self.done:
            from wafer_grammar.errors import ConnectionFailed

            raise ConnectionFailed(
                "the stream ended before its message_stop event: the answer is incomplete",
                request_id=self.request_id,
                status=200,
            )

    def result(self) -> Message:
        if self.start is None:
            raise MalformedResponse(
                "the stream had no message_start event", request_id=self.request_id, status=200
            )
        return Message(
            id=self.start.id,
            model=self.start.model,
            role=self.start.role,
            content=tuple(block for _, block in sorted(self.blocks.items())),
            stop_reason=self.stop_reason,
            stop_sequence=self.stop_sequence,
            usage=self.tokens or self.start.usage,
            request_id=self.request_id,
        )
