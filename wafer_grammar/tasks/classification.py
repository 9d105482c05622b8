"""Forced-choice classification: one label per text, with its probability.

Planning a request and reading its answer are pure (:func:`plan`, :func:`read`);
:func:`classify` and :func:`aclassify` only send, so the blocking and asyncio
paths cannot drift apart.

The prompt is token IDs built with the model's own tokenizer: a system turn
with the instructions, then a user turn that lists the labels and ends with the
text. Everything before the text is the same for every text of a run, so the
server's prefix cache serves it (cached tokens are billed lower). Reasoning is
off (``thinking=False``): a label needs no thinking tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wafer_grammar.grammar import Grammar
from wafer_grammar.label_set import prefix_pairs
from wafer_grammar.tasks.design import design_warnings
from wafer_grammar.tasks.steps import Steps, complete_all, price_all

if TYPE_CHECKING:
    from wafer_grammar.client.types import Completion, Usage
    from wafer_grammar.decoding.cost import Cost
    from wafer_grammar.tokenize.tokenizer import Tokenizer

DEFAULT_INSTRUCTIONS = "You are a classifier. Read the text and answer with exactly one label."
# top_logprobs has to reach every label's first token for exact probabilities;
# 20 is the OpenAI ceiling, so larger label sets get a lower bound (`observed`).
MAX_TOP_LOGPROBS = 20


@dataclass(frozen=True)
class Classification:
    """One text's label, the distribution over the labels, and what it cost."""

    label: str
    """The most probable label (the highest of :attr:`probabilities`)."""
    probabilities: dict[str, float]
    """Label -> probability, renormalised over the labels (sums to 1)."""
    usage: Usage | None
    """Tokens billed, summed over every request made for this text."""
    cost: Cost | None
    """What those requests cost at the model card's pricing (None: no pricing)."""
    generated: str = ""
    """The label the model wrote under the first label order."""
    warnings: tuple[str, ...] = ()
    """Label-design problems (also issued as :class:`LabelDesignWarning`)."""
    by_order: tuple[dict[str, float], ...] = field(default=(), repr=False)
    """With ``orders > 1``: the probabilities under each label order."""
    position_spread: float | None = None
    """With ``orders > 1``: the largest change of any label's probability across
    label orders (0: order does not matter; near 1: the position decides)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what the CLI and batch write)."""
        out: dict[str, Any] = {"label": self.label, "probabilities": self.probabilities}
        if self.position_spread is not None:
            out["position_spread"] = self.position_spread
        out["usage"] = usage_dict(self.usage)
        out["cost_cents"] = self.cost.total_cents if self.cost is not None else None
        return out


def usage_dict(usage: Usage | None) -> dict[str, int] | None:
    if usage is None:
        return None
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cached_tokens": usage.cached_tokens,
    }


@dataclass(frozen=True)
class Plan:
    """What to send for one text: one token-ID prompt per label order."""

    prompts: tuple[list[int], ...]
    grammar: Grammar
    options: dict[str, Any]


def tokenizer_for(model: str) -> Tokenizer:
    """The model's tokenizer, from the process's shared cache (a batch loads it once)."""
    from wafer_grammar.tokenize.provider import shared_tokenizers

    return shared_tokenizers().get(model)


def messages_for(
    text: str, labels: Sequence[str], instructions: str | None = None
) -> list[dict[str, str]]:
    """The chat turns: the instructions, then a user turn that lists the labels and ends
    with the text. Everything before the text is the same for every text of a run."""
    # Labels in the user turn, just before the text: on SmolLM2 this read better than
    # labels in the system turn (5/5 vs 3/5 on examples/classify_reviews.py), and the
    # prefix shared across texts is as long.
    return [
        {"role": "system", "content": instructions or DEFAULT_INSTRUCTIONS},
        {"role": "user", "content": f"Answer with one of: {', '.join(labels)}.\n\n{text}"},
    ]


def label_orders(labels: Sequence[str], orders: int) -> list[list[str]]:
    """``orders`` rotations of ``labels``: each label visits a different position."""
    if isinstance(orders, bool) or not isinstance(orders, int) or not 1 <= orders <= len(labels):
        raise ValueError(
            f"orders must be an integer from 1 to the number of labels "
            f"({len(labels)}), not {orders!r}"
        )
    step = len(labels) // orders
    return [list(labels[i * step :]) + list(labels[: i * step]) for i in range(orders)]


