"""Response shapes of the local server: completions, chat, stream chunks, cards, errors.

Shapes follow OpenAI's, with SGLang's extras that Wafer passes through
(``matched_stop`` on each choice). ``usage`` counts every generated token, the
stop token included, over all choices.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from wafer_grammar.local.engine_results import (
    EngineChoice,
    EngineDelta,
    EngineTokenLogprob,
    EngineUsage,
)
from wafer_grammar.local.tools import ToolPlan, parse_calls
from wafer_grammar.tokenize.tokenizer import Tokenizer

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


def new_id(chat: bool) -> str:
    """A fresh response ID (``cmpl-...`` or ``chatcmpl-...``)."""
    return f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}"


def error_body(
    message: str,
    *,
    status: int,
    code: str | None = None,
    param: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """``{"error": {message, type, param, code, ...}}`` as OpenAI and Wafer send it."""
    error = {
        "message": message,
        "type": ERROR_TYPES.get(status, "server_error"),
        "param": param,
        "code": code,
        **extra,
    }
    return {"error": error}


def usage_body(usage: EngineUsage) -> dict[str, Any]:
    """``usage`` as OpenAI shapes it (prefix-cache hits in ``prompt_tokens_details``)."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
    }


def model_card(
    model_id: str,
    *,
    created: int,
    max_model_len: int,
    json_schema: bool,
    reasoning: bool,
) -> dict[str, Any]:
    """The ``/v1/models`` entry, in Wafer's shape: every field of its docs' example.

    Capabilities beyond Wafer's three (``vision``, ``tools``, ``reasoning``) say what
    this server's endpoints take; pricing is zero (nothing is billed locally).
    """
    return {
        "id": model_id,
        "object": "model",
        "created": created,
        "owned_by": "wafer-grammar-local",
        "max_model_len": max_model_len,
        # Nothing leaves this machine, so zero data retention holds trivially.
        "zdr_supported": True,
        "wafer": {
            "display_name": model_id,
            "description": (
                f"{model_id} on wafer-grammar's embedded engine (CPU, XGrammar-constrained "
                "decoding), served locally."
            ),
            "tier": "local",
            "context_length": max_model_len,
            "capabilities": {
                "vision": False,
                "tools": json_schema,  # tool arguments are enforced through the converter
                "reasoning": reasoning,
                "completions": True,
                "chat_completions": True,
                "messages": True,
                "token_ids": True,
                "ebnf": True,
                "json_schema": json_schema,
                "logprobs": True,
                "streaming": True,
            },
            # Wafer's shape: cents per million tokens, cache reads priced apart.
            "pricing": {
                "input_cents_per_million": 0,
                "output_cents_per_million": 0,
                "cache_read_cents_per_million": 0,
            },
        },
    }


