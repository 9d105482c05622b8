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
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from wafer_grammar.client import logsafe, parse
from wafer_grammar.client import request_body as build
from wafer_grammar.client.config import USER_AGENT, ClientConfig, Timeouts
from wafer_grammar.client.errmap import request_id_of
from wafer_grammar.client.messages import (
    ANTHROPIC_VERSION,
    Message,
    MessageAssembler,
    messages_body,
    parse_message,
    thinking_enabled,
)
from wafer_grammar.client.profiles import PROFILES, ServerProfile, detect, profile_named
from wafer_grammar.client.reasoning import split_think
from wafer_grammar.client.reasoning_fields import REASONING_EFFORTS, Reasoning
from wafer_grammar.client.stream import (
    ChatAssembler,
    CompletionAssembler,
    CompletionChatAssembler,
    ResultT,
    chat_of_completion,
)
from wafer_grammar.client.types import ChatCompletion, Completion, ModelCard
from wafer_grammar.errors import (
    BadRequest,
    GrammarIgnored,
    OutputMismatch,
    TextUnjudgeable,
    ThinkingUnsupported,
    ZDRUnsupported,
)

if TYPE_CHECKING:
    from wafer_grammar.grammar import Grammar
    from wafer_grammar.tokenize.provider import TokenizerCache
    from wafer_grammar.tokenize.registry import ModelEntry
    from wafer_grammar.tokenize.tokenizer import Tokenizer

AnswerT = TypeVar("AnswerT", bound="Completion | ChatCompletion")

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
    grammar: Grammar | str | None = field(default=None, compare=False, repr=False)
    """The grammar the request carries: answers are checked against it."""
    user_stops: bool = False
    """The request sets ``stop``: a choice may end on a stop string, mid-member."""


