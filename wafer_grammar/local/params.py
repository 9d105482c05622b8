"""Sampling parameters: one frozen dataclass, checked once where it is built."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from wafer_grammar.errors import InvalidRequest

MAX_STOP = 4
MAX_TOP_LOGPROBS = 20


@dataclass(frozen=True)
class SamplingParams:
    """How tokens are chosen, and what is reported about them.

    Logprobs are the model's log-probabilities *after* the grammar mask
    (renormalized over the tokens the grammar allows at that step) and *before*
    temperature, top-p and top-k: for a forced choice they are the probability
    of each label given that the answer must be one of them.
    """

    max_tokens: int = 16
    """Most tokens to generate per choice (the stop token counts, as on Wafer/SGLang)."""
    temperature: float = 1.0
    """0 is greedy; otherwise logits are divided by it before top-k/top-p."""
    top_p: float = 1.0
    """Nucleus sampling: keep the smallest set of tokens whose probability reaches it."""
    top_k: int = -1
    """Keep the k most likely tokens; -1 (or 0) keeps all."""
    seed: int | None = None
    """Same seed, same request: same output. None draws a fresh seed."""
    stop: tuple[str, ...] = ()
    """Strings that end a choice; the text is cut before the first one found."""
    n: int = 1
    """Choices to generate (decoded together, as one batch)."""
    logprobs: bool = False
    """Report each generated token's logprob."""
    top_logprobs: int = 0
    """Also report this many most likely alternatives per position (0 to 20)."""
    max_n: int = field(default=8, repr=False, compare=False)
    """The engine's limit for ``n`` (set from ``EngineConfig.max_n``)."""

    def __post_init__(self) -> None:
        _check_int("max_tokens", self.max_tokens, low=1)
        _check_float("temperature", self.temperature, 0.0, 2.0, "between 0 and 2")
        _check_float("top_p", self.top_p, 0.0, 1.0, "in (0, 1]")
        if self.top_p <= 0.0:
            raise InvalidRequest(f"top_p must be in (0, 1], not {self.top_p!r}", param="top_p")
        _check_int("top_k", self.top_k, low=-1)
        if self.seed is not None:
            _check_int("seed", self.seed, low=-(2**63))
        _check_int("n", self.n, low=1)
        if self.n > self.max_n:
            raise InvalidRequest(f"n must be at most {self.max_n}, not {self.n}", param="n")
        _check_int("top_logprobs", self.top_logprobs, low=0)
        if self.top_logprobs > MAX_TOP_LOGPROBS:
            raise InvalidRequest(
                f"top_logprobs must be at most {MAX_TOP_LOGPROBS}, not {self.top_logprobs}",
                param="top_logprobs",
            )
        object.__setattr__(self, "stop", normalize_stop(self.stop))

    @property
    def greedy(self) -> bool:
        """Whether decoding is argmax (temperature 0)."""
        return self.temperature == 0.0


def normalize_stop(stop: str | Sequence[str] | None) -> tuple[str, ...]:
    """``stop`` as a tuple of 0 to 4 non-empty strings."""
    if stop is None:
        return ()
    items = [stop] if isinstance(stop, str) else stop
    if not isinstance(items, (list, tuple)) or not all(isinstance(s, str) for s in items):
        raise InvalidRequest("stop must be a string or a list of strings", param="stop")
    if len(items) > MAX_STOP:
        raise InvalidRequest(
            f"stop takes at most {MAX_STOP} strings, not {len(items)}", param="stop"
        )
    if any(s == "" for s in items):
        raise InvalidRequest("stop strings must not be empty", param="stop")
    return tuple(items)


def _check_int(name: str, value: object, *, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{name} must be an integer, not {value!r}", param=name)
    if value < low:
        raise InvalidRequest(f"{name} must be at least {low}, not {value}", param=name)


def _check_float(name: str, value: object, low: float, high: float, wording: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequest(f"{name} must be a number, not {value!r}", param=name)
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidRequest(f"{name} must be {wording}, not {value!r}", param=name)
