"""One body for each task, driven by either client (as httpx's auth flow drives both).

A task is written once as a generator: it yields the calls it needs
(:class:`Complete`, :class:`Price`) and receives their results; it returns the
task's value. :func:`~wafer_grammar.tasks.api_sync.run_steps` drives it with a blocking
:class:`WaferClient`, :func:`~wafer_grammar.tasks.api_async.arun_steps` with an
:class:`AsyncWaferClient`. The task itself does no I/O.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from wafer_grammar.client.types import Completion
    from wafer_grammar.decoding.cost import Cost

T = TypeVar("T")


@dataclass(frozen=True)
class Complete:
    """``client.completions(model, prompt, **options)``; the result is the :class:`Completion`."""

    model: str
    prompt: Sequence[int]
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Price:
    """``client.cost(answer)``; the result is its :class:`Cost`, or None without pricing."""

    answer: Completion


@dataclass(frozen=True)
class Many:
    """Run these task bodies, at most ``limit`` at once; the result is their values, in order."""

    bodies: tuple[Steps[Any], ...]
    limit: int = 1
    long_running: bool = False
    """The caller's own items (one per text): the driver may show progress over them."""


@dataclass(frozen=True)
class AskProfile:
    """The client's server profile (whether its logprobs are grammar-masked, ...)."""


Step = Complete | Price | Many | AskProfile
Steps = Generator[Step, Any, T]
"""A task body: yields steps, receives each one's result, returns the task's value."""


def complete_all(
    model: str, prompts: Sequence[Sequence[int]], options: Mapping[str, Any]
) -> Steps[list[Completion]]:
    """One completion per prompt, in order."""
    answers: list[Completion] = []
    for ids in prompts:
        answers.append((yield Complete(model, ids, options)))
    return answers


def price_all(answers: Sequence[Completion]) -> Steps[list[Cost | None]]:
    """Each answer's cost (None where the card has no pricing)."""
    costs: list[Cost | None] = []
    for answer in answers:
        costs.append((yield Price(answer)))
    return costs
