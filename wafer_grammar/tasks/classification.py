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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from wafer_grammar.grammar import Grammar
from wafer_grammar.label_set import prefix_pairs
from wafer_grammar.tasks.design import design_warnings, empty_text_warnings
from wafer_grammar.tasks.label_trie import METHODS, PieceIndex, label_distribution_steps
from wafer_grammar.tasks.steps import AskProfile, Many, Steps, complete_all, price_all

if TYPE_CHECKING:
    from wafer_grammar.client.types import Completion, Usage
    from wafer_grammar.decoding.cost import Cost
    from wafer_grammar.tokenize.tokenizer import Tokenizer

DEFAULT_INSTRUCTIONS = (
    "You are a classifier. Read the text and answer with exactly one {unit}: {labels}."
)
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
    prior: dict[str, float] | None = None
    """With ``calibrate=True``: the label prior divided out (from content-free inputs)."""

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
    """The chat turns: instructions naming the labels, then a user turn that asks which
    label fits and ends with the text. Everything before the text is the same for every
    text of a run (the server's prefix cache hits)."""
    # Measured on SmolLM2-135M with 30 plain sentiment reviews (tests/data/
    # sentiment_reviews.jsonl): the labels named in both turns, as a question, read
    # 21/30 right against 15/30 for "Answer with one of: ..."; with calibrate=True or
    # orders=2, 28/30.
    names = " or ".join(labels) if len(labels) == 2 else ", ".join(labels)
    unit = "word" if all(label.isalnum() for label in labels) else "of these"
    system = instructions or DEFAULT_INSTRUCTIONS.format(unit=unit, labels=names)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Which fits this text: {names}?\n\n{text}"},
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


@dataclass(frozen=True)
class RunPlan:
    """What every text of one run shares, built once: the labels, grammar, options, tokenizer."""

    labels: tuple[str, ...]
    grammar: Grammar
    tokenizer: Tokenizer
    options: dict[str, Any]
    instructions: str | None = None
    orders: int = 1
    method: str = "first-token"
    """How each text's probabilities are found (``exact`` or ``first-token``, resolved)."""
    calibrate: bool = False
    """Divide out the label prior measured on content-free inputs (see :func:`calibrated`)."""
    index: PieceIndex | None = field(default=None, repr=False, compare=False)
    """The tokenizer's pieces, for the exact method (built once per run)."""

    def for_text(self, text: str) -> Plan:
        """The prompts for one text (pure: nothing is sent)."""
        if not isinstance(text, str):
            raise TypeError(f"the text to classify must be a str, not {type(text).__name__}")
        prompts = tuple(
            self.tokenizer.encode_chat(
                messages_for(text, order, self.instructions), thinking=False
            ).ids
            for order in label_orders(list(self.labels), self.orders)
        )
        return Plan(prompts, self.grammar, self.options)


def run_plan(
    labels: Sequence[str],
    tokenizer: Tokenizer,
    *,
    instructions: str | None = None,
    orders: int = 1,
    method: str = "auto",
    calibrate: bool = False,
) -> RunPlan:
    """The per-run part of classification: labels checked, grammar built, budget sized.

    ``method`` ``"auto"`` is ``"exact"`` when the labels' first tokens do not decide
    (shared first tokens, a label that is a prefix of another), else ``"first-token"``
    (one request per text, exact for such label sets).

    Raises:
        InvalidLabels: empty or duplicate labels. ValueError: a bad ``orders`` or ``method``.
    """
    from wafer_grammar.tokenize import check_labels, max_tokens_for

    grammar = Grammar.choice(labels)
    names = grammar.labels or ()
    label_orders(list(names), orders)  # checks orders before any text is seen
    options: dict[str, Any] = {
        "grammar": grammar,
        # Twice the canonical budget: under the grammar mask a model may spell a label in
        # more, shorter tokens than the tokenizer would. The cap is free: only the tokens
        # generated are billed, and the grammar ends the answer after a label.
        "max_tokens": 2 * max_tokens_for(grammar, tokenizer),
        "temperature": 0,
        "logprobs": True,
        "top_logprobs": min(MAX_TOP_LOGPROBS, max(5, len(names))),
    }
    if method not in ("auto", *METHODS):
        raise ValueError(f"method must be one of auto, {', '.join(METHODS)}, not {method!r}")
    if method == "auto":
        decides = check_labels(list(names), tokenizer).first_token_decides
        method = "first-token" if decides else "exact"
    index = PieceIndex(tokenizer) if method == "exact" else None
    return RunPlan(
        names, grammar, tokenizer, options, instructions, orders, method, calibrate, index
    )


def plan(
    text: str,
    labels: Sequence[str],
    tokenizer: Tokenizer,
    *,
    instructions: str | None = None,
    orders: int = 1,
) -> Plan:
    """The prompts and options for one text (a run of one; pure: nothing is sent)."""
    return run_plan(labels, tokenizer, instructions=instructions, orders=orders).for_text(text)


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
    return combined(
        dists,
        grammar.labels or (),
        answers=answers,
        costs=costs,
        problems=problems,
        generated=generated,
    )


