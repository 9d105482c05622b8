"""The sans-I/O core both clients drive: requests out as data, answers in as bytes.

A client (sync or async) only sends what :class:`ClientCore` builds, sleeps
what :class:`RetryState` says, and hands the bytes back here. Everything
else -- headers, bodies, local checks, caches, parsing -- lives here once.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from wafer_grammar.client import build, logsafe, parse
from wafer_grammar.client.config import USER_AGENT, ClientConfig, Timeouts
from wafer_grammar.client.errmap import request_id_of
from wafer_grammar.client.reasoning import split_think
from wafer_grammar.client.stream import ChatAssembler, CompletionAssembler
from wafer_grammar.client.types import ChatCompletion, Completion, ModelCard
from wafer_grammar.errors import BadRequest, ZDRUnsupported

if TYPE_CHECKING:
    from wafer_grammar.ebnf.grammar import Grammar
    from wafer_grammar.tokenize.registry import ModelEntry
    from wafer_grammar.tokenize.tokenizer import Tokenizer

logger = logging.getLogger("wafer_grammar.client")
logger.addHandler(logging.NullHandler())


@dataclass(frozen=True)
class RequestSpec:
    """One HTTP request to make, as data (no key inside: headers get it at send time)."""

    method: str
    path: str
    """Relative to the base URL: ``/models``, ``/completions``, ``/chat/completions``."""
    body: bytes | None = None
    stream: bool = False
    zdr: bool = False
    timeouts: Timeouts | None = None
    """Overrides the client's for this call."""
    kind: str = "models"
    """What the answer is: ``models``, ``completion`` or ``chat``."""
    model: str | None = None
    inline_reasoning: bool = False


