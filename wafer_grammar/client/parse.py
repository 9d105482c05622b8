"""JSON answers -> typed objects. The one module that knows the wire shape.

Anything unexpected raises :class:`MalformedResponse` naming the field path
(``choices[0].text``), so a proxy that mangles answers is caught here, not three
calls later as an ``AttributeError``. Unknown extra fields are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from wafer_grammar.client.bounded import clip, redact
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
from wafer_grammar.errors import MalformedResponse

T = TypeVar("T")
EXCERPT = 200


class Shape(Exception):
    """Internal: a field has the wrong type; becomes MalformedResponse at the boundary."""


def excerpt(text: str, secret: str | None = None) -> str:
    """The start of a server's text for a message: redacted (before the cut, so no part of
    the key survives it), then cut to :data:`EXCERPT` characters."""
    return clip(redact(text, secret), EXCERPT)


def quoted(text: str, secret: str | None = None) -> str:
    """:func:`excerpt` as a Python literal, cut again: ``repr`` can make one character ten."""
    return clip(repr(excerpt(text, secret)), 2 * EXCERPT)


def loads(
    body: bytes,
    *,
    what: str,
    request_id: str | None,
    status: int | None,
    secret: str | None = None,
) -> Any:
    """``body`` as JSON, or MalformedResponse."""
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise MalformedResponse(
            f"the {what} answer is not JSON: {quoted(text, secret)}",
            body=excerpt(text, secret),
            request_id=request_id,
            status=status,
        ) from exc


def shaped(
    build: Callable[[Any], T],
    data: Any,
    *,
    what: str,
    request_id: str | None,
    status: int | None,
    secret: str | None = None,
) -> T:
    """``build(data)``, turning a shape error into MalformedResponse."""
    try:
        return build(data)
    except Shape as exc:
        raise MalformedResponse(
            f"the {what} answer has an unexpected shape: {exc}",
            body=excerpt(json.dumps(data), secret),
            request_id=request_id,
            status=status,
        ) from None


# -- field readers (path-aware) ------------------------------------------------------


def _obj(data: Any, path: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Shape(f"{path or 'the body'} is not an object")
    return data


def _list(data: Any, path: str) -> list[Any]:
    if not isinstance(data, list):
        raise Shape(f"{path} is not a list")
    return data


def _str(data: dict[str, Any], key: str, path: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise Shape(f"{path}{key} is not a string")
    return value


def _opt_str(data: dict[str, Any], key: str, path: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise Shape(f"{path}{key} is not a string")
    return value


def _int(data: dict[str, Any], key: str, path: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Shape(f"{path}{key} is not an integer")
    return value


def _opt_int(data: dict[str, Any], key: str, path: str) -> int | None:
    return None if data.get(key) is None else _int(data, key, path)


def _num(data: dict[str, Any], key: str, path: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Shape(f"{path}{key} is not a number")
    return float(value)


def _bytes(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, list) and all(isinstance(b, int) for b in value):
        return tuple(value)
    return None


# -- models ----------------------------------------------------------------------------


def model_list(data: Any) -> list[ModelCard]:
    body = _obj(data, "")
    return [
        model_card(item, f"data[{i}].") for i, item in enumerate(_list(body.get("data"), "data"))
    ]


def model_card(item: Any, path: str = "") -> ModelCard:
    card = _obj(item, path.rstrip("."))
    wafer = card.get("wafer") or {}
    _obj(wafer, f"{path}wafer")
    caps = wafer.get("capabilities") or {}
    _obj(caps, f"{path}wafer.capabilities")
    pricing = None
    price = wafer.get("pricing")
    # Pricing in another shape (not cents per million) is left in .raw, not guessed at.
    if isinstance(price, dict) and "input_cents_per_million" in price:
        where = f"{path}wafer.pricing."
        cache = price.get("cache_read_cents_per_million")
        pricing = Pricing(
            input_cents_per_million=_num(price, "input_cents_per_million", where),
            output_cents_per_million=_num(price, "output_cents_per_million", where),
            cache_read_cents_per_million=None
            if cache is None
            else _num(price, "cache_read_cents_per_million", where),
        )
    max_len = _opt_int(card, "max_model_len", path)
    context = _opt_int(wafer, "context_length", f"{path}wafer.")
    return ModelCard(
        id=_str(card, "id", path),
        object=_str(card, "object", path, "model"),
        created=_opt_int(card, "created", path),
        owned_by=_opt_str(card, "owned_by", path),
        max_model_len=max_len if max_len is not None else context,
        zdr_supported=card.get("zdr_supported") is True,
        display_name=_opt_str(wafer, "display_name", f"{path}wafer."),
        description=_opt_str(wafer, "description", f"{path}wafer."),
        tier=_opt_str(wafer, "tier", f"{path}wafer."),
        context_length=context,
        capabilities=Capabilities(
            vision=caps.get("vision") is True,
            tools=caps.get("tools") is True,
            reasoning=caps.get("reasoning") is True,
        ),
        pricing=pricing,
        raw=card,
    )


# -- usage and logprobs ----------------------------------------------------------------


def usage(data: Any) -> Usage | None:
    if data is None:
        return None
    body = _obj(data, "usage")
    prompt = _int(body, "prompt_tokens", "usage.", 0)
    completion = _int(body, "completion_tokens", "usage.", 0)
    details = body.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    out_details = body.get("completion_tokens_details") or {}
    reasoning = out_details.get("reasoning_tokens") if isinstance(out_details, dict) else None
    total = body.get("total_tokens")
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total if isinstance(total, int) else prompt + completion,
        cached_tokens=cached if isinstance(cached, int) else 0,
        reasoning_tokens=reasoning if isinstance(reasoning, int) else None,
    )


def logprobs(data: Any, path: str) -> Logprobs | None:
    """Either shape: chat's ``{"content": [...]}`` or completions' parallel lists."""
    if data is None:
        return None
    body = _obj(data, path)
    if "content" in body:
        items = body["content"] or []
        out = []
        for i, item in enumerate(_list(items, f"{path}.content")):
            entry = _obj(item, f"{path}.content[{i}]")
            where = f"{path}.content[{i}]."
            tops = tuple(
                TopLogprob(
                    _str(alt, "token", where), _num(alt, "logprob", where), _bytes(alt.get("bytes"))
                )
                for alt in (
                    _obj(a, f"{where}top_logprobs")
                    for a in _list(entry.get("top_logprobs") or [], f"{where}top_logprobs")
                )
            )
            out.append(
                TokenLogprob(
                    _str(entry, "token", where),
                    _num(entry, "logprob", where),
                    tops,
                    _bytes(entry.get("bytes")),
                )
            )
        return Logprobs(tuple(out))
    tokens = _list(body.get("tokens") or [], f"{path}.tokens")
    values = _list(body.get("token_logprobs") or [], f"{path}.token_logprobs")
    tops_list = body.get("top_logprobs") or [None] * len(tokens)
    offsets = body.get("text_offset") or [None] * len(tokens)
    if not len(tokens) == len(values) == len(_list(tops_list, f"{path}.top_logprobs")):
        raise Shape(f"{path}.tokens, token_logprobs and top_logprobs differ in length")
    out = []
    for i, token in enumerate(tokens):
        if not isinstance(token, str):
            raise Shape(f"{path}.tokens[{i}] is not a string")
        value = values[i]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Shape(f"{path}.token_logprobs[{i}] is not a number")
        top = tops_list[i] or {}
        if not isinstance(top, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in top.values()
        ):
            raise Shape(f"{path}.top_logprobs[{i}] is not an object of numbers")
        alts = tuple(
            sorted((TopLogprob(k, float(v)) for k, v in top.items()), key=lambda alt: -alt.logprob)
        )
        offset = offsets[i] if i < len(offsets) and isinstance(offsets[i], int) else None
        out.append(TokenLogprob(token, float(value), alts, offset=offset))
    return Logprobs(tuple(out))


# -- completions -----------------------------------------------------------------------


def _completion_choice(item: Any, i: int, *, chunk: bool) -> CompletionChoice:
    path = f"choices[{i}]."
    choice = _obj(item, path.rstrip("."))
    stop = choice.get("matched_stop")
    return CompletionChoice(
        index=_int(choice, "index", path, i),
        text=_str(choice, "text", path, "" if chunk else None),
        finish_reason=_opt_str(choice, "finish_reason", path),
        logprobs=logprobs(choice.get("logprobs"), f"{path}logprobs"),
        matched_stop=stop if isinstance(stop, (int, str)) and not isinstance(stop, bool) else None,
    )


def completion(data: Any, request_id: str | None = None) -> Completion:
    body = _obj(data, "")
    return Completion(
        id=_str(body, "id", "", ""),
        model=_str(body, "model", "", ""),
        choices=tuple(
            _completion_choice(c, i, chunk=False)
            for i, c in enumerate(_list(body.get("choices"), "choices"))
        ),
        usage=usage(body.get("usage")),
        created=_opt_int(body, "created", ""),
        request_id=request_id,
    )


def completion_chunk(data: Any) -> CompletionChunk:
    body = _obj(data, "")
    return CompletionChunk(
        id=_str(body, "id", "", ""),
        model=_str(body, "model", "", ""),
        choices=tuple(
            _completion_choice(c, i, chunk=True)
            for i, c in enumerate(_list(body.get("choices") or [], "choices"))
        ),
        usage=usage(body.get("usage")),
        created=_opt_int(body, "created", ""),
    )


# -- chat ------------------------------------------------------------------------------


def _tool_calls(data: Any, path: str) -> tuple[ToolCall, ...]:
    calls = []
    for i, item in enumerate(_list(data or [], path)):
        where = f"{path}[{i}]."
        call = _obj(item, where.rstrip("."))
        fn = _obj(call.get("function"), f"{where}function")
        args = fn.get("arguments", "")
        if not isinstance(args, str):  # some servers send the object itself
            args = json.dumps(args)
        calls.append(
            ToolCall(
                id=_str(call, "id", where, ""),
                function=FunctionCall(_str(fn, "name", f"{where}function.", ""), args),
                type=_str(call, "type", where, "function"),
                index=_opt_int(call, "index", where),
            )
        )
    return tuple(calls)


def chat_completion(data: Any, request_id: str | None = None) -> ChatCompletion:
    body = _obj(data, "")
    choices = []
    for i, item in enumerate(_list(body.get("choices"), "choices")):
        path = f"choices[{i}]."
        choice = _obj(item, path.rstrip("."))
        msg = _obj(choice.get("message"), f"{path}message")
        where = f"{path}message."
        choices.append(
            ChatChoice(
                index=_int(choice, "index", path, i),
                message=ChatMessage(
                    role=_str(msg, "role", where, "assistant"),
                    content=_opt_str(msg, "content", where),
                    reasoning_content=_opt_str(msg, "reasoning_content", where),
                    tool_calls=_tool_calls(msg.get("tool_calls"), f"{where}tool_calls"),
                ),
                finish_reason=_opt_str(choice, "finish_reason", path),
                logprobs=logprobs(choice.get("logprobs"), f"{path}logprobs"),
            )
        )
    return ChatCompletion(
        id=_str(body, "id", "", ""),
        model=_str(body, "model", "", ""),
        choices=tuple(choices),
        usage=usage(body.get("usage")),
        created=_opt_int(body, "created", ""),
        request_id=request_id,
    )


def chat_chunk(data: Any) -> ChatCompletionChunk:
    body = _obj(data, "")
    choices = []
    for i, item in enumerate(_list(body.get("choices") or [], "choices")):
        path = f"choices[{i}]."
        choice = _obj(item, path.rstrip("."))
        delta = _obj(choice.get("delta") or {}, f"{path}delta")
        where = f"{path}delta."
        choices.append(
            ChatChunkChoice(
                index=_int(choice, "index", path, i),
                delta=ChatDelta(
                    role=_opt_str(delta, "role", where),
                    content=_opt_str(delta, "content", where),
                    reasoning_content=_opt_str(delta, "reasoning_content", where),
                    tool_calls=_tool_calls(delta.get("tool_calls"), f"{where}tool_calls"),
                ),
                finish_reason=_opt_str(choice, "finish_reason", path),
                logprobs=logprobs(choice.get("logprobs"), f"{path}logprobs"),
            )
        )
    return ChatCompletionChunk(
        id=_str(body, "id", "", ""),
        model=_str(body, "model", "", ""),
        choices=tuple(choices),
        usage=usage(body.get("usage")),
        created=_opt_int(body, "created", ""),
    )
