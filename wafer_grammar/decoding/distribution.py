"""Label probabilities: a distribution over a choice set from the answer's logprobs.

Method. Walk the generated tokens while more than one label is still
possible. At each such *deciding* position, every alternative token in
``top_logprobs`` that keeps some label possible adds the probability of the
path to it (the product of the chosen tokens before it, times its own) to the
labels it leads to; an alternative leading to several labels is split evenly
among them (noted in ``method``). The chosen label gets the probability of the
path up to the position where it became the only one possible. The sums are
renormalised over the labels; ``observed`` is their total before that, i.e.
how much probability the reported alternatives covered (alternatives outside
the top-k are unseen, so it is a lower bound).

The result is exact when the server reports logprobs after the grammar mask
(as the local engine does) and every alternative fits in ``top_logprobs``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wafer_grammar.client.types import TokenLogprob
from wafer_grammar.decoding.answer_check import Answer, choice_of
from wafer_grammar.errors import InvalidLabels, LogprobsMissing
from wafer_grammar.grammar import Grammar
from wafer_grammar.label_set import validate_labels


@dataclass(frozen=True)
class LabelDistribution:
    """Probabilities over a choice set, summing to 1, with how they were computed."""

    probabilities: dict[str, float]
    """Label -> probability (every label present; unseen ones are 0.0)."""
    chosen: str | None
    """The label the answer's text is (None when the text is not a label)."""
    observed: float
    """Probability mass the logprobs accounted for before renormalising (0 to 1)."""
    deciding_tokens: int
    """How many generated tokens had more than one label still possible."""
    method: str
    """One sentence saying how the numbers were obtained."""
    requests: int = 1
    """How many requests it took (the exact trie walk makes one per branching node)."""
    answers: tuple[Any, ...] = field(default=(), repr=False, compare=False)
    """The answers those requests got (their usage is what the distribution cost)."""

    def __getitem__(self, label: str) -> float:
        return self.probabilities[label]

    @property
    def best(self) -> str:
        """The most probable label (ties: the first in the choice set's order)."""
        return max(self.probabilities, key=lambda label: self.probabilities[label])


def _labels_of(labels: Iterable[str] | Grammar) -> list[str]:
    if isinstance(labels, Grammar):
        if labels.labels is None:
            raise InvalidLabels("the grammar is not a choice grammar: pass Grammar.choice(...)")
        return list(labels.labels)  # a choice grammar knows its own
    return list(validate_labels(labels))


def label_probabilities(
    completion: Answer, labels: Iterable[str] | Grammar, *, choice: int = 0
) -> LabelDistribution:
    """The distribution over ``labels`` implied by one choice's logprobs.

    Parameters:
        completion: an answer requested with ``logprobs`` and ``top_logprobs``
            (enough alternatives to cover the labels' first tokens).
        labels: the choice set, or the ``Grammar.choice(...)`` grammar used.
        choice: which choice of the answer.

    Raises:
        LogprobsMissing: the answer has no logprobs.
        InvalidLabels: empty or duplicated labels.
    """
    names = _labels_of(labels)
    text, _ = choice_of(completion, choice)
    tokens = _tokens(completion, choice, text)
    mass = dict.fromkeys(names, 0.0)
    alive = list(names)
    prefix, path, deciding, split = "", 0.0, 0, False
    chosen_path: float | None = None
    for tok in tokens:
        if len(alive) <= 1:
            break
        deciding += 1
        for alt in tok.top:
            if alt.token == tok.token:
                continue
            leads = [label for label in alive if label.startswith(prefix + alt.token)]
            if leads:
                share = math.exp(path + alt.logprob) / len(leads)
                split = split or len(leads) > 1
                for label in leads:
                    mass[label] += share
        nxt = prefix + tok.token
        still = [label for label in alive if label.startswith(nxt)]
        if not still and prefix in alive:
            # this token ends the text (a stop token) right after a complete label
            chosen_path = path + tok.logprob
            alive = [prefix]
            break
        prefix, path, alive = nxt, path + tok.logprob, still
    if chosen_path is None:
        chosen_path = path
    chosen = text if text in mass else None
    if chosen is not None:
        mass[chosen] += math.exp(chosen_path)
    observed = sum(mass.values())
    if observed <= 0:
        raise LogprobsMissing(
            "no reported alternative leads to any label: request top_logprobs large enough "
            "to cover the labels' first tokens",
            text=text,
        )
    probs = {label: value / observed for label, value in mass.items()}
    note = "; alternatives leading to several labels were split evenly" if split else ""
    method = (
        f"top_logprobs at {deciding} deciding token(s), renormalised over {len(names)} labels; "
        f"the alternatives seen covered {min(observed, 1.0):.1%} of the probability{note}"
    )
    return LabelDistribution(probs, chosen, min(observed, 1.0), deciding, method)


def _tokens(completion: Answer, choice: int, text: str) -> Sequence[TokenLogprob]:
    from wafer_grammar.client.types import ChatCompletion, Completion

    picked = completion
    if isinstance(completion, (Completion, ChatCompletion)):
        picked = completion.choices[choice]
    logprobs = getattr(picked, "logprobs", None)
    if logprobs is None or not logprobs.content:
        raise LogprobsMissing(
            "the answer has no logprobs: request it with logprobs=True and top_logprobs=N "
            "(N at least the number of labels)",
            text=text,
        )
    content: Sequence[TokenLogprob] = logprobs.content
    return content