def plan(
    text: str,
    labels: Sequence[str],
    tokenizer: Tokenizer,
    *,
    instructions: str | None = None,
    orders: int = 1,
) -> Plan:
    """The prompts and options for one text (pure: nothing is sent)."""
    from wafer_grammar.tokenize import max_tokens_for

    if not isinstance(text, str):
        raise TypeError(f"the text to classify must be a str, not {type(text).__name__}")
    grammar = Grammar.choice(labels)
    prompts = tuple(
        tokenizer.encode_chat(messages_for(text, order, instructions), thinking=False).ids
        for order in label_orders(list(labels), orders)
    )
    options: dict[str, Any] = {
        "grammar": grammar,
        # Twice the canonical budget: under the grammar mask a model may spell a label in
        # more, shorter tokens than the tokenizer would. The cap is free: only the tokens
        # generated are billed, and the grammar ends the answer after a label.
        "max_tokens": 2 * max_tokens_for(grammar, tokenizer),
        "temperature": 0,
        "logprobs": True,
        "top_logprobs": min(MAX_TOP_LOGPROBS, max(5, len(labels))),
    }
    return Plan(prompts, grammar, options)


def read(
    answers: Sequence[Completion],
    grammar: Grammar,
    *,
    costs: Sequence[Cost | None],
    problems: Sequence[str] = (),
) -> Classification:
    """The classification from one answer per label order (pure)."""
    from wafer_grammar.decoding import label_probabilities

    generated = _label_of(answers[0], grammar)
    dists = [label_probabilities(answer, grammar).probabilities for answer in answers]
    labels = list(grammar.labels or ())
    mean = {label: sum(d[label] for d in dists) / len(dists) for label in labels}
    spread = None
    if len(dists) > 1:
        spread = max(
            max(d[label] for d in dists) - min(d[label] for d in dists) for label in labels
        )
    return Classification(
        label=max(labels, key=lambda label: mean[label]),
        probabilities=mean,
        usage=sum_usage([a.usage for a in answers]),
        cost=sum_costs(costs),
        generated=generated,
        warnings=tuple(problems),
        by_order=tuple(dists) if len(dists) > 1 else (),
        position_spread=spread,
    )


def _label_of(answer: Completion, grammar: Grammar) -> str:
    """The generated label; ConstraintViolation or TruncatedOutput when there is none."""
    from wafer_grammar.decoding import decode
    from wafer_grammar.errors import TruncatedOutput

    try:
        return str(decode(answer, grammar))
    except TruncatedOutput as exc:
        text = exc.text
        # Cut right after a whole label that no other label extends: only the stop token
        # was lost, and the grammar allowed nothing else.
        labels = grammar.labels or ()
        if text in labels and all(short != text for short, _ in prefix_pairs(labels)):
            return text
        raise


def sum_usage(usages: Iterable[Usage | None]) -> Usage | None:
    from wafer_grammar.client.types import Usage

    present = [u for u in usages if u is not None]
    if not present:
        return None
    return Usage(
        prompt_tokens=sum(u.prompt_tokens for u in present),
        completion_tokens=sum(u.completion_tokens for u in present),
        total_tokens=sum(u.total_tokens for u in present),
        cached_tokens=sum(u.cached_tokens for u in present),
    )


def sum_costs(costs: Iterable[Cost | None]) -> Cost | None:
    total: Cost | None = None
    for cost in costs:
        if cost is None:
            return None  # a partial sum would understate what was spent
        total = cost if total is None else total + cost
    return total


def classification_steps(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    model: str,
    instructions: str | None,
    orders: int,
    problems: Sequence[str] | None = None,
) -> Steps[list[Classification]]:
    """The classification of each text, in order, as steps (see :mod:`wafer_grammar.tasks.steps`).

    Labels are checked before anything is sent, and their design is warned about
    unless ``problems`` says it was already (a batch checks once, up front).
    """
    tokenizer = tokenizer_for(model)
    labels = list(Grammar.choice(labels).labels or ())  # InvalidLabels before anything else
    if problems is None:
        problems = design_warnings(labels, tokenizer, stacklevel=5)
    results = []
    for text in texts:
        made = plan(text, labels, tokenizer, instructions=instructions, orders=orders)
        answers = yield from complete_all(model, made.prompts, made.options)
        costs = yield from price_all(answers)
        results.append(read(answers, made.grammar, costs=costs, problems=problems))
    return results
