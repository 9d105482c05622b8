"""Stream assembly, sans-I/O: event data in, typed chunks out, and the whole answer at the end.

A stream's folded result equals the non-streamed answer (same text, same
usage), so code can switch between the two freely.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from wafer_grammar.client import parse
from wafer_grammar.client.errmap import error_from_response
from wafer_grammar.client.reasoning import ThinkSplitter
from wafer_grammar.client.sse import DONE
from wafer_grammar.client.types import (
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
    TokenLogprob,
    ToolCall,
    Usage,
)
from wafer_grammar.errors import ConnectionFailed, MalformedResponse

if TYPE_CHECKING:
    from wafer_grammar.client.messages import Message, MessageEvent
    from wafer_grammar.client.stream_check import StreamGuard

ChunkT = TypeVar("ChunkT", bound="CompletionChunk | ChatCompletionChunk | MessageEvent")
ResultT = TypeVar("ResultT", bound="Completion | ChatCompletion | Message")


# An error event names no status; its type says which one it stands for.
_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "overloaded_error": 503,
}


@dataclass
class _Choice:
    text: str = ""
    reasoning: str = ""
    saw_reasoning: bool = False
    logprobs: list[TokenLogprob] = field(default_factory=list)
    saw_logprobs: bool = False
    finish_reason: str | None = None
    matched_stop: int | str | None = None
    role: str = "assistant"
    tools: list[ToolCall] = field(default_factory=list)


class Assembler(Generic[ChunkT, ResultT]):
    """Folds a stream's events; subclasses know the endpoint's chunk shape."""

    def __init__(self, *, secret: str | None, request_id: str | None) -> None:
        self.secret = secret
        self.request_id = request_id
        self.id = ""
        self.model = ""
        self.created: int | None = None
        self.usage: Usage | None = None
        self.done = False
        self.choices: dict[int, _Choice] = {}
        #: Checks each choice's text as it lands (set when the request has a grammar).
        self.guard: StreamGuard | None = None

    def event(self, data: str) -> ChunkT | None:
        """The chunk in one event's data; None for ``[DONE]``.

        Raises:
            MalformedResponse: the event is not a JSON chunk.
            APIError: the server sent an error event mid-stream.
        """
        if data.strip() == DONE:
            self.done = True
            return None
        doc = self._load(data)
        chunk = parse.shaped(
            self._parse,
            doc,
            what="stream chunk",
            request_id=self.request_id,
            status=200,
            secret=self.secret,
        )
        # OpenAI-shaped chunks only: the Messages assembler has its own event().
        head = cast("CompletionChunk | ChatCompletionChunk", chunk)
        self.id = self.id or head.id
        self.model = self.model or head.model
        self.created = self.created if self.created is not None else head.created
        if head.usage is not None:
            self.usage = head.usage
        folded = self._fold(chunk)
        if self.guard is not None:
            for index, text in self._texts(folded):
                self.guard.feed(index, text)
        return folded

    def _load(self, data: str) -> Any:
        """One event's JSON; an error event (OpenAI's or Anthropic's shape) is raised."""
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            raise MalformedResponse(
                f"a stream event is not JSON: {parse.quoted(data, self.secret)}",
                body=parse.excerpt(data, self.secret),
                request_id=self.request_id,
                status=200,
            ) from None
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            # An error after the 200 status line: map it as the answer it stands for.
            error = doc["error"]
            status = error.get("status")
            if not isinstance(status, int):
                status = _ERROR_STATUS.get(str(error.get("type")), 500)
            headers = {"x-request-id": self.request_id} if self.request_id else {}
            raise error_from_response(status, headers, data.encode(), secret=self.secret)
        return doc

    def end(self) -> None:
        """The connection ended: an answer without ``[DONE]`` is incomplete."""
        if not self.done:
            raise ConnectionFailed(
                "the stream ended before its [DONE] marker: the answer is incomplete",
                request_id=self.request_id,
                status=200,
            )

    def _choice(self, index: int) -> _Choice:
        return self.choices.setdefault(index, _Choice())

    def _parse(self, doc: Any) -> ChunkT:
        raise NotImplementedError

    def _fold(self, chunk: ChunkT) -> ChunkT:
        raise NotImplementedError

    def _texts(self, chunk: ChunkT) -> list[tuple[int, str]]:
        """The text each choice adds in ``chunk`` (what the grammar constrains)."""
        raise NotImplementedError

    def result(self) -> ResultT:
        raise NotImplementedError


class CompletionAssembler(Assembler[CompletionChunk, Completion]):
    def _parse(self, doc: Any) -> CompletionChunk:
        return parse.completion_chunk(doc)

    def _fold(self, chunk: CompletionChunk) -> CompletionChunk:
        for c in chunk.choices:
            slot = self._choice(c.index)
            slot.text += c.text
            if c.logprobs is not None:
                slot.saw_logprobs = True
                slot.logprobs.extend(c.logprobs.content)
            if c.finish_reason is not None:
                slot.finish_reason = c.finish_reason
                slot.matched_stop = c.matched_stop
        return chunk

    def _texts(self, chunk: CompletionChunk) -> list[tuple[int, str]]:
        return [(c.index, c.text) for c in chunk.choices]

    def result(self) -> Completion:
        return Completion(
            id=self.id,
            model=self.model,
            created=self.created,
            usage=self.usage,
            request_id=self.request_id,
            choices=tuple(
                CompletionChoice(
                    index=i,
                    text=s.text,
                    finish_reason=s.finish_reason,
                    logprobs=Logprobs(tuple(s.logprobs)) if s.saw_logprobs else None,
                    matched_stop=s.matched_stop,
                )
                for i, s in sorted(self.choices.items())
            ),
        )


