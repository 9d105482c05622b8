"""From a validated request to a running generation, and from errors to HTTP answers.

No sockets here: :mod:`wafer_grammar.local.server` does the HTTP; this module
knows the engine, the model card and how each error is reported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from wafer_grammar.errors import (
    ContextLengthExceeded,
    EngineError,
    GrammarError,
    InvalidRequest,
    TokenizerError,
)
from wafer_grammar.local.anthropic import parse_messages
from wafer_grammar.local.chat_messages import for_template
from wafer_grammar.local.engine import Engine, Generation
from wafer_grammar.local.protocol import Request, parse_chat, parse_completion
from wafer_grammar.local.responses import Shaper, error_body, model_card

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorAnswer:
    """An error as the server sends it: status and body."""

    status: int
    body: dict[str, Any]


def json_schema_converter() -> Callable[[dict[str, Any]], str] | None:
    """``schema -> ebnf`` through ``Grammar.from_json_schema``, when the converter exists."""
    from wafer_grammar.grammar import Grammar

    convert = getattr(Grammar, "from_json_schema", None)
    if convert is None:
        return None

    def to_ebnf(schema: dict[str, Any]) -> str:
        grammar = convert(schema)
        return str(grammar.to_ebnf())

    return to_ebnf


class App:
    """The server's logic over one :class:`Engine`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.created = int(time.time())

    @property
    def model_id(self) -> str:
        return self.engine.config.model_id

    def models(self) -> dict[str, Any]:
        """The ``GET /v1/models`` body."""
        return {"object": "list", "data": [self.card()]}

    def card(self) -> dict[str, Any]:
        return model_card(
            self.model_id,
            created=self.created,
            max_model_len=self.engine.config.max_model_len,
            json_schema=json_schema_converter() is not None,
            reasoning=self.reasons(),
        )

    def parse(self, path: str, doc: dict[str, Any]) -> Request:
        """Validate a body for ``path``; an unknown model is a 404."""
        if path == "/v1/chat/completions":
            request = parse_chat(doc, json_schema_grammar=json_schema_converter())
        elif path == "/v1/messages":
            request = parse_messages(doc)
        else:
            request = parse_completion(doc)
        if request.model != self.model_id:
            raise InvalidRequest(
                f"model {request.model!r} does not exist; this server serves {self.model_id!r}",
                param="model",
                code="model_not_found",
                status=404,
            )
        return request

    def reasons(self) -> bool:
        """Whether the served model can reason (its registry entry says so)."""
        entry = self.engine.tokenizer.entry
        return entry is not None and entry.reasoning != "none"

    @cached_property
    def token_chars(self) -> int:
        """The most characters one token can stand for: its most bytes (a character is
        at least one byte), over the whole vocabulary, control tokens included."""
        tokenizer = self.engine.tokenizer
        return max(len(tokenizer.token_bytes(i)) for i in range(tokenizer.vocab_size))

    def check_text_size(self, request: Request, chars: int) -> None:
        """Refuse, before tokenizing, text too long to fit the context however it tokenizes.

        A text of ``chars`` characters is at least ``chars / token_chars`` tokens; the
        precise check (after tokenizing) refuses whatever this one does, so nothing
        that fits is refused here. Tokenizing a long text costs seconds and gigabytes.
        """
        limit = self.engine.config.max_model_len
        fewest = -(-chars // self.token_chars)
        max_tokens = request.max_tokens or 1
        if fewest + max_tokens > limit:
            what = "messages" if request.chat else "prompt"
            raise InvalidRequest(
                f"{what} of {chars} characters is at least {fewest} tokens (no token of "
                f"{self.model_id} stands for more than {self.token_chars} characters), which "
                f"with max_tokens={max_tokens} exceeds the model's context of {limit} tokens; "
                "shorten the prompt",
                param=what,
                code="context_length_exceeded",
            )

    def prompt(self, request: Request) -> list[int]:
        """The prompt's token ids: the chat rendered with the template, or as given.

        Text that cannot fit the context is refused before it is tokenized."""
        engine = self.engine
        if not request.chat:
            given = request.prompt
            assert given is not None
            if isinstance(given, str):
                self.check_text_size(request, len(given))
            elif len(given) > engine.config.max_model_len:  # ids: checked before each one is
                limit = engine.config.max_model_len
                params = request.params(
                    prompt_tokens=len(given), max_model_len=limit, max_n=engine.config.max_n
                )
                raise ContextLengthExceeded(
                    prompt_tokens=len(given), max_tokens=params.max_tokens, max_model_len=limit
                )
            return engine.prompt_ids(given)
        if request.thinking and not self.reasons():
            field = request.thinking_field or "thinking"
            raise InvalidRequest(
                f"{field} turns reasoning on, but {self.model_id} does not reason "
                "(wafer.capabilities.reasoning is false); turn it off or leave it out",
                param=field,
                code="unsupported_parameter",
            )
        plan = request.tools
        # Offered tools are shown even under tool_choice "none": earlier turns may use them.
        tools_text = plan.system_text() if plan is not None and plan.tools else None
        messages = for_template(request.messages, tools_text=tools_text)
        self.check_text_size(request, sum(len(m["content"]) for m in messages))
        try:
            prompt = engine.tokenizer.encode_chat(messages, thinking=request.thinking)
        except (TokenizerError, TypeError, ValueError) as exc:
            if isinstance(exc, InvalidRequest):
                raise
            raise InvalidRequest(str(exc), param="messages") from exc
        return prompt.ids

    def grammar(self, request: Request) -> str | None:
        """The EBNF the answer is decoded under: the request's, or its tools' grammar."""
        plan = request.tools
        if plan is None or not plan.active:
            return request.ebnf
        from wafer_grammar.grammar import Grammar

        try:
            return plan.grammar(request.ebnf, Grammar.from_json_schema)
        except RecursionError:  # the converter recurses per level (the body's depth is capped)
            raise InvalidRequest(
                "a tool's parameters schema nests too deeply to convert", param="tools"
            ) from None

    def start(self, request: Request) -> tuple[Generation, Shaper]:
        """Tokenize, check the budget, compile the grammar and queue the generation."""
        engine = self.engine
        ids = self.prompt(request)
        params = request.params(
            prompt_tokens=len(ids),
            max_model_len=engine.config.max_model_len,
            max_n=engine.config.max_n,
        )
        size = engine.loaded.vocab_size
        bad = next((t for t, _ in params.logit_bias if t >= size), None)
        if bad is not None:
            raise InvalidRequest(
                f"logit_bias token id {bad} is outside the vocabulary (0..{size - 1})",
                param="logit_bias",
            )
        generation = engine.submit(ids, grammar=self.grammar(request), params=params)
        shaper = Shaper(
            chat=request.chat,
            model=self.model_id,
            tokenizer=engine.tokenizer,
            logprobs=request.logprobs,
            top_logprobs=request.top_logprobs,
            tools=request.tools,
        )
        return generation, shaper


def error_answer(exc: BaseException, *, chat: bool = False) -> ErrorAnswer:
    """How ``exc`` is reported: status, and a body in OpenAI's error shape."""
    if isinstance(exc, InvalidRequest):
        return ErrorAnswer(
            exc.status, error_body(str(exc), status=exc.status, code=exc.code, param=exc.param)
        )
    if isinstance(exc, GrammarError):
        return ErrorAnswer(
            400,
            error_body(
                f"invalid grammar: {exc}",
                status=400,
                code="invalid_grammar",
                param="ebnf",
                diagnostics=[d.to_dict() for d in exc.diagnostics],
            ),
        )
    if isinstance(exc, ContextLengthExceeded):
        return ErrorAnswer(
            400,
            error_body(
                str(exc),
                status=400,
                code="context_length_exceeded",
                param="messages" if chat else "prompt",
            ),
        )
    if isinstance(exc, TokenizerError):
        return ErrorAnswer(
            400,
            error_body(
                str(exc), status=400, code="invalid_request", param="messages" if chat else "prompt"
            ),
        )
    if isinstance(exc, EngineError):
        return ErrorAnswer(500, error_body(str(exc), status=500, code="engine_error"))
    logger.error("internal error", exc_info=exc)
    return ErrorAnswer(
        500, error_body(f"internal error: {type(exc).__name__}", status=500, code="internal_error")
    )
