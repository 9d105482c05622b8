"""SamplingParams: every refusal, by exact text."""

from __future__ import annotations

from typing import Any

import pytest

from wafer_grammar.errors import InvalidRequest
from wafer_grammar.local.params import SamplingParams

BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"max_tokens": 0}, "max_tokens", "max_tokens must be at least 1, not 0"),
    ({"max_tokens": 1.5}, "max_tokens", "max_tokens must be an integer, not 1.5"),
    ({"max_tokens": True}, "max_tokens", "max_tokens must be an integer, not True"),
    ({"temperature": 2.5}, "temperature", "temperature must be between 0 and 2, not 2.5"),
    ({"temperature": "hot"}, "temperature", "temperature must be a number, not 'hot'"),
    ({"temperature": float("nan")}, "temperature", "temperature must be between 0 and 2, not nan"),
    ({"top_p": 0.0}, "top_p", "top_p must be in (0, 1], not 0.0"),
    ({"top_p": 1.5}, "top_p", "top_p must be in (0, 1], not 1.5"),
    ({"top_k": -2}, "top_k", "top_k must be at least -1, not -2"),
    ({"seed": "x"}, "seed", "seed must be an integer, not 'x'"),
    ({"n": 0}, "n", "n must be at least 1, not 0"),
    ({"n": 9}, "n", "n must be at most 8, not 9"),
    ({"top_logprobs": 21}, "top_logprobs", "top_logprobs must be at most 20, not 21"),
    ({"top_logprobs": -1}, "top_logprobs", "top_logprobs must be at least 0, not -1"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "stop takes at most 4 strings, not 5"),
    ({"stop": [""]}, "stop", "stop strings must not be empty"),
    ({"stop": [1]}, "stop", "stop must be a string or a list of strings"),
]


@pytest.mark.parametrize(("kwargs", "param", "message"), BAD)
def test_refusals(kwargs: dict[str, Any], param: str, message: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        SamplingParams(**kwargs)
    assert str(info.value) == message
    assert info.value.param == param
    assert info.value.status == 400


def test_defaults_and_normalization() -> None:
    p = SamplingParams(stop="END")
    assert p.stop == ("END",)
    assert (p.max_tokens, p.temperature, p.top_p, p.top_k, p.n) == (16, 1.0, 1.0, -1, 1)
    assert SamplingParams(temperature=0).greedy
    assert SamplingParams(n=12, max_n=16).n == 12
