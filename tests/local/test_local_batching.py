"""Continuous batching and the prefix cache: same outputs as decoding alone, fewer steps.

Each engine here has its own config (batch size, cache); they load the model from
the cache dir the session's server filled (~2 s each).
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from wafer_grammar.errors import InvalidRequest
from wafer_grammar.local import Engine, EngineConfig, SamplingParams
from wafer_grammar.local.engine_results import EngineCompletion
from wafer_grammar.local.pytest_fixtures import LocalServerHandle

NUMBERS = 'root ::= "[" num ("," num)* "]"\nnum ::= [1-9] [0-9]{0,3}'
PROMPTS = [
    "List some numbers:",
    "Write the first few prime numbers as a JSON array, please, and nothing else at all:",
    "Ages of my three cats:",
    "The years when the last five Olympic games were held, as a list:",
]


@pytest.fixture(scope="module")
def alone(local_server_session: LocalServerHandle) -> Iterator[Engine]:
    """Decodes one request at a time, with no prefix cache: the reference."""
    with Engine(EngineConfig(max_batch=1, prefix_cache_tokens=0)) as engine:
        yield engine


@pytest.fixture(scope="module")
def batched(local_server_session: LocalServerHandle) -> Iterator[Engine]:
    with Engine(EngineConfig(max_batch=8)) as engine:
        yield engine


def _texts(completion: EngineCompletion) -> list[tuple[str, str | None]]:
    return [(c.text, c.finish_reason) for c in completion.choices]


def _together(
    engine: Engine, prompts: list[str], params: list[SamplingParams]
) -> list[EngineCompletion]:
    """Submit every request before reading any, so they share the batch."""
    generations = [
        engine.submit(p, grammar=NUMBERS, params=q) for p, q in zip(prompts, params, strict=True)
    ]
    return [g.result() for g in generations]


def test_batched_outputs_equal_decoding_alone(alone: Engine, batched: Engine) -> None:
    params = [
        SamplingParams(max_tokens=12 + 5 * i, temperature=0, n=1 + i % 2)
        for i in range(len(PROMPTS))
    ]
    expected = [
        _texts(alone.complete(p, grammar=NUMBERS, params=q))
        for p, q in zip(PROMPTS, params, strict=True)
    ]
    assert [_texts(c) for c in _together(batched, PROMPTS, params)] == expected


def test_prefill_in_chunks_changes_nothing(
    alone: Engine, batched: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wafer_grammar.local import scheduler

    monkeypatch.setattr(scheduler, "PREFILL_CHUNK", 5)  # prompts of 6 to 20 tokens
    prompts = [f"Chunk by chunk. {p}" for p in PROMPTS]  # nothing cached starts so
    params = [SamplingParams(max_tokens=10, temperature=0) for _ in prompts]
    expected = [
        _texts(alone.complete(p, grammar=NUMBERS, params=q))
        for p, q in zip(prompts, params, strict=True)
    ]
    assert [_texts(c) for c in _together(batched, prompts, params)] == expected


def test_seeded_sampling_ignores_the_batch_it_shares(alone: Engine, batched: Engine) -> None:
    params = [SamplingParams(max_tokens=16, temperature=0.9, seed=7 + i, n=2) for i in range(3)]
    prompts = PROMPTS[:3]
    expected = [
        _texts(alone.complete(p, grammar=NUMBERS, params=q))
        for p, q in zip(prompts, params, strict=True)
    ]
    assert [_texts(c) for c in _together(batched, prompts, params)] == expected


def test_prefix_cache_hit_is_reported_and_changes_nothing(alone: Engine, batched: Engine) -> None:
    tokenizer = batched.tokenizer
    shared = tokenizer.encode("Classify the review as positive or negative. " * 8)
    first = shared + tokenizer.encode(" Review: great phone.")
    second = shared + tokenizer.encode(" Review: awful battery, broke in a week.")
    params = SamplingParams(max_tokens=4, temperature=0)
    grammar = 'root ::= "positive" | "negative"'
    cold = batched.complete(first, grammar=grammar, params=params)
    assert cold.usage.cached_tokens == 0
    warm = batched.complete(second, grammar=grammar, params=params)
    # The shared instructions, and the " Review:" that starts both endings.
    assert len(shared) <= warm.usage.cached_tokens < len(second)
    reference = alone.complete(second, grammar=grammar, params=params)
    assert _texts(warm) == _texts(reference) and reference.usage.cached_tokens == 0
    again = batched.complete(second, grammar=grammar, params=params)
    assert again.usage.cached_tokens == len(second) - 1  # the last token is always run


def test_cancelled_requests_leave_the_batch(batched: Engine) -> None:
    params = SamplingParams(max_tokens=400, temperature=0)
    long = [batched.submit("Tell me a long story.", params=params) for _ in range(3)]
    first = iter(long[0])
    next(first)  # all three are running
    for generation in long:
        generation.cancel()
    for generation in long:
        assert generation.done.wait(60)
        generation.result()
        assert generation.usage is not None and generation.usage.completion_tokens < 400
    assert batched.running == 0
    after = batched.complete("Hi", max_tokens=1, temperature=0)
    assert after.usage.completion_tokens == 1


def test_a_request_cancelled_while_queued_never_runs(batched: Engine) -> None:
    real = batched._jobs
    batched._jobs = queue.Queue()  # a queue the worker does not read: nothing is admitted
    try:
        waiting = batched.submit("Hello", params=SamplingParams(max_tokens=50))
    finally:
        batched._jobs = real
    waiting.cancel()
    assert waiting.done.is_set()  # over at once: it never had rows
    assert waiting.result().usage.completion_tokens == 0
    real.put(waiting)  # the worker takes it later and drops it
    after = batched.complete("Hi", max_tokens=1, temperature=0)
    assert after.usage.completion_tokens == 1


def test_full_queue_is_refused_with_429(local_server_session: LocalServerHandle) -> None:
    with Engine(EngineConfig(max_queued=2)) as engine:
        real = engine._jobs
        engine._jobs = queue.Queue()  # a queue the worker does not read: it only fills
        try:
            engine.submit([1, 2, 3])
            engine.submit([1, 2, 3])
            assert engine.queued == 2
            with pytest.raises(InvalidRequest) as info:
                engine.submit([1, 2, 3])
            assert (info.value.status, info.value.code) == (429, "rate_limit_exceeded")
        finally:
            engine._jobs = real


def test_a_pass_nobody_needs_stops_between_layers(batched: Engine) -> None:
    import torch

    from wafer_grammar.local import scheduler
    from wafer_grammar.local.generation import DecodeJob

    worker = batched._scheduler
    assert worker is not None and batched.running == 0  # idle: the test may drive the model
    gone = DecodeJob([1], None, SamplingParams())
    gone.cancelled.set()
    waiting = DecodeJob([1], None, SamplingParams())
    ids = torch.tensor([[1, 2, 3]])
    try:
        worker._stepping = [SimpleNamespace(job=gone), SimpleNamespace(job=waiting)]  # type: ignore[list-item]
        with torch.inference_mode():
            batched.loaded.model(input_ids=ids)  # someone still needs it: runs through
            worker._stepping = [SimpleNamespace(job=gone)]  # type: ignore[list-item]
            with pytest.raises(scheduler._Abandoned):
                batched.loaded.model(input_ids=ids)
    finally:
        worker._stepping = ()
    assert batched.complete("Hi", max_tokens=1, temperature=0).usage.completion_tokens == 1