class ClientCore:
    """Configuration, caches and the wire format, shared by both clients (thread-safe)."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self._cards: dict[str, ModelCard] | None = None
        self._tokenizers: dict[str, Tokenizer] = {}
        self._lock = threading.Lock()
        self.base_headers = {
            "user-agent": USER_AGENT,
            "accept": "application/json",
            **{k.lower(): v for k, v in config.headers.items()},
        }
        if config.api_key:
            self.base_headers["authorization"] = f"Bearer {config.api_key}"
        # httpx and httpcore log what servers send (headers at DEBUG): keep the key out
        logsafe.protect(config.api_key)

    @property
    def secret(self) -> str | None:
        return self.config.api_key

    def url(self, spec: RequestSpec) -> str:
        return self.config.base_url + spec.path

    def headers(self, spec: RequestSpec) -> dict[str, str]:
        headers = dict(self.base_headers)
        if spec.body is not None:
            headers["content-type"] = "application/json"
        if spec.stream:
            headers["accept"] = "text/event-stream"
        if spec.zdr:
            headers["wafer-zdr"] = "required"
        return headers

    # -- models -----------------------------------------------------------------------

    def models_spec(self, timeout: Timeouts | float | None = None) -> RequestSpec:
        return RequestSpec("GET", "/models", timeouts=_timeouts(timeout))

    def cards(self) -> list[ModelCard] | None:
        """The cached model list (None until fetched)."""
        with self._lock:
            return None if self._cards is None else list(self._cards.values())

    def store_cards(self, body: bytes, headers: Mapping[str, str], status: int) -> list[ModelCard]:
        rid = request_id_of(headers, secret=self.secret)
        data = parse.loads(
            body, what="/v1/models", request_id=rid, status=status, secret=self.secret
        )
        cards = parse.shaped(
            parse.model_list,
            data,
            what="/v1/models",
            request_id=rid,
            status=status,
            secret=self.secret,
        )
        with self._lock:
            self._cards = {card.id: card for card in cards}
        return cards

    def card(self, model: str) -> ModelCard | None:
        """The cached card of ``model`` (exact ID, then case-insensitive)."""
        with self._lock:
            if self._cards is None:
                return None
            if model in self._cards:
                return self._cards[model]
            folded = [c for key, c in self._cards.items() if key.casefold() == model.casefold()]
            return folded[0] if len(folded) == 1 else None

    def needs_cards(self, zdr: bool | None) -> bool:
        """Whether the cards must be fetched before this call (the ZDR check needs them)."""
        return self._zdr(zdr) and self.cards() is None

    # -- local knowledge ---------------------------------------------------------------

    def entry(self, model: str) -> ModelEntry | None:
        from wafer_grammar.tokenize.registry import default_registry

        return default_registry().get(model)

    def tokenizer(self, model: str) -> Tokenizer:
        """The model's tokenizer (loaded once per client, for text prompts)."""
        with self._lock:
            found = self._tokenizers.get(model)
        if found is None:
            from wafer_grammar.tokenize import load_tokenizer

            found = load_tokenizer(model)
            with self._lock:
                self._tokenizers[model] = found
        return found

    def _zdr(self, zdr: bool | None) -> bool:
        return self.config.zdr if zdr is None else zdr

    def _check_zdr(self, model: str, zdr: bool) -> None:
        if not zdr:
            return
        card = self.card(model)
        # A model missing from the list is left to the server (it answers 404).
        if card is not None and not card.zdr_supported:
            raise ZDRUnsupported(card.id)

    def _check_budget(self, model: str, prompt_len: int, max_tokens: int | None) -> None:
        card = self.card(model)
        if card is None or card.max_model_len is None or max_tokens is None:
            return
        from wafer_grammar.tokenize.budget import check_budget

        check_budget(prompt_len, max_tokens=max_tokens, max_model_len=card.max_model_len)

    # -- completions ---------------------------------------------------------------------

    def completion_spec(
        self,
        model: str,
        prompt: str | Sequence[int] | Any,
        *,
        sampling: build.Sampling,
        stream: bool,
        grammar: Grammar | str | None = None,
        zdr: bool | None = None,
        timeout: Timeouts | float | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> RequestSpec:
        """Check and build a ``/v1/completions`` request.

        Raises:
            BadRequest: a parameter no server accepts (``.param`` names it).
            ZDRUnsupported: ``zdr`` for a model without zero data retention.
            ContextLengthExceeded: the prompt plus ``max_tokens`` cannot fit.
        """
        zdr_on = self._zdr(zdr)
        self._check_zdr(model, zdr_on)
        body: dict[str, Any] = {"model": model}
        ids = build.prompt_ids(prompt)
        if ids is None and self.config.tokenize_text:
            # control-token text becomes control tokens, as servers tokenize text prompts
            ids = self.tokenizer(model).encode(str(prompt), allow_special=True)
        body["prompt"] = ids if ids is not None else prompt
        if ids is not None:
            self._check_budget(model, len(ids), sampling.max_tokens)
        body.update(sampling.body(chat=False))
        build.warn_stripped(model, sampling)
        ebnf = build.grammar_text(grammar)
        if ebnf is not None:
            body["ebnf"] = ebnf
        return self._finish(
            body,
            "/completions",
            "completion",
            model,
            stream,
            zdr_on,
            timeout,
            extra_body,
            inline=False,
        )

    def chat_spec(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        sampling: build.Sampling,
        stream: bool,
        grammar: Grammar | str | None = None,
        thinking: bool | None = None,
        reasoning_effort: str | None = None,
        enable_thinking: bool | None = None,
        preserve_thinking: bool | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        response_format: Any = None,
        zdr: bool | None = None,
        timeout: Timeouts | float | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> RequestSpec:
        """Check and build a ``/v1/chat/completions`` request (raises as :meth:`completion_spec`,
        plus ThinkingUnsupported)."""
        zdr_on = self._zdr(zdr)
        self._check_zdr(model, zdr_on)
        if (
            isinstance(messages, (str, bytes))
            or not isinstance(messages, Sequence)
            or (not messages)
        ):
            raise BadRequest("messages must be a non-empty list of messages", param="messages")
        for i, message in enumerate(messages):
            if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
                raise BadRequest(f'messages[{i}] must be an object with a "role"', param="messages")
        entry = self.entry(model)
        body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in messages]}
        body.update(sampling.body(chat=True))
        build.warn_stripped(model, sampling)
        kwargs = build.reasoning_kwargs(
            model,
            entry,
            thinking=thinking,
            enable_thinking=enable_thinking,
            preserve_thinking=preserve_thinking,
        )
        if kwargs:
            body["chat_template_kwargs"] = kwargs
        if reasoning_effort is not None:
            body["reasoning_effort"] = reasoning_effort
        if tools is not None:
            body["tools"] = [dict(t) for t in tools]
        if tool_choice is not None:
            body["tool_choice"] = tool_choice if isinstance(tool_choice, str) else dict(tool_choice)
        response = build.response_format_body(response_format)
        if response is not None:
            body["response_format"] = response
        ebnf = build.grammar_text(grammar)
        if ebnf is not None:
            body["ebnf"] = ebnf
        inline = entry is not None and entry.reasoning == "inline"
        return self._finish(
            body,
            "/chat/completions",
            "chat",
            model,
            stream,
            zdr_on,
            timeout,
            extra_body,
            inline=inline,
        )

    def _finish(
        self,
        body: dict[str, Any],
        path: str,
        kind: str,
        model: str,
        stream: bool,
        zdr: bool,
        timeout: Timeouts | float | None,
        extra_body: Mapping[str, Any] | None,
        *,
        inline: bool,
    ) -> RequestSpec:
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        if extra_body:
            body.update(extra_body)  # the escape hatch: fields this version does not know
        return RequestSpec(
            "POST",
            path,
            json.dumps(body, separators=(",", ":")).encode(),
            stream=stream,
            zdr=zdr,
            timeouts=_timeouts(timeout),
            kind=kind,
            model=model,
            inline_reasoning=inline,
        )

    # -- answers -------------------------------------------------------------------------

    def parse_answer(
        self, spec: RequestSpec, body: bytes, headers: Mapping[str, str], status: int
    ) -> Completion | ChatCompletion:
        rid = request_id_of(headers, secret=self.secret)
        what = spec.path.lstrip("/")
        data = parse.loads(body, what=what, request_id=rid, status=status, secret=self.secret)
        if spec.kind == "completion":
            return parse.shaped(
                lambda d: parse.completion(d, rid),
                data,
                what=what,
                request_id=rid,
                status=status,
                secret=self.secret,
            )
        chat = parse.shaped(
            lambda d: parse.chat_completion(d, rid),
            data,
            what=what,
            request_id=rid,
            status=status,
            secret=self.secret,
        )
        return split_inline(chat) if spec.inline_reasoning else chat

    def assembler(
        self, spec: RequestSpec, headers: Mapping[str, str]
    ) -> CompletionAssembler | ChatAssembler:
        rid = request_id_of(headers, secret=self.secret)
        if spec.kind == "completion":
            return CompletionAssembler(secret=self.secret, request_id=rid)
        return ChatAssembler(
            secret=self.secret, request_id=rid, inline_reasoning=spec.inline_reasoning
        )


def split_inline(chat: ChatCompletion) -> ChatCompletion:
    """``chat`` with inline ``<think>`` blocks moved to ``reasoning_content``."""
    choices = []
    for choice in chat.choices:
        message = choice.message
        if message.content is not None and message.reasoning_content is None:
            reasoning, content = split_think(message.content)
            message = replace(message, content=content, reasoning_content=reasoning)
        choices.append(replace(choice, message=message))
    return replace(chat, choices=tuple(choices))


def _timeouts(value: Timeouts | float | None) -> Timeouts | None:
    return None if value is None else Timeouts.of(value)
