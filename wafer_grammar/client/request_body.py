"""Request bodies, sans-I/O: arguments in, a checked JSON body out.

What the server would refuse after a round trip is refused here first, with the
same error type (:class:`BadRequest` naming the parameter, status None).
Parameters left at None are not sent at all: servers refuse or mis-handle
fields they do not implement, and "unset" must mean "the server's default".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from wafer_grammar.errors import BadRequest

if TYPE_CHECKING:
    from wafer_grammar.grammar import Grammar

MAX_TOP_LOGPROBS = 20
SAMPLING_STRIPPED: Mapping[str, tuple[str, ...]] = {
    # Wafer strips exactly these from every Kimi-K2.6 request (its non-ZDR route,
    # Moonshot's hosted API, pins them): setting them is a no-op.
    "kimi-k2.6": ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty"),
}


class IgnoredParameterWarning(UserWarning):
    """A parameter was sent that the server is known to ignore for this model."""


@dataclass(frozen=True, kw_only=True)
class Sampling:
    """Generation parameters shared by completions and chat (None: the server's default)."""

    max_tokens: int | None = None
    """Most tokens to generate per choice (must be positive)."""
    min_tokens: int | None = None
    """Tokens to generate before stop conditions may end a choice."""
    temperature: float | None = None
    """0 is greedy decoding."""
    top_p: float | None = None
    """Nucleus sampling cutoff, in (0, 1]."""
    top_k: int | None = None
    """Sample among the k most likely tokens (-1: all)."""
    min_p: float | None = None
    """Drop tokens less likely than ``min_p`` times the most likely one."""
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    repetition_penalty: float | None = None
    """SGLang's multiplicative repetition penalty (1.0 is none)."""
    stop: str | Sequence[str] | None = None
    """Strings that end a choice (not included in its text)."""
    stop_token_ids: Sequence[int] | None = None
    """Token IDs that end a choice."""
    seed: int | None = None
    n: int | None = None
    """Choices to generate."""
    logprobs: bool | None = None
    """Report each generated token's log-probability."""
    top_logprobs: int | None = None
    """Also report this many alternatives per position (0 to 20; implies logprobs)."""
    logit_bias: Mapping[int, float] | None = None
    """Token ID -> bias added to its logit."""

    def check(self) -> None:
        """Refuse values no server accepts.

        Raises:
            BadRequest: ``.param`` names the field.
        """
        for name in ("max_tokens", "n"):
            _int(name, getattr(self, name), low=1)
        _int("min_tokens", self.min_tokens, low=0)
        _int("top_k", self.top_k, low=-1)
        _int("seed", self.seed, low=None)
        _int("top_logprobs", self.top_logprobs, low=0, high=MAX_TOP_LOGPROBS)
        _num("temperature", self.temperature, 0.0, None)
        _num("top_p", self.top_p, 0.0, 1.0, open_low=True)
        _num("min_p", self.min_p, 0.0, 1.0)
        for name in ("frequency_penalty", "presence_penalty"):
            _num(name, getattr(self, name), -2.0, 2.0)
        _num("repetition_penalty", self.repetition_penalty, 0.0, None, open_low=True)
        if self.logprobs is not None and not isinstance(self.logprobs, bool):
            raise BadRequest(
                f"logprobs must be true or false, not {self.logprobs!r}", param="logprobs"
            )
        if self.stop is not None:
            items = [self.stop] if isinstance(self.stop, str) else self.stop
            if not isinstance(items, Sequence) or not all(isinstance(s, str) and s for s in items):
                raise BadRequest("stop must be a non-empty string or a list of them", param="stop")
        if self.stop_token_ids is not None and not all(
            isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in self.stop_token_ids
        ):
            raise BadRequest(
                "stop_token_ids must be a list of token IDs (integers >= 0)", param="stop_token_ids"
            )
        if self.logit_bias is not None and not all(
            isinstance(v, (int, float)) and not isinstance(v, bool)
            for v in self.logit_bias.values()
        ):
            raise BadRequest("logit_bias values must be numbers", param="logit_bias")

    def set_fields(self) -> list[str]:
        """Names of the fields given (not None), in declaration order."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def body(self, *, chat: bool) -> dict[str, Any]:
        """The wire fields: logprobs in the endpoint's own shape."""
        self.check()
        out: dict[str, Any] = {}
        for name in self.set_fields():
            if name in ("logprobs", "top_logprobs"):
                continue
            value = getattr(self, name)
            if name == "stop_token_ids" or (name == "stop" and not isinstance(value, str)):
                value = list(value)
            elif name == "logit_bias":
                value = {str(k): v for k, v in value.items()}
            out[name] = value
        wants = bool(self.logprobs) or self.top_logprobs is not None
        if wants:
            if chat:
                out["logprobs"] = True
                if self.top_logprobs is not None:
                    out["top_logprobs"] = self.top_logprobs
            else:
                # /v1/completions takes the OpenAI legacy form: logprobs=N alternatives.
                out["logprobs"] = self.top_logprobs or 0
        return out


SAMPLING_FIELDS = frozenset(f.name for f in fields(Sampling))


def _int(name: str, value: object, *, low: int | None, high: int | None = None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be an integer, not {value!r}", param=name)
    if low is not None and value < low:
        raise BadRequest(f"{name} must be at least {low}, not {value}", param=name)
    if high is not None and value > high:
        raise BadRequest(f"{name} must be at most {high}, not {value}", param=name)


def _num(
    name: str, value: object, low: float, high: float | None, *, open_low: bool = False
) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number, not {value!r}", param=name)
    too_low = value <= low if open_low else value < low
    if too_low or (high is not None and value > high):
        bound = "(" if open_low else "["
        span = f"{bound}{low:g}, {high:g}]" if high is not None else f"{bound}{low:g}, inf)"
        raise BadRequest(f"{name} must be in {span}, not {value!r}", param=name)


def warn_stripped(model: str, sampling: Sampling) -> None:
    """Warn when ``sampling`` sets parameters Wafer strips for ``model``."""
    stripped = SAMPLING_STRIPPED.get(model.casefold())
    if not stripped:
        return
    given = [name for name in sampling.set_fields() if name in stripped]
    if given:
        warnings.warn(
            f"Wafer ignores sampling parameters for {model}: {', '.join(given)} "
            f"{'has' if len(given) == 1 else 'have'} no effect",
            IgnoredParameterWarning,
            stacklevel=5,  # warn_stripped, *_spec, _spec, the public method, its caller
        )


def grammar_text(grammar: Grammar | str | None) -> str | None:
    """The ``ebnf`` to send: a Grammar's canonical text, or the string as given."""
    if grammar is None:
        return None
    if isinstance(grammar, str):
        if not grammar.strip():
            raise BadRequest("grammar is empty", param="ebnf")
        return grammar
    to_ebnf = getattr(grammar, "to_ebnf", None)
    if to_ebnf is None:
        raise TypeError(f"grammar must be a Grammar or EBNF text, not {type(grammar).__name__}")
    text: str = to_ebnf()
    return text


def prompt_ids(prompt: object) -> list[int] | None:
    """``prompt`` as token IDs (a list, or a ``Prompt`` with ``.ids``); None when it is text."""
    if isinstance(prompt, str):
        return None
    ids = getattr(prompt, "ids", prompt)
    if not isinstance(ids, Sequence) or isinstance(ids, (str, bytes)):
        raise BadRequest("prompt must be text, a list of token IDs or a Prompt", param="prompt")
    if not ids:
        raise BadRequest("prompt is empty; give at least one token", param="prompt")
    bad = next((t for t in ids if isinstance(t, bool) or not isinstance(t, int) or t < 0), None)
    if bad is not None:
        raise BadRequest(f"prompt token IDs must be integers >= 0, not {bad!r}", param="prompt")
    return list(ids)


def response_format_body(value: object) -> dict[str, Any] | None:
    """``response_format`` as sent: a dict as is, a pydantic model class as its JSON Schema."""
    if value is None or isinstance(value, dict):
        return value
    schema_of = getattr(value, "model_json_schema", None)
    if isinstance(value, type) and callable(schema_of):
        return {
            "type": "json_schema",
            "json_schema": {"name": value.__name__, "schema": schema_of(), "strict": True},
        }
    raise TypeError(
        f"response_format must be a dict or a pydantic model class, not {type(value).__name__}"
    )
