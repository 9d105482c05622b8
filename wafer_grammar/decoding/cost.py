"""Cost: usage x the model card's pricing (cents per million tokens), cache reads at their rate."""

from __future__ import annotations

from dataclasses import dataclass

from wafer_grammar.client.types import ChatCompletion, Completion, ModelCard, Pricing, Usage
from wafer_grammar.errors import PricingUnavailable

MILLION = 1_000_000


@dataclass(frozen=True)
class Cost:
    """What one request cost, in US cents, by kind of token."""

    input_cents: float
    """Prompt tokens not served from the cache, at the input rate."""
    cached_cents: float
    """Prompt tokens read from the prefix cache, at the cache-read rate."""
    output_cents: float
    """Generated tokens (reasoning included), at the output rate."""

    @property
    def total_cents(self) -> float:
        return self.input_cents + self.cached_cents + self.output_cents

    @property
    def dollars(self) -> float:
        return self.total_cents / 100

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.input_cents + other.input_cents,
            self.cached_cents + other.cached_cents,
            self.output_cents + other.output_cents,
        )


def cost_of(answer: Completion | ChatCompletion | Usage, pricing: Pricing | ModelCard) -> Cost:
    """The cost of ``answer`` (or a bare ``Usage``) at ``pricing`` (or a card's).

    Cached prompt tokens are billed at ``cache_read_cents_per_million``; when the
    card names no cache rate they are billed as ordinary input.

    Raises:
        PricingUnavailable: the card has no pricing, or the answer no usage.
    """
    if isinstance(pricing, ModelCard):
        if pricing.pricing is None:
            raise PricingUnavailable(f"model {pricing.id!r} has no pricing on its card")
        pricing = pricing.pricing
    usage = answer if isinstance(answer, Usage) else answer.usage
    if usage is None:
        raise PricingUnavailable("the answer carries no usage to price")
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    cache_rate = pricing.cache_read_cents_per_million
    if cache_rate is None:
        cache_rate = pricing.input_cents_per_million
    return Cost(
        input_cents=(usage.prompt_tokens - cached) * pricing.input_cents_per_million / MILLION,
        cached_cents=cached * cache_rate / MILLION,
        output_cents=usage.completion_tokens * pricing.output_cents_per_million / MILLION,
    )