class ClientCore:
    """Configuration, caches and the wire format, shared by both clients (thread-safe)."""

    def __init__(self, config: ClientConfig, tokenizers: TokenizerCache) -> None:
        self.config = config
        self.tokenizers = tokenizers
        self._cards: dict[str, ModelCard] | None = None
        self._profile: ServerProfile | None = (
            None if config.server == "auto" else profile_named(config.server)
        )
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
        if spec.kind == "messages":
            headers["anthropic-version"] = ANTHROPIC_VERSION
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
            if self._profile is None:
                self._profile = detect(data, headers) or PROFILES["wafer"]
        return cards

    @property
    def profile(self) -> ServerProfile:
        """The server's profile (``auto``: Wafer's until ``/v1/models`` says otherwise)."""
        return self._profile or PROFILES["wafer"]

    def card(self, model: str) -> ModelCard | None:
        """The cached card of ``model`` (exact ID, then case-insensitive)."""
        with self._lock:
            if self._cards is None:
                return None
            if model in self._cards:
                return self._cards[model]
            folded = [c for key, c in self._cards.items() if key.casefold() == model.casefold()]
            return folded[0] if len(folded) == 1 else None

    def needs_cards(self, options: Mapping[str, Any]) -> bool:
        """Whether the cards must be fetched before this call: the ZDR check and the
        reasoning check (a model whose card says it does not reason) read them."""
        if self.cards() is not None:
            return False
        if self._profile is None:
            return True  # server="auto": the cards say which server this is
        return self._zdr(options.get("zdr")) or _reasoning(options).enables()

    def reasons(self, model: str) -> bool | None:
        """Whether ``model`` can reason: its card's word, else the registry's, else None."""
        card = self.card(model)
        if card is not None:
            return card.capabilities.reasoning
        entry = self.entry(model)
        return None if entry is None else entry.reasoning != "none"

    # -- local knowledge ---------------------------------------------------------------

    def entry(self, model: str) -> ModelEntry | None:
        return self.tokenizers.entry(model)

    def tokenizer(self, model: str) -> Tokenizer:
        """The model's tokenizer, from the cache the client was given (for text prompts)."""
        return self.tokenizers.get(model)

    def _zdr(self, zdr: bool | None) -> bool:
        # A self-hosted server retains nothing for a third party: ZDR is moot there,
        # and its cards carry no zdr_supported to check.
        return self.profile.zdr and (self.config.zdr if zdr is None else zdr)

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
        sampling.check()  # before the budget check reads max_tokens
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
        body.update(self._grammar_fields(grammar))
        spec = self._finish(
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
        return replace(spec, grammar=grammar)

    def _grammar_fields(self, grammar: Grammar | str | None) -> dict[str, Any]:
        text = build.grammar_text(grammar)  # checks it is a Grammar or non-empty text
        if grammar is None or text is None:
            return {}
        return self.profile.grammar_body(grammar, text)  # the text rendered once

    def chat_spec(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        sampling: build.Sampling,
        stream: bool,
        grammar: Grammar | str | None = None,
        thinking: bool | Mapping[str, Any] | None = None,
        keep_thinking: bool | None = None,
        reasoning_effort: str | None = None,
        enable_thinking: bool | None = None,
        preserve_thinking: bool | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        parallel_tool_calls: bool | None = None,
        response_format: Any = None,
        zdr: bool | None = None,
        timeout: Timeouts | float | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> RequestSpec:
        """Check and build a chat request (raises as :meth:`completion_spec`, plus
        ThinkingUnsupported).

        With a ``grammar`` the messages are rendered here with the model's own chat
        template and sent to ``/v1/completions`` as token IDs with ``ebnf``: that is
        the route Wafer documents for constrained decoding. The answer comes back in
        chat's shape.
        """
        zdr_on = self._zdr(zdr)
        self._check_zdr(model, zdr_on)
        reasoning = Reasoning(
            thinking=thinking,
            keep_thinking=keep_thinking,
            preserve_thinking=preserve_thinking,
            enable_thinking=enable_thinking,
            reasoning_effort=reasoning_effort,
        )
        reasoning_body = reasoning.fields(model, reasons=self.reasons(model))
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
        inline = entry is not None and entry.reasoning == "inline"
        if grammar is not None and not self.profile.chat_grammar:
            return self._chat_through_completions(
                model,
                messages,
                sampling=sampling,
                stream=stream,
                grammar=grammar,
                thinking=reasoning.enables(),
                conflicts={"tools": tools, "response_format": response_format},
                zdr=zdr_on,
                timeout=timeout,
                extra_body=extra_body,
                inline=inline,
            )
        body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in messages]}
        body.update(sampling.body(chat=True))
        build.warn_stripped(model, sampling)
        body.update(reasoning_body)
        if tools is not None:
            body["tools"] = [dict(t) for t in tools]
        if tool_choice is not None:
            body["tool_choice"] = tool_choice if isinstance(tool_choice, str) else dict(tool_choice)
        if parallel_tool_calls is not None:
            if not isinstance(parallel_tool_calls, bool):
                raise BadRequest(
                    f"parallel_tool_calls must be true or false, not {parallel_tool_calls!r}",
                    param="parallel_tool_calls",
                )
            body["parallel_tool_calls"] = parallel_tool_calls
        response = build.response_format_body(response_format)
        if response is not None:
            body["response_format"] = response
        body.update(self._grammar_fields(grammar))
        spec = self._finish(
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
        return replace(spec, grammar=grammar)

    def _chat_through_completions(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        sampling: build.Sampling,
        stream: bool,
        grammar: Grammar | str,
        thinking: bool,
        conflicts: Mapping[str, Any],
        zdr: bool,
        timeout: Timeouts | float | None,
        extra_body: Mapping[str, Any] | None,
        inline: bool,
    ) -> RequestSpec:
        for name, value in conflicts.items():
            if value is not None:
                raise BadRequest(
                    f"{name} cannot be combined with grammar: a grammar-constrained chat is "
                    "sent to /v1/completions, where the grammar alone shapes the answer",
                    param=name,
                )
        prompt = self.tokenizer(model).encode_chat(messages, thinking=thinking)
        spec = self.completion_spec(
            model,
            prompt.ids,
            sampling=sampling,
            stream=stream,
            grammar=grammar,
            zdr=zdr,
            timeout=timeout,
            extra_body=extra_body,
        )
        return replace(spec, kind="chat_via_completions", inline_reasoning=inline)

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
            user_stops="stop" in body,
            stream=stream,
            zdr=zdr,
            timeouts=_timeouts(timeout),
            kind=kind,
            model=model,
            inline_reasoning=inline,
        )

    # -- Anthropic messages --------------------------------------------------------------

    def messages_spec(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int,
        stream: bool,
        zdr: bool | None = None,
        timeout: Timeouts | float | None = None,
        **fields: Any,
    ) -> RequestSpec:
        """Check and build a ``POST /v1/messages`` request (Anthropic's Messages API).

        Raises:
            BadRequest: a value the Messages API does not take (``.param`` names it).
            ZDRUnsupported, ThinkingUnsupported: as for chat.
        """
        zdr_on = self._zdr(zdr)
        self._check_zdr(model, zdr_on)
        if thinking_enabled(fields.get("thinking")) and self.reasons(model) is False:
            raise ThinkingUnsupported(
                f"model {model!r} does not reason (wafer.capabilities.reasoning is false): "
                "drop thinking, or pick a reasoning-capable model"
            )
        body = messages_body(model, messages, max_tokens=max_tokens, stream=stream, **fields)
        return RequestSpec(
            "POST",
            "/messages",
            body,
            stream=stream,
            zdr=zdr_on,
            timeouts=_timeouts(timeout),
            kind="messages",
            model=model,
        )

    def parse_message(self, body: bytes, headers: Mapping[str, str], status: int) -> Message:
        rid = request_id_of(headers, secret=self.secret)
        return parse_message(body, request_id=rid, status=status, secret=self.secret)

    # -- answers -------------------------------------------------------------------------

    def parse_answer(
        self, spec: RequestSpec, body: bytes, headers: Mapping[str, str], status: int
    ) -> Completion | ChatCompletion:
        rid = request_id_of(headers, secret=self.secret)
        what = spec.path.lstrip("/")
        data = parse.loads(body, what=what, request_id=rid, status=status, secret=self.secret)
        if spec.kind in ("completion", "chat_via_completions"):
            completion = parse.shaped(
                lambda d: parse.completion(d, rid),
                data,
                what=what,
                request_id=rid,
                status=status,
                secret=self.secret,
            )
            if spec.kind == "completion":
                return self.checked(spec, completion)
            chat = chat_of_completion(completion)
        else:
            chat = parse.shaped(
                lambda d: parse.chat_completion(d, rid),
                data,
                what=what,
                request_id=rid,
                status=status,
                secret=self.secret,
            )
        return self.checked(spec, split_inline(chat) if spec.inline_reasoning else chat)

    def checked(self, spec: RequestSpec, answer: AnswerT) -> AnswerT:
        """``answer``, once each choice that ended on its own is inside the request's grammar.

        Raises:
            GrammarIgnored: a choice ended with ``finish_reason: "stop"`` outside the
                grammar: the server took the grammar field but did not apply it.
        """
        if spec.grammar is None or spec.user_stops:
            return answer  # a user's stop sequence may cut a member short
        from wafer_grammar.grammar import Grammar

        grammar = spec.grammar
        if isinstance(grammar, str):
            grammar = Grammar.from_ebnf(grammar)
        for choice in answer.choices:
            if choice.finish_reason != "stop":
                continue
            text = choice.text
            try:
                if grammar.accepts(text):
                    continue
                grammar.parse(text)  # raises the mismatch: where, and what was expected
            except TextUnjudgeable:
                return answer  # token-level macros: no text check exists
            except OutputMismatch as exc:
                where = self.profile
                raise GrammarIgnored(exc, server=where.name, field=where.grammar_field) from None
        return answer

    def finished(self, spec: RequestSpec, answer: ResultT) -> ResultT:
        """A stream's folded answer, checked as :meth:`checked` checks (messages need none)."""
        if isinstance(answer, (Completion, ChatCompletion)):
            return cast("ResultT", self.checked(spec, answer))
        return answer

    def assembler(
        self, spec: RequestSpec, headers: Mapping[str, str]
    ) -> CompletionAssembler | ChatAssembler | MessageAssembler:
        """The stream's folder; with a grammar, it checks each chunk as it lands."""
        rid = request_id_of(headers, secret=self.secret)
        if spec.kind == "messages":
            return MessageAssembler(secret=self.secret, request_id=rid)
        folder: CompletionAssembler | ChatAssembler
        if spec.kind == "completion":
            folder = CompletionAssembler(secret=self.secret, request_id=rid)
        else:
            kind = ChatAssembler if spec.kind == "chat" else CompletionChatAssembler
            folder = kind(
                secret=self.secret, request_id=rid, inline_reasoning=spec.inline_reasoning
            )
        if spec.grammar is not None:
            # A user's stop sequence may cut a member short, never make it a non-prefix.
            from wafer_grammar.client.stream_check import StreamGuard

            folder.guard = StreamGuard(spec.grammar)
        return folder


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


def _reasoning(options: Mapping[str, Any]) -> Reasoning:
    """The reasoning keywords among a call's options."""
    names = ("thinking", "keep_thinking", "preserve_thinking", "enable_thinking")
    given = {k: options[k] for k in names if options.get(k) is not None}
    effort = options.get("reasoning_effort")
    if effort is not None and effort not in REASONING_EFFORTS:
        # refused before the cards are fetched to check it: no request for a typo
        raise BadRequest(
            f"reasoning_effort must be one of {', '.join(REASONING_EFFORTS)}, not {effort!r}",
            param="reasoning_effort",
        )
    return Reasoning(**given, reasoning_effort=effort)
