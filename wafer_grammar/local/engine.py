"""The embedded engine: one model, one worker thread, requests batched continuously.

Every model call happens on the worker thread, so any number of threads (the
HTTP server's, or a user's) may submit at once. The worker decodes the choices
of all running requests together, one token each per step; requests join and
leave between steps (``scheduler.py``), and prompts sharing a start reuse its
cached KV states (``prefix_cache.py``).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from wafer_grammar.errors import InvalidRequest
from wafer_grammar.local.engine_config import EngineConfig
from wafer_grammar.local.engine_results import (
    EngineChoice,
    EngineCompletion,
    EngineDelta,
    EngineUsage,
)
from wafer_grammar.local.params import SamplingParams
from wafer_grammar.tokenize.budget import check_budget

if TYPE_CHECKING:
    from wafer_grammar.grammar import Grammar
    from wafer_grammar.local.generation import DecodeJob
    from wafer_grammar.local.grammars import GrammarCache
    from wafer_grammar.local.model import LoadedModel
    from wafer_grammar.local.scheduler import Scheduler
    from wafer_grammar.tokenize.tokenizer import Tokenizer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Done:
    generated: int
    cached_tokens: int


class Generation:
    """A submitted request: iterate it for its deltas as they are decoded.

    Iteration ends when every choice has finished; :attr:`usage` is then set.
    :meth:`cancel` stops decoding at the next step (a client went away);
    :attr:`done` is set once the engine is through with it (finished, failed or cut).
    """

    def __init__(self, job: DecodeJob, prompt_tokens: int) -> None:
        self.job = job
        self.prompt_tokens = prompt_tokens
        self.usage: EngineUsage | None = None
        self.done = threading.Event()
        self.admitted = False
        """Set by the worker when the request joins the batch."""
        self._items: queue.Queue[list[EngineDelta] | _Done | BaseException] = queue.Queue()

    def cancel(self) -> None:
        """Stop decoding this request (its iterator then ends early, at once when it
        was still waiting for room in the batch)."""
        self.job.cancelled.set()
        if not self.admitted:
            self.finish(0, 0)  # idempotent: if the worker admits it meanwhile, it is dropped

    # The worker's side (``scheduler.Submitted``).

    def deliver(self, deltas: list[EngineDelta]) -> None:
        """Hand over one step's deltas."""
        if not self.done.is_set():
            self._items.put(deltas)

    def finish(self, generated: int, cached_tokens: int) -> None:
        """The request is over (done or cancelled); later calls are ignored."""
        self._end(_Done(generated, cached_tokens))

    def fail(self, error: BaseException) -> None:
        """The request failed; ignored once it has finished."""
        self._end(error)

    def _end(self, item: _Done | BaseException) -> None:
        if not self.done.is_set():
            self.done.set()
            self._items.put(item)

    # The caller's side.

    def __iter__(self) -> Iterator[EngineDelta]:
        while True:
            item = self._items.get()
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, _Done):
                self.usage = EngineUsage(self.prompt_tokens, item.generated, item.cached_tokens)
                return
            yield from item

    def result(self) -> EngineCompletion:
        """Wait for the whole completion."""
        choices = [EngineChoice(index=i) for i in range(self.job.params.n)]
        for delta in self:
            choices[delta.index].add(delta)
        assert self.usage is not None
        return EngineCompletion(choices, self.usage, list(self.job.prompt_ids))


