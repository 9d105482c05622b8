"""What the engine produces: per-step deltas while decoding, whole completions at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True)
class EngineTokenLogprob:
    """One generated token and its log-probability (after the grammar mask).

    ``top`` holds the most likely alternatives at that position, best first,
    as ``(token_id, logprob)``; ``offset`` is where the token's text starts in
    the choice's text (in characters).
    """

    token_id: int
    logprob: float
    top: tuple[tuple[int, float], ...] = ()
    offset: int = 0


@dataclass(frozen=True)
class EngineDelta:
    """What one decoding step added to choice ``index``.

    ``text`` is newly released text (may be empty while bytes or a possible stop
    string are held back); ``finish_reason`` is set on the choice's last delta.
    """

    index: int
    text: str
    token_ids: tuple[int, ...] = ()
    logprobs: tuple[EngineTokenLogprob, ...] = ()
    finish_reason: FinishReason | None = None
    matched_stop: int | str | None = None


@dataclass
class EngineChoice:
    """One finished choice."""

    index: int
    text: str = ""
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[EngineTokenLogprob] = field(default_factory=list)
    finish_reason: FinishReason | None = None
    matched_stop: int | str | None = None
    """The stop token id or stop string that ended it (None for ``length``)."""

    def add(self, delta: EngineDelta) -> None:
        """Fold one step's delta in."""
        self.text += delta.text
        self.token_ids.extend(delta.token_ids)
        self.logprobs.extend(delta.logprobs)
        if delta.finish_reason is not None:
            self.finish_reason = delta.finish_reason
            self.matched_stop = delta.matched_stop


@dataclass(frozen=True)
class EngineUsage:
    """Token counts as Wafer/SGLang report them: every generated token counts,
    the stop token included, across all ``n`` choices."""

    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    """Prompt tokens whose KV states came from the prefix cache (part of ``prompt_tokens``)."""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class EngineCompletion:
    """A whole completion: its choices in index order and the usage."""

    choices: list[EngineChoice]
    usage: EngineUsage
    prompt_ids: list[int]
