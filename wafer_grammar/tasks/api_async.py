"""The tasks' asyncio API (``aclassify``, ``aextract_full``, ``aextract``, ...), written once.

:mod:`wafer_grammar.tasks.api_sync` (``classify``, ``extract_full``, ``extract``, ...) is
generated from this file by unasync (``make sync-client``; a test fails when it is
stale). Each task's body is a generator of steps
(:mod:`wafer_grammar.tasks.steps`); this module only drives it with a client.
Docstrings here are written for both APIs.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from wafer_grammar.decoding.distribution import LabelDistribution
from wafer_grammar.decoding.partial import astream_texts
from wafer_grammar.errors import PricingUnavailable
from wafer_grammar.tasks.classification import Classification, classification_steps
from wafer_grammar.tasks.concurrency import amap_limited
from wafer_grammar.tasks.extraction import (
    DEFAULT_MAX_TOKENS,
    RETRY,
    Extraction,
    budgets,
    decode_attempt,
    extraction_options,
    extraction_request,
    extraction_steps,
)
from wafer_grammar.tasks.extraction_stream import ExtractionUpdate, StreamedViews
from wafer_grammar.tasks.label_trie import label_distribution_steps
from wafer_grammar.tasks.progress import Progress, make_progress
from wafer_grammar.tasks.steps import AskProfile, Complete, Many, Steps, price_all

if TYPE_CHECKING:
    from wafer_grammar.client import AsyncWaferClient
    from wafer_grammar.client.types import Completion

T = TypeVar("T")


async def arun_steps(steps: Steps[T], client: AsyncWaferClient, *, progress: bool = False) -> T:
    """Drive a task's steps to its value with ``client``.

    ``progress``: show a bar on stderr over the caller's items (a ``Many`` marked
    long-running), with the running cost.
    """
    result: Any = None
    while True:
        try:
            step = steps.send(result)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        if isinstance(step, Complete):
            result = await client.completions(step.model, step.prompt, **step.options)
        elif isinstance(step, Many):
            bar = make_progress(len(step.bodies), enabled=progress and step.long_running)

            async def run_one(body: Steps[Any], bar: Progress = bar) -> Any:
                value = await arun_steps(body, client)
                cost = getattr(value, "cost", None)
                bar.advance(cost.total_cents if cost is not None else 0.0)
                return value

            try:
                result = await amap_limited(run_one, step.bodies, step.limit)
            finally:
                bar.close()
        elif isinstance(step, AskProfile):
            result = client.profile
        else:
            try:
                result = await client.cost(step.answer)
            except PricingUnavailable:
                result = None


# A str is also a Sequence[str]: the first overload wins for it, as intended.
@overload
async def aclassify(  # type: ignore[overload-overlap]
    text_or_texts: str,
    labels: Sequence[str],
    *,
    model: str,
    client: AsyncWaferClient | None = ...,
    instructions: str | None = ...,
    orders: int = ...,
    base_url: str | None = ...,
    concurrency: int = ...,
    method: str = ...,
    calibrate: bool = ...,
    progress: bool | None = ...,
) -> Classification: ...
@overload
async def aclassify(
    text_or_texts: Sequence[str],
    labels: Sequence[str],
    *,
    model: str,
    client: AsyncWaferClient | None = ...,
    instructions: str | None = ...,
    orders: int = ...,
    base_url: str | None = ...,
    concurrency: int = ...,
    method: str = ...,
    calibrate: bool = ...,
    progress: bool | None = ...,
) -> list[Classification]: ...
async def aclassify(
    text_or_texts: str | Sequence[str],
    labels: Sequence[str],
    *,
    model: str,
    client: AsyncWaferClient | None = None,
    instructions: str | None = None,
    orders: int = 1,
    base_url: str | None = None,
    concurrency: int = 1,
    method: str = "auto",
    calibrate: bool = False,
    progress: bool | None = None,
) -> Classification | list[Classification]:
    """Label one text (or each of several) with exactly one of ``labels``.

    Parameters:
        text_or_texts: a text, or a sequence of texts (one result each, in order).
        labels: the choice set, in the order the prompt lists them.
        model: the model ID (the embedded engine serves ``SmolLM2-135M-Instruct``).
        client: the client to send with. None: the backend rule of
            :mod:`wafer_grammar.tasks.backend` (``base_url``, else Wafer when
            ``$WAFER_API_KEY`` is set, else the embedded engine, started for this call).
        instructions: replaces the default instruction line (labels are still listed).
        orders: label orders to try per text (rotations, 1 to ``len(labels)``): with
            more than one, probabilities are averaged and ``position_spread`` says
            how much the order moved them.
        base_url: a compatible server to use when ``client`` is None.
        concurrency: texts in flight at once (results keep the input order, and
            equal the sequential ones).
        method: ``"exact"`` (walk the label trie: exact for any label set),
            ``"first-token"`` (one request per text: exact when the labels' first
            tokens differ), or ``"auto"`` (exact only when the first tokens do not decide).
        calibrate: divide out the label prior the model shows on content-free inputs
            ("", "N/A", "[MASK]"), then renormalise (contextual calibration; see
            :func:`~wafer_grammar.tasks.classification.calibrated`).
        progress: a progress bar on stderr over the texts (done, rate, ETA, cost);
            None: on when stderr is a terminal and there is more than one text.

    Returns:
        A :class:`Classification`, or a list of them for a sequence of texts.

    Raises:
        InvalidLabels: empty or duplicate labels. ValueError: a bad ``orders``.
        APIError: the request failed after retries. DecodeError: an unusable answer.

    Warns:
        LabelDesignWarning: labels that share a first token, or one that is a prefix
        of another (the first generated token no longer decides).
    """
    texts = [text_or_texts] if isinstance(text_or_texts, str) else list(text_or_texts)
    steps = classification_steps(
        texts,
        labels,
        model=model,
        instructions=instructions,
        orders=orders,
        concurrency=concurrency,
        method=method,
        calibrate=calibrate,
    )
    show = sys.stderr.isatty() if progress is None else progress
    if client is None:
        from wafer_grammar.tasks.backend import open_async_client

        async with open_async_client(base_url, announce=True) as (opened, _):
            results = await arun_steps(steps, opened, progress=show)
    else:
        results = await arun_steps(steps, client, progress=show)
    return results[0] if isinstance(text_or_texts, str) else results


async def alabel_distribution(
    client: AsyncWaferClient,
    model: str,
    prompt: Sequence[int] | Any,
    labels: Sequence[str],
    *,
    method: str = "exact",
    top_logprobs: int = 20,
) -> LabelDistribution:
    """The probability of each label as the model's next answer after ``prompt``.

    Parameters:
        client: the client to send with (its profile says whether the server's
            logprobs are grammar-masked).
        model: the model ID.
        prompt: token IDs, or a ``Prompt`` (``.ids``), ending where the label begins.
        labels: the choice set.
        method: ``"exact"`` walks the label trie, one ``max_tokens=1`` request per
            branching node, all of a depth at once (see
            :mod:`wafer_grammar.tasks.label_trie`); ``"first-token"`` is one request,
            exact only when the labels' first tokens differ (``method`` says which).
        top_logprobs: alternatives asked per step (20 is the OpenAI ceiling).

    Raises:
        InvalidLabels, LogprobsMissing, UnmaskedLogprobs, APIError.
    """
    ids = list(getattr(prompt, "ids", prompt))
    steps = label_distribution_steps(
        model,
        ids,
        labels,
        tokenizer=client.tokenizers.get(model),
        method=method,
        top_logprobs=top_logprobs,
        masked=client.profile.masks_logprobs,
    )
    return await arun_steps(steps, client)


async def aextract_full(
    text: str,
    schema_or_model: Any,
    *,
    model: str,
    client: AsyncWaferClient | None = None,
    instructions: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    base_url: str | None = None,
) -> Extraction:
    """The extraction of ``text`` with its answers and costs (see the value-only variant).

    Parameters:
        text: the document.
        schema_or_model: a JSON Schema (dict) or a pydantic v2 model class.
        model: the model ID.
        client: the client to send with; None: the backend rule of
            :mod:`wafer_grammar.tasks.backend` (as for classification).
        instructions: replaces the default instruction line (the schema is still shown).
        max_tokens: the first budget; after a truncation one retry gets 4 times it.
        base_url: a compatible server to use when ``client`` is None.

    Raises:
        TruncatedOutput: truncated twice. SchemaViolation / ModelValidationFailed:
        the value breaks a constraint the grammar could not enforce.
        UnsupportedSchema: a schema keyword the grammar cannot enforce. APIError.
    """
    steps = extraction_steps(
        text, schema_or_model, model=model, instructions=instructions, max_tokens=max_tokens
    )
    if client is None:
        from wafer_grammar.tasks.backend import open_async_client

        async with open_async_client(base_url, announce=True) as (opened, _):
            return await arun_steps(steps, opened)
    return await arun_steps(steps, client)


async def aextract(
    text: str,
    schema_or_model: Any,
    *,
    model: str,
    client: AsyncWaferClient | None = None,
    instructions: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    base_url: str | None = None,
) -> Any:
    """Extract a value matching ``schema_or_model`` from ``text``.

    The parameters and errors are those of the ``extract_full`` variant.

    Returns:
        A dict (or other JSON value) valid under the schema, or a model instance.
    """
    found = await aextract_full(
        text,
        schema_or_model,
        model=model,
        client=client,
        instructions=instructions,
        max_tokens=max_tokens,
        base_url=base_url,
    )
    return found.value


async def aextract_stream(
    text: str,
    schema_or_model: Any,
    *,
    model: str,
    client: AsyncWaferClient | None = None,
    instructions: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    base_url: str | None = None,
) -> AsyncIterator[ExtractionUpdate]:
    """Extract as ``extract_full`` does, streamed: the value so far as the answer arrives.

    Each update's ``value`` is a prefix-consistent view (keys appear once named,
    strings grow, numbers and literals appear once complete); the last update is
    ``done``, with the validated value and its :class:`Extraction`. Every chunk is
    checked against the schema's grammar as it lands. The parameters and errors
    are those of ``extract_full``; ConstraintViolation at the first chunk outside
    the grammar (the stream is closed, no more tokens are paid for).
    """
    if client is None:
        from wafer_grammar.tasks.backend import open_async_client

        async with open_async_client(base_url, announce=True) as (opened, _):
            async for each in aextract_stream(
                text,
                schema_or_model,
                model=model,
                client=opened,
                instructions=instructions,
                max_tokens=max_tokens,
            ):
                yield each
        return
    target, ids = extraction_request(
        text, schema_or_model, model=model, instructions=instructions, max_tokens=max_tokens
    )
    views = StreamedViews()
    answers: list[Completion] = []
    for budget in budgets(max_tokens):
        options = extraction_options(target, budget)
        async with await client.stream_completions(model, ids, **options) as stream:
            async for piece in astream_texts(stream):
                update = views.feed(piece)
                if update is not None:
                    yield update
            answers.append(await stream.final())
        value = decode_attempt(answers, target)
        if value is RETRY:
            views.retry()
            continue
        costs = await arun_steps(price_all(answers), client)
        yield ExtractionUpdate(value, extraction=Extraction(value, tuple(answers), tuple(costs)))
        return
