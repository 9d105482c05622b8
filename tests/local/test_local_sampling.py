"""The sampler's penalties, biases and min-p on small tensors (no model)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="the engine's extra: make venv")

from wafer_grammar.local import sampling  # noqa: E402
from wafer_grammar.local.params import SamplingParams  # noqa: E402

LOGITS = torch.tensor([[2.0, 1.0, -1.0, 0.5]])
COUNTS = torch.tensor([[2.0, 0.0, 1.0, 0.0]])


def adjusted(**kw: object) -> list[float]:
    params = SamplingParams(**kw)  # type: ignore[arg-type]
    bias = sampling.bias_tensor(params, 4)
    out = sampling.adjust(LOGITS, params, COUNTS if params.penalized else None, bias)
    return [round(v, 4) for v in out[0].tolist()]


def test_no_adjustment_by_default() -> None:
    assert adjusted() == [2.0, 1.0, -1.0, 0.5]


def test_repetition_penalty_is_multiplicative_on_seen_tokens() -> None:
    # seen: tokens 0 (positive: divided) and 2 (negative: multiplied)
    assert adjusted(repetition_penalty=2.0) == [1.0, 1.0, -2.0, 0.5]


def test_frequency_and_presence_penalties_are_additive() -> None:
    assert adjusted(frequency_penalty=0.5) == [1.0, 1.0, -1.5, 0.5]
    assert adjusted(presence_penalty=0.5) == [1.5, 1.0, -1.5, 0.5]


def test_logit_bias_is_added() -> None:
    assert adjusted(logit_bias={"3": 10, 1: -1}) == [2.0, 0.0, -1.0, 10.5]


def test_greedy_follows_the_adjusted_logits() -> None:
    params = SamplingParams(temperature=0, logit_bias={"3": 10})
    logits = sampling.adjust(LOGITS, params, None, sampling.bias_tensor(params, 4))
    assert sampling.sample(logits, params, torch.Generator()).tolist() == [3]


def test_min_p_one_keeps_only_the_best() -> None:
    params = SamplingParams(temperature=1.0, min_p=1.0)
    generator = torch.Generator().manual_seed(0)
    draws = {int(sampling.sample(LOGITS, params, generator)) for _ in range(50)}
    assert draws == {0}


def test_masked_tokens_stay_out_after_a_bias() -> None:
    params = SamplingParams(temperature=1.0, logit_bias={"2": 100})
    logits = sampling.adjust(LOGITS, params, None, sampling.bias_tensor(params, 4))
    logits[0, 2] = float("-inf")  # the grammar mask comes after the bias
    generator = torch.Generator().manual_seed(0)
    assert 2 not in {int(sampling.sample(logits, params, generator)) for _ in range(50)}