class Shaper:
    """Builds the bodies of one response (one ID, one creation time, one model)."""

    def __init__(
        self,
        *,
        chat: bool,
        model: str,
        tokenizer: Tokenizer,
        top_logprobs: int,
        logprobs: bool,
        tools: ToolPlan | None = None,
    ) -> None:
        self.chat = chat
        self.tools = tools if tools is not None and tools.active else None
        self.model = model
        self.id = new_id(chat)
        self.created = int(time.time())
        self._tok = tokenizer
        self._top = top_logprobs
        self._logprobs = logprobs
        self._started: set[int] = set()

    def _envelope(self, chunk: bool) -> dict[str, Any]:
        if self.chat:
            obj = "chat.completion.chunk" if chunk else "chat.completion"
        else:
            obj = "text_completion"
        return {"id": self.id, "object": obj, "created": self.created, "model": self.model}

    def _piece(self, token_id: int) -> str:
        return self._tok.pieces([token_id])[0]

    def _logprobs_body(self, entries: Sequence[EngineTokenLogprob]) -> dict[str, Any] | None:
        if not self._logprobs:
            return None
        if self.chat:
            return {
                "content": [
                    {
                        "token": self._piece(e.token_id),
                        "logprob": e.logprob,
                        "bytes": list(self._tok.token_bytes(e.token_id)),
                        "top_logprobs": [
                            {
                                "token": self._piece(t),
                                "logprob": lp,
                                "bytes": list(self._tok.token_bytes(t)),
                            }
                            for t, lp in e.top
                        ],
                    }
                    for e in entries
                ]
            }
        return {
            "tokens": [self._piece(e.token_id) for e in entries],
            "token_logprobs": [e.logprob for e in entries],
            "top_logprobs": (
                [{self._piece(t): lp for t, lp in e.top} for e in entries] if self._top else None
            ),
            "text_offset": [e.offset for e in entries],
        }

    def completion(self, choices: Sequence[EngineChoice], usage: EngineUsage) -> dict[str, Any]:
        """The whole (non-streamed) response."""
        body = self._envelope(chunk=False)
        body["choices"] = [self._choice(c) for c in choices]
        body["usage"] = usage_body(usage)
        return body

    def _choice(self, c: EngineChoice) -> dict[str, Any]:
        out: dict[str, Any] = {"index": c.index}
        finish: str | None = c.finish_reason
        if self.chat:
            calls = parse_calls(c.text) if self.tools is not None else None
            if calls is not None:
                out["message"] = {"role": "assistant", "content": None, "tool_calls": calls}
                finish = "tool_calls"
            else:
                out["message"] = {"role": "assistant", "content": c.text}
        else:
            out["text"] = c.text
        out["logprobs"] = self._logprobs_body(c.logprobs)
        out["finish_reason"] = finish
        out["matched_stop"] = c.matched_stop
        return out

    def chunk(
        self, deltas: Sequence[EngineDelta], usage: EngineUsage | None = None
    ) -> dict[str, Any]:
        """One stream chunk holding one decoding step's deltas (and the usage so far)."""
        body = self._envelope(chunk=True)
        body["choices"] = [self._chunk_choice(d) for d in deltas]
        if usage is not None:
            body["usage"] = usage_body(usage)
        return body

    def tool_chunk(
        self,
        delta: EngineDelta,
        calls: list[dict[str, Any]],
        usage: EngineUsage | None = None,
    ) -> dict[str, Any]:
        """The chunk carrying a choice's whole ``tool_calls`` (Wafer sends them in one)."""
        body = self._envelope(chunk=True)
        message: dict[str, Any] = {"content": None}
        if delta.index not in self._started:
            self._started.add(delta.index)
            message["role"] = "assistant"
        message["tool_calls"] = [{"index": i, **call} for i, call in enumerate(calls)]
        body["choices"] = [
            {
                "index": delta.index,
                "delta": message,
                "logprobs": self._logprobs_body(delta.logprobs),
                "finish_reason": "tool_calls",
                "matched_stop": delta.matched_stop,
            }
        ]
        if usage is not None:
            body["usage"] = usage_body(usage)
        return body

    def _chunk_choice(self, d: EngineDelta) -> dict[str, Any]:
        out: dict[str, Any] = {"index": d.index}
        if self.chat:
            delta: dict[str, Any] = {}
            if d.index not in self._started:
                self._started.add(d.index)
                delta["role"] = "assistant"
            if d.text or d.finish_reason is None:
                delta["content"] = d.text
            out["delta"] = delta
        else:
            out["text"] = d.text
        out["logprobs"] = self._logprobs_body(d.logprobs)
        out["finish_reason"] = d.finish_reason
        out["matched_stop"] = d.matched_stop
        return out

    def usage_chunk(self, usage: EngineUsage) -> dict[str, Any]:
        """The final chunk: no choices, the usage of the whole request."""
        body = self._envelope(chunk=True)
        body["choices"] = []
        body["usage"] = usage_body(usage)
        return body
