"""GENERATED from :mod:`wafer_grammar.client.aio` by unasync; do not edit.

Edit that file and run ``make sync-client``; a test fails when this one is stale.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic

import httpx

from wafer_grammar.client import options as opts
from wafer_grammar.client.bounded import ErrorBody
from wafer_grammar.client.config import ClientConfig, Limits, Timeouts, resolve_config
from wafer_grammar.client.core import ClientCore, RequestSpec
from wafer_grammar.client.messages import Message, MessageEvent, thinking_enabled
from wafer_grammar.client.profiles import ServerProfile
from wafer_grammar.client.retry import RetryPolicy, RetryState
from wafer_grammar.client.sse import SSEDecoder
from wafer_grammar.client.stream import Assembler, ChunkT, ResultT
from wafer_grammar.client.transport import (
    give_up,
    httpx_limits,
    httpx_timeout,
    log_retry,
    status_error,
    transport_error,
)
from wafer_grammar.client.types import (
    ChatCompletion,
    ChatCompletionChunk,
    Completion,
    CompletionChunk,
    ModelCard,
    Usage,
)
from wafer_grammar.errors import APIError, NotFound

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from wafer_grammar.decoding.cost import Cost
    from wafer_grammar.tokenize.provider import TokenizerCache


class Stream(Generic[ChunkT, ResultT]):
    """A streamed answer: iterate it for its chunks; ``final()`` gives the whole answer.

    Close it (or use it as a context manager) when not iterating to the end, to free
    the connection.
    ``usage`` is set once the last chunk has arrived.
    """

    def __init__(
        self,
        response: httpx.Response,
        assembler: Assembler[ChunkT, ResultT],
        client: WaferClient,
        spec: RequestSpec,
    ) -> None:
        self._response = response
        self._assembler: Assembler[ChunkT, ResultT] = assembler
        self._client = client
        self._spec = spec
        self._chunks = self._iterate()

    @property
    def request_id(self) -> str | None:
        return self._assembler.request_id

    @property
    def usage(self) -> Usage | None:
        return self._assembler.usage

    def __iter__(self) -> Iterator[ChunkT]:
        return self

    def __next__(self) -> ChunkT:
        return self._chunks.__next__()

    def _iterate(self) -> Generator[ChunkT, None]:
        decoder = SSEDecoder()
        try:
            for raw in self._response.iter_bytes():
                for data in decoder.feed(raw):
                    chunk = self._assembler.event(data)
                    if chunk is not None:
                        yield chunk
            for data in decoder.close():
                chunk = self._assembler.event(data)
                if chunk is not None:
                    yield chunk
            self._assembler.end()
        except httpx.TransportError as exc:
            error = transport_error(self._client.config, self._spec, exc)
            error.request_id = error.request_id or self.request_id
            raise error from exc
        finally:
            self._response.close()

    def final(self) -> ResultT:
        """Read the rest of the stream; the whole answer, as the non-streamed call gives it."""
        for _ in self:
            pass
        return self._client._core.finished(self._spec, self._assembler.result())

    def close(self) -> None:
        self._chunks.close()
        self._response.close()

    def __enter__(self) -> Stream[ChunkT, ResultT]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WaferClient:
    """A client for Wafer's OpenAI-compatible API (or the embedded local server).

    ``with WaferClient() as client: client.completions("GLM-5.1", ids, grammar=g)``;
    the asyncio twin is used the same way with ``async with`` and ``await``.

    Parameters:
        base_url: API root (default ``$WAFER_BASE_URL``, else ``https://pass.wafer.ai/v1``).
        api_key: default ``$WAFER_API_KEY``; never shown in reprs, logs or errors.
        timeout: seconds for every phase, or a :class:`Timeouts`.
        retry: a :class:`RetryPolicy` (default: 3 retries, exponential backoff, jitter).
        limits: connection-pool sizes.
        headers: extra headers for every request.
        zdr: send ``Wafer-ZDR: required`` on every inference request.
        tokenize_text: encode text prompts locally (Wafer takes token IDs only).
        server: the server's profile: ``"wafer"`` (default), ``"sglang"``, ``"vllm"``,
            ``"llamacpp"`` (each takes the grammar in its own field), or ``"auto"``
            (``/v1/models`` says); see :mod:`wafer_grammar.client.profiles`.
        transport: an httpx transport (``httpx.BaseTransport``, or
            ``httpx.AsyncBaseTransport`` for the asyncio client): the seam for
            tests, proxies, recording.
        config: a whole :class:`ClientConfig` instead of the keywords above.
        tokenizers: where text prompts' tokenizers come from (default: the process's
            shared :class:`~wafer_grammar.tokenize.provider.TokenizerCache`).
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: Timeouts | float | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        headers: Mapping[str, str] | None = None,
        zdr: bool = False,
        tokenize_text: bool = True,
        server: str = "wafer",
        transport: httpx.BaseTransport | None = None,
        config: ClientConfig | None = None,
        tokenizers: TokenizerCache | None = None,
    ) -> None:
        self.config = config or resolve_config(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            retry=retry,
            limits=limits,
            headers=headers,
            zdr=zdr,
            tokenize_text=tokenize_text,
            server=server,
        )
        if tokenizers is None:
            from wafer_grammar.tokenize.provider import shared_tokenizers

            tokenizers = shared_tokenizers()
        self._core = ClientCore(self.config, tokenizers)
        self._http = httpx.Client(
            transport=transport,
            limits=httpx_limits(self.config.limits),
            timeout=httpx_timeout(self.config.timeouts),
        )

    @property
    def tokenizers(self) -> TokenizerCache:
        """Where this client's tokenizers come from (text prompts, chat grammars)."""
        return self._core.tokenizers

    @property
    def profile(self) -> ServerProfile:
        """The server profile requests are shaped for."""
        return self._core.profile

    def __repr__(self) -> str:
        key = "<set>" if self.config.api_key else "None"
        return f"<{type(self).__name__} base_url={self.config.base_url!r} api_key={key}>"

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def __enter__(self) -> WaferClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending ------------------------------------------------------------------------

    def _send(self, spec: RequestSpec) -> httpx.Response:
        """One call with retries: a response with status < 400 (body read unless streaming)."""
        config = self.config
        state = RetryState(config.retry)
        headers = self._core.headers(spec)
        timeout = httpx_timeout(spec.timeouts) if spec.timeouts else None
        attempt = 0
        while True:
            attempt += 1
            error: APIError
            cause: BaseException | None = None
            request = self._http.build_request(
                spec.method,
                self._core.url(spec),
                content=spec.body,
                headers=headers,
                timeout=timeout or httpx.USE_CLIENT_DEFAULT,
            )
            try:
                # Always streamed, so that an error body is read only up to a bound (below).
                # A whole answer is read here: a cut body raises, as retryable as no answer.
                response = self._http.send(request, stream=True)
                if response.is_success and not spec.stream:
                    response.read()
            except httpx.TransportError as exc:
                error, cause = transport_error(config, spec, exc), exc
            else:
                if response.is_success:
                    return response  # a stream is read and closed by its Stream
                body = ErrorBody(response.headers)
                try:
                    for chunk in response.iter_bytes():
                        if body.feed(chunk):
                            break  # the rest is never downloaded
                except httpx.TransportError:
                    pass  # the status alone still says what failed
                finally:
                    response.close()
                error = status_error(config, response.status_code, response.headers, body)
            delay = state.delay_for(error)
            if delay is None:
                raise give_up(error, attempt) from cause
            log_retry(spec, error, attempt, delay, config.retry.max_retries)
            time.sleep(delay)

    # -- models -------------------------------------------------------------------------

    def models(self, *, refresh: bool = False) -> list[ModelCard]:
        """The ``/v1/models`` cards, fetched once per client (``refresh=True`` refetches)."""
        cached = self._core.cards()
        if cached is not None and not refresh:
            return cached
        response = self._send(self._core.models_spec())
        return self._core.store_cards(response.content, response.headers, response.status_code)

    def model(self, model: str) -> ModelCard:
        """One model's card.

        Raises:
            NotFound: the model is not in ``/v1/models`` (IDs are case-sensitive).
        """
        self.models()
        card = self._core.card(model)
        if card is None:
            known = ", ".join(c.id for c in self.models())
            raise NotFound(f"model {model!r} is not in /v1/models; known models: {known}")
        return card

    # -- inference ----------------------------------------------------------------------

    def _spec(
        self,
        method: str,
        model: str,
        payload: Any,
        options: Mapping[str, Any],
        *,
        chat: bool,
        stream: bool,
    ) -> RequestSpec:
        sampling, rest = opts.split(
            method, options, opts.CHAT_KEYS if chat else opts.COMPLETION_KEYS
        )
        if self._core.needs_cards(rest):
            self.models()
        if chat:
            return self._core.chat_spec(model, payload, sampling=sampling, stream=stream, **rest)
        return self._core.completion_spec(model, payload, sampling=sampling, stream=stream, **rest)

    def completions(
        self,
        model: str,
        prompt: str | Sequence[int] | Any,
        **options: Unpack[opts.CompletionOptions],
    ) -> Completion:
        """``POST /v1/completions``: a token-ID (or text) prompt, optionally grammar-constrained.

        Parameters:
            model: the model ID (case-sensitive).
            prompt: token IDs, a ``Prompt``, or text (encoded with the model's tokenizer).
            options: ``grammar`` and the request table (see :class:`CompletionOptions`).

        Raises:
            BadRequest, GrammarRejected, ContextLengthExceeded, ZDRUnsupported,
            AuthenticationFailed, NotFound, RateLimited, ServerError, RequestTimeout,
            ConnectionFailed, MalformedResponse (all :class:`APIError` but the local ones).
        """
        spec = self._spec("completions", model, prompt, options, chat=False, stream=False)
        response = self._send(spec)
        answer = self._core.parse_answer(
            spec, response.content, response.headers, response.status_code
        )
        assert isinstance(answer, Completion)
        return answer

    def stream_completions(
        self,
        model: str,
        prompt: str | Sequence[int] | Any,
        **options: Unpack[opts.CompletionOptions],
    ) -> Stream[CompletionChunk, Completion]:
        """As :meth:`completions`, streamed: iterate the chunks; ``final()`` gives the answer."""
        spec = self._spec("stream_completions", model, prompt, options, chat=False, stream=True)
        response = self._send(spec)
        assembler = self._core.assembler(spec, response.headers)
        return Stream(response, assembler, self, spec)  # type: ignore[arg-type]

    def chat(
        self, model: str, messages: Sequence[Mapping[str, Any]], **options: Unpack[opts.ChatOptions]
    ) -> ChatCompletion:
        """``POST /v1/chat/completions``; reasoning arrives in ``message.reasoning_content``
        (inline ``<think>`` blocks are split out for models that reason inline)."""
        spec = self._spec("chat", model, messages, options, chat=True, stream=False)
        response = self._send(spec)
        answer = self._core.parse_answer(
            spec, response.content, response.headers, response.status_code
        )
        assert isinstance(answer, ChatCompletion)
        return answer

    def stream_chat(
        self, model: str, messages: Sequence[Mapping[str, Any]], **options: Unpack[opts.ChatOptions]
    ) -> Stream[ChatCompletionChunk, ChatCompletion]:
        """As :meth:`chat`, streamed (a tool call arrives whole in one chunk on Wafer)."""
        spec = self._spec("stream_chat", model, messages, options, chat=True, stream=True)
        response = self._send(spec)
        assembler = self._core.assembler(spec, response.headers)
        return Stream(response, assembler, self, spec)  # type: ignore[arg-type]

    def _messages_spec(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int,
        stream: bool,
        options: Mapping[str, Any],
    ) -> RequestSpec:
        for name in options:
            if name not in opts.MESSAGES_KEYS:
                method = "stream_messages" if stream else "messages"
                raise TypeError(f"{method}() got an unexpected keyword argument {name!r}")
        thinking_enabled(options.get("thinking"))  # a bad shape is refused before any request
        if self._core.needs_cards(options):
            self.models()
        return self._core.messages_spec(
            model, messages, max_tokens=max_tokens, stream=stream, **options
        )

    def messages(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int,
        **options: Unpack[opts.MessagesOptions],
    ) -> Message:
        """``POST /v1/messages``: Anthropic's Messages API (Wafer's Anthropic-compatible
        endpoint, or the embedded server's).

        Parameters:
            model: the model ID (case-sensitive).
            messages: ``{"role": "user" | "assistant", "content": str | blocks}`` dicts.
            max_tokens: most tokens to generate (required, as Anthropic requires it).
            options: ``system``, ``stop_sequences``, ``temperature``, ``top_p``, ``top_k``,
                ``thinking`` (False or ``{"type": "disabled"}``; an enabled one for models
                that reason), ``zdr``, ``timeout``, ``extra_body`` (see :class:`MessagesOptions`).

        Returns:
            A :class:`Message`: ``content`` blocks (``.text`` joins them), ``stop_reason``,
            ``usage.input_tokens`` / ``usage.output_tokens``.

        Raises:
            BadRequest, ThinkingUnsupported, and every :class:`APIError` :meth:`chat` raises.
        """
        spec = self._messages_spec(model, messages, max_tokens, False, options)
        response = self._send(spec)
        return self._core.parse_message(response.content, response.headers, response.status_code)

    def stream_messages(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        max_tokens: int,
        **options: Unpack[opts.MessagesOptions],
    ) -> Stream[MessageEvent, Message]:
        """As :meth:`messages`, streamed: iterate the events (``event.text`` is the text a
        ``content_block_delta`` adds); ``final()`` gives the whole :class:`Message`."""
        spec = self._messages_spec(model, messages, max_tokens, True, options)
        response = self._send(spec)
        assembler = self._core.assembler(spec, response.headers)
        return Stream(response, assembler, self, spec)  # type: ignore[arg-type]

    def cost(self, answer: Completion | ChatCompletion) -> Cost:
        """What ``answer`` cost: its usage at its model's card pricing."""
        from wafer_grammar.decoding.cost import cost_of

        return cost_of(answer, self.model(answer.model))