def combined(
    dists: Sequence[dict[str, float]],
    labels: Sequence[str],
    *,
    answers: Sequence[Completion],
    costs: Sequence[Cost | None],
    problems: Sequence[str] = (),
    generated: str | None = None,
) -> Classification:
    """One classification from the distributions under each label order (pure).

    ``generated`` is what the model wrote; None (the exact method generates nothing)
    takes the most probable label.
    """
    mean = {label: sum(d[label] for d in dists) / len(dists) for label in labels}
    spread = None
    if len(dists) > 1:
        spread = max(
            max(d[label] for d in dists) - min(d[label] for d in dists) for label in labels
        )
    best = max(labels, key=lambda label: mean[label])
    return Classification(
        label=best,
        probabilities=mean,
        usage=sum_usage([a.usage for a in answers]),
        cost=sum_costs(costs),
        generated=best if generated is None else generated,
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
    concurrency: int = 1,
    method: str = "auto",
    calibrate: bool = False,
) -> Steps[list[Classification]]:
    """The classification of each text, in order, as steps (see :mod:`wafer_grammar.tasks.steps`).

    Labels are checked before anything is sent, and their design is warned about
    unless ``problems`` says it was already (a batch checks once, up front). The
    run's grammar and options are built once; up to ``concurrency`` texts are in
    flight at a time.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, not {concurrency!r}")
    tokenizer = tokenizer_for(model)
    shared = run_plan(
        labels,
        tokenizer,
        instructions=instructions,
        orders=orders,
        method=method,
        calibrate=calibrate,
    )
    if problems is None:
        problems = design_warnings(shared.labels, tokenizer, stacklevel=5)
    bodies = tuple(text_steps(text, model, shared, problems) for text in texts)
    results: list[Classification] = yield Many(bodies, concurrency, long_running=len(texts) > 1)
    if shared.calibrate:
        plain = replace(shared, calibrate=False)
        free = tuple(text_steps(text, model, plain, content_free=True) for text in CONTENT_FREE)
        priors: list[Classification] = yield Many(free, concurrency)
        prior = {
            label: sum(p.probabilities[label] for p in priors) / len(priors)
            for label in shared.labels
        }
        results = [calibrated(result, prior) for result in results]
    return results


CONTENT_FREE = ("", "N/A", "[MASK]")
"""Inputs that carry no content: what the model answers for them is its label prior."""


def calibrated(result: Classification, prior: Mapping[str, float]) -> Classification:
    """Contextual calibration (Zhao et al., 2021): ``p(label) / prior(label)``, renormalised.

    The prior is the mean distribution the model gives content-free inputs with the
    same prompt; dividing it out removes a bias towards labels the prompt favours
    whatever the text (a label's position, its frequency in pre-training). It helps
    most when that bias is strong (a small model, few labels, skewed prompts) and
    changes nothing when the prior is uniform.
    """
    floor = 1e-12  # a label the model never picks for empty input keeps finite weight
    weights = {label: p / max(prior[label], floor) for label, p in result.probabilities.items()}
    total = sum(weights.values()) or 1.0
    probabilities = {label: w / total for label, w in weights.items()}
    return replace(
        result,
        label=max(probabilities, key=lambda label: probabilities[label]),
        probabilities=probabilities,
        prior=dict(prior),
    )


def text_steps(
    text: str,
    model: str,
    shared: RunPlan,
    problems: Sequence[str] = (),
    *,
    content_free: bool = False,
) -> Steps[Classification]:
    """One text's classification under a run's shared plan, as steps.

    ``content_free``: a calibration input ("", "N/A"), empty on purpose: no warning.
    """
    made = shared.for_text(text)  # TypeError for a non-str text, before anything is sent
    if not content_free:
        problems = [*problems, *empty_text_warnings(text)]
    return _classified(made, model, problems, shared)


def _classified(
    made: Plan, model: str, problems: Sequence[str], shared: RunPlan
) -> Steps[Classification]:
    if shared.method == "first-token":
        answers = yield from complete_all(model, made.prompts, made.options)
        costs = yield from price_all(answers)
        return read(answers, made.grammar, costs=costs, problems=problems)
    profile = yield AskProfile()
    dists = []
    for prompt in made.prompts:
        found = yield from label_distribution_steps(
            model,
            prompt,
            shared.labels,
            tokenizer=shared.tokenizer,
            masked=profile.masks_logprobs,
            index=shared.index,
        )
        dists.append(found)
    answers = [answer for found in dists for answer in found.answers]
    costs = yield from price_all(answers)
    return combined(
        [found.probabilities for found in dists],
        shared.labels,
        answers=answers,
        costs=costs,
        problems=problems,
    )
