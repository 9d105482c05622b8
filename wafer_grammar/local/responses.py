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


def usage_body(usage: EngineUsage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def model_card(
    model_id: str,
    *,
    created: int,
    max_model_len: int,
    json_schema: bool,
    reasoning: bool,
) -> dict[str, Any]:
    """The ``/v1/models`` entry, in Wafer's shape (capabilities, pricing at zero)."""
    return {
        "id": model_id,
        "object": "model",
        "created": created,
        "owned_by": "wafer-grammar-local",
        "max_model_len": max_model_len,
        # Nothing leaves this machine, so zero data retention holds trivially.
        "zdr_supported": True,
        "wafer": {
            "capabilities": {
                "vision": False,
                "tools": False,
                "completions": True,
                "chat_completions": True,
                "token_ids": True,
                "ebnf": True,
                "json_schema": json_schema,
                "logprobs": True,
                "streaming": True,
                "reasoning": reasoning,
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
        self, *, chat: bool, model: str, tokenizer: Tokenizer, top_logprobs: int, logprobs: bool
    ) -> None:
        self.chat = chat
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
        if self.chat:
            out["message"] = {"role": "assistant", "content": c.text}
        else:
            out["text"] = c.text
        out["logprobs"] = self._logprobs_body(c.logprobs)
        out["finish_reason"] = c.finish_reason
        out["matched_stop"] = c.matched_stop
        return out

    def chunk(self, deltas: Sequence[EngineDelta]) -> dict[str, Any]:
        """One stream chunk holding one decoding step's deltas."""
        body = self._envelope(chunk=True)
        body["choices"] = [self._chunk_choice(d) for d in deltas]
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
