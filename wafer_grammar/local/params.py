"""Sampling parameters: one frozen dataclass, checked once where it is built."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from wafer_grammar.errors import InvalidRequest

MAX_STOP = 4
MAX_TOP_LOGPROBS = 20
MAX_LOGIT_BIAS = 100.0


@dataclass(frozen=True)
class SamplingParams:
    """How tokens are chosen, and what is reported about them.

    Logprobs are the model's log-probabilities *after* the grammar mask
    (renormalized over the tokens the grammar allows at that step) and *before*
    temperature, top-p, top-k and min-p: for a forced choice they are the
    probability of each label given that the answer must be one of them. Penalties
    and ``logit_bias``, when set, are applied before the mask and so are included.
    """

    max_tokens: int = 16
    """Most tokens to generate per choice (the stop token counts, as on Wafer/SGLang)."""
    temperature: float = 1.0
    """0 is greedy; otherwise logits are divided by it before top-k/top-p."""
    top_p: float = 1.0
    """Nucleus sampling: keep the smallest set of tokens whose probability reaches it."""
    top_k: int = -1
    """Keep the k most likely tokens; -1 (or 0) keeps all."""
    min_p: float = 0.0
    """Drop tokens less likely than ``min_p`` times the most likely one (after temperature)."""
    frequency_penalty: float = 0.0
    """Subtracted from a token's logit once per time it was generated (OpenAI's, -2 to 2)."""
    presence_penalty: float = 0.0
    """Subtracted from a token's logit once it has been generated at all (-2 to 2)."""
    repetition_penalty: float = 1.0
    """SGLang's multiplicative penalty on generated tokens: a positive logit is divided
    by it, a negative one multiplied (1.0: none; 0 to 2)."""
    logit_bias: tuple[tuple[int, float], ...] = ()
    """``(token_id, bias)`` pairs added to the logits (-100 to 100), given as a mapping."""
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
        _check_float("min_p", self.min_p, 0.0, 1.0, "between 0 and 1")
        for name in ("frequency_penalty", "presence_penalty"):
            _check_float(name, getattr(self, name), -2.0, 2.0, "between -2 and 2")
        _check_float("repetition_penalty", self.repetition_penalty, 0.0, 2.0, "in (0, 2]")
        if self.repetition_penalty <= 0.0:
            raise InvalidRequest(
                f"repetition_penalty must be in (0, 2], not {self.repetition_penalty!r}",
                param="repetition_penalty",
            )
        object.__setattr__(self, "logit_bias", normalize_logit_bias(self.logit_bias))
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

    @property
    def penalized(self) -> bool:
        """Whether any penalty reads the tokens generated so far."""
        return (
            self.frequency_penalty != 0.0
            or self.presence_penalty != 0.0
            or self.repetition_penalty != 1.0
        )


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


def normalize_logit_bias(
    bias: Mapping[str | int, object] | Sequence[tuple[int, float]] | None,
) -> tuple[tuple[int, float], ...]:
    """``logit_bias`` (a JSON object of token id -> bias) as sorted ``(id, bias)`` pairs."""
    if bias is None:
        return ()
    items = bias.items() if isinstance(bias, Mapping) else bias
    if not isinstance(items, (list, tuple, type({}.items()))):
        raise InvalidRequest("logit_bias must be an object of token id -> bias", param="logit_bias")
    out: dict[int, float] = {}
    for key, value in items:
        token = _token_key(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidRequest(
                f"logit_bias[{key!r}] must be a number, not {value!r}", param="logit_bias"
            )
        if not math.isfinite(value) or not -MAX_LOGIT_BIAS <= value <= MAX_LOGIT_BIAS:
            raise InvalidRequest(
                f"logit_bias[{key!r}] must be between -100 and 100, not {value!r}",
                param="logit_bias",
            )
        out[token] = float(value)
    return tuple(sorted(out.items()))


def _token_key(key: object) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        token = key
    elif isinstance(key, str) and key.strip().lstrip("-").isdigit():
        token = int(key)
    else:
        raise InvalidRequest(f"logit_bias keys must be token ids, not {key!r}", param="logit_bias")
    if token < 0:
        raise InvalidRequest(f"logit_bias token id {token} is negative", param="logit_bias")
    return token


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