class Engine:
    """The embedded engine (SmolLM2-135M-Instruct + XGrammar) behind a Python API.

    ``Engine(config)`` is cheap; :meth:`start` (or ``with Engine() as engine:``)
    loads the model, ~2 s from the cache, ~17 s the first time.
    """

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self._loaded: LoadedModel | None = None
        self._grammars: GrammarCache | None = None
        self._jobs: queue.Queue[Generation | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._scheduler: Scheduler | None = None
        self._closing = False
        self._start_lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Engine:
        """Load the model and start the worker (idempotent)."""
        with self._start_lock:
            if self._worker is not None:
                return self
            from wafer_grammar.local.grammars import GrammarCache, tokenizer_info
            from wafer_grammar.local.model import load_model

            loaded = load_model(self.config)
            info = tokenizer_info(loaded.tokenizer, loaded.vocab_size, loaded.stop_token_ids)
            self._grammars = GrammarCache(info, size=self.config.grammar_cache_size)
            self._loaded = loaded
            logger.info(
                "loaded %s from %s in %.1f s%s",
                self.config.model_id,
                loaded.path,
                loaded.load_seconds,
                " (cached)" if loaded.from_cache else "",
            )
            self._worker = threading.Thread(
                target=self._work, name="wafer-grammar-engine", daemon=True
            )
            self._worker.start()
        return self

    def close(self, timeout: float | None = None) -> None:
        """Finish the requests already queued, then stop the worker; new ones are refused."""
        self._closing = True
        worker = self._worker
        if worker is not None and worker.is_alive():
            self._jobs.put(None)
            worker.join(timeout)

    def __enter__(self) -> Engine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def loaded(self) -> LoadedModel:
        """The loaded model (starting the engine if needed)."""
        if self._loaded is None:
            self.start()
        assert self._loaded is not None
        return self._loaded

    @property
    def tokenizer(self) -> Tokenizer:
        """The model's tokenizer (with its chat template)."""
        return self.loaded.tokenizer

    @property
    def grammars(self) -> GrammarCache:
        """The compiled-grammar cache."""
        self.loaded  # noqa: B018 - starts the engine
        assert self._grammars is not None
        return self._grammars

    # ------------------------------------------------------------ requests

    def compile(self, grammar: str | Grammar) -> Any:
        """The compiled grammar (cached by its exact EBNF text).

        Raises:
            GrammarError: Invalid grammar; ``.diagnostics`` carry line and column.
        """
        text = grammar if isinstance(grammar, str) else grammar.source or grammar.to_ebnf()
        return self.grammars.get(text)

    def prompt_ids(self, prompt: str | Sequence[int]) -> list[int]:
        """Token ids of a prompt given as text (control-token strings become control
        tokens, as servers tokenize) or as ids (checked against the vocabulary)."""
        if isinstance(prompt, str):
            ids = self.tokenizer.encode(prompt, allow_special=True)
        elif isinstance(prompt, Sequence) and all(
            isinstance(i, int) and not isinstance(i, bool) for i in prompt
        ):
            ids = [int(i) for i in prompt]
            size = self.loaded.vocab_size
            bad = next((i for i in ids if not 0 <= i < size), None)
            if bad is not None:
                raise InvalidRequest(
                    f"prompt token id {bad} is outside the vocabulary (0..{size - 1})",
                    param="prompt",
                )
        else:
            raise InvalidRequest("prompt must be a string or a list of token ids", param="prompt")
        if not ids:
            raise InvalidRequest("prompt is empty; give at least one token", param="prompt")
        return ids

    def submit(
        self,
        prompt: str | Sequence[int],
        *,
        grammar: str | Grammar | None = None,
        params: SamplingParams | None = None,
        compiled: Any = None,
    ) -> Generation:
        """Queue a request; iterate the returned :class:`Generation` for its deltas.

        Parameters:
            prompt: Token ids, or text (tokenized with the model's tokenizer).
            grammar: EBNF text or a :class:`Grammar`; every choice is in its language.
            params: Sampling parameters (default: :class:`SamplingParams`'s defaults).
            compiled: An already compiled grammar (instead of ``grammar``).

        Raises:
            InvalidRequest: Bad prompt ids, or the engine is shutting down (status 503).
            GrammarError: The grammar is invalid.
            ContextLengthExceeded: The prompt plus ``max_tokens`` does not fit the context.
        """
        from wafer_grammar.local.generation import DecodeJob

        if self._closing:
            raise InvalidRequest("the engine is shutting down", code="shutting_down", status=503)
        params = params or SamplingParams()
        ids = self.prompt_ids(prompt)
        check_budget(
            len(ids), max_tokens=params.max_tokens, max_model_len=self.config.max_model_len
        )
        if compiled is None and grammar is not None:
            compiled = self.compile(grammar)
        if self._jobs.qsize() >= self.config.max_queued:
            raise InvalidRequest(
                f"the engine is busy: {self.config.max_queued} requests are already "
                "waiting; retry shortly",
                code="rate_limit_exceeded",
                status=429,
            )
        generation = Generation(DecodeJob(ids, compiled, params), len(ids))
        self._jobs.put(generation)
        return generation

    def complete(
        self,
        prompt: str | Sequence[int],
        *,
        grammar: str | Grammar | None = None,
        params: SamplingParams | None = None,
        **sampling: Any,
    ) -> EngineCompletion:
        """Generate a whole completion (``sampling`` keywords build the params).

        ``engine.complete(ids, grammar='root ::= "yes" | "no"', max_tokens=4, temperature=0)``
        """
        if sampling:
            params = replace(params, **sampling) if params else SamplingParams(**sampling)
        return self.submit(prompt, grammar=grammar, params=params).result()

    def chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        grammar: str | Grammar | None = None,
        thinking: bool = False,
        params: SamplingParams | None = None,
        **sampling: Any,
    ) -> EngineCompletion:
        """Render ``messages`` with the model's chat template, then :meth:`complete`."""
        prompt = self.tokenizer.encode_chat(messages, thinking=thinking)
        return self.complete(prompt.ids, grammar=grammar, params=params, **sampling)

    # ------------------------------------------------------------ the worker

    @property
    def running(self) -> int:
        """Requests decoding now (admitted to the batch, not yet finished)."""
        scheduler = self._scheduler
        return len(scheduler.running) if scheduler is not None else 0

    @property
    def queued(self) -> int:
        """Requests waiting for room in the batch."""
        return self._jobs.qsize()

    def _work(self) -> None:
        from wafer_grammar.local.scheduler import Scheduler

        self._scheduler = Scheduler(self.loaded, self.config, self._jobs)  # type: ignore[arg-type]
        self._scheduler.run()