class ChatAssembler(Assembler[ChatCompletionChunk, ChatCompletion]):
    """Also splits inline ``<think>`` blocks out of content when ``inline_reasoning``."""

    def __init__(
        self, *, secret: str | None, request_id: str | None, inline_reasoning: bool = False
    ) -> None:
        super().__init__(secret=secret, request_id=request_id)
        self.inline = inline_reasoning
        self.splitters: dict[int, ThinkSplitter] = {}

    def _parse(self, doc: Any) -> ChatCompletionChunk:
        return parse.chat_chunk(doc)

    def _fold(self, chunk: ChatCompletionChunk) -> ChatCompletionChunk:
        choices = [self._fold_choice(c) for c in chunk.choices]
        return replace(chunk, choices=tuple(choices))

    def _texts(self, chunk: ChatCompletionChunk) -> list[tuple[int, str]]:
        # The content only: reasoning (split out of inline <think> too) is not constrained.
        return [(c.index, c.delta.content or "") for c in chunk.choices]

    def _fold_choice(self, c: ChatChunkChoice) -> ChatChunkChoice:
        slot = self._choice(c.index)
        delta = c.delta
        if self.inline:
            delta = self._split(c.index, delta, final=c.finish_reason is not None)
        if delta.role:
            slot.role = delta.role
        if delta.content:
            slot.text += delta.content
        if self.inline and self.splitters[c.index].saw_reasoning:
            slot.saw_reasoning = True
        if delta.reasoning_content is not None:
            slot.saw_reasoning = True
            slot.reasoning += delta.reasoning_content
        for call in delta.tool_calls:
            _merge_tool_call(slot.tools, call)
        if c.logprobs is not None:
            slot.saw_logprobs = True
            slot.logprobs.extend(c.logprobs.content)
        if c.finish_reason is not None:
            slot.finish_reason = c.finish_reason
        return replace(c, delta=delta)

    def _split(self, index: int, delta: ChatDelta, *, final: bool) -> ChatDelta:
        splitter = self.splitters.setdefault(index, ThinkSplitter())
        reasoning, content = splitter.feed(delta.content or "")
        if final:
            more_reasoning, more_content = splitter.flush()
            reasoning += more_reasoning
            content += more_content
        given = delta.reasoning_content or ""
        return replace(
            delta, content=content or None, reasoning_content=(given + reasoning) or None
        )

    def result(self) -> ChatCompletion:
        choices = []
        for i, s in sorted(self.choices.items()):
            content: str | None = s.text
            if not s.text and s.tools:
                content = None  # a tool-only answer has null content, as non-streamed
            choices.append(
                ChatChoice(
                    index=i,
                    message=ChatMessage(
                        role=s.role,
                        content=content,
                        reasoning_content=s.reasoning if s.saw_reasoning else None,
                        tool_calls=tuple(s.tools),
                    ),
                    finish_reason=s.finish_reason,
                    logprobs=Logprobs(tuple(s.logprobs)) if s.saw_logprobs else None,
                )
            )
        return ChatCompletion(
            id=self.id,
            model=self.model,
            created=self.created,
            usage=self.usage,
            request_id=self.request_id,
            choices=tuple(choices),
        )


class CompletionChatAssembler(ChatAssembler):
    """A ``/v1/completions`` stream (a grammar-constrained chat) folded as a chat stream."""

    def _parse(self, doc: Any) -> ChatCompletionChunk:
        chunk = parse.completion_chunk(doc)
        return ChatCompletionChunk(
            id=chunk.id,
            model=chunk.model,
            usage=chunk.usage,
            created=chunk.created,
            choices=tuple(
                ChatChunkChoice(
                    index=c.index,
                    delta=ChatDelta(content=c.text or None),
                    finish_reason=c.finish_reason,
                    logprobs=c.logprobs,
                )
                for c in chunk.choices
            ),
        )


def chat_of_completion(completion: Completion) -> ChatCompletion:
    """A completion of a rendered chat prompt, in chat's shape (the text is the message)."""
    return ChatCompletion(
        id=completion.id,
        model=completion.model,
        created=completion.created,
        usage=completion.usage,
        request_id=completion.request_id,
        choices=tuple(
            ChatChoice(
                index=c.index,
                message=ChatMessage(role="assistant", content=c.text),
                finish_reason=c.finish_reason,
                logprobs=c.logprobs,
            )
            for c in completion.choices
        ),
    )


def _merge_tool_call(calls: list[ToolCall], call: ToolCall) -> None:
    """Add ``call``; a fragment of a call already seen (same index) extends its arguments.

    Wafer sends each tool call whole in one chunk; OpenAI-style servers send
    fragments, which this also assembles.
    """
    for i, known in enumerate(calls):
        if (
            call.index is not None
            and known.index == call.index
            and not (call.id and known.id and call.id != known.id)
        ):
            calls[i] = replace(
                known,
                id=known.id or call.id,
                function=FunctionCall(
                    known.function.name or call.function.name,
                    known.function.arguments + call.function.arguments,
                ),
            )
            return
    calls.append(call)
