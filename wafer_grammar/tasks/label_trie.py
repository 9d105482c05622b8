"""Exact label probabilities: walk the label trie with token-ID prefill, one request per branch.

Method. A choice grammar makes the model spell one label, token by token, then
stop. At a *node* (the prompt plus the tokens spelled so far, ``text``) several
labels may still be possible; one ``max_tokens=1`` request, whose grammar allows
only the possible labels' remaining suffixes (``""`` too, when ``text`` is itself a
label), reports ``top_logprobs`` over the next token. Each reported token that
keeps a label possible is a child (its text extends ``text``; a control token
after a complete label is the stop); the probability of a path is the product of
its steps, and P(label) is the sum over every path that spells it and stops. A
node with only one label left contributes its whole mass to it, so only branching
nodes cost a request, and all nodes of one depth go at once (they share the
prompt prefix: a server's prefix cache hits).

Exactness. When the server reports logprobs after the grammar mask (``masked``,
Wafer's and the embedded engine's case), a node's children already sum to 1 and
any mass not reported (beyond ``top_logprobs``) is counted as unobserved. When it
reports them before the mask, the children are renormalised among themselves,
which is the masked distribution exactly (as long as they all fit in the top-k).
``observed`` is the mass the walk accounted for before the final renormalisation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wafer_grammar.decoding.distribution import LabelDistribution, label_probabilities
from wafer_grammar.errors import LogprobsMissing, UnmaskedLogprobs
from wafer_grammar.grammar import Grammar
from wafer_grammar.label_set import validate_labels
from wafer_grammar.tasks.steps import Complete, Many, Steps

if TYPE_CHECKING:
    from wafer_grammar.client.types import Completion
    from wafer_grammar.tokenize.tokenizer import Tokenizer

METHODS = ("exact", "first-token")
PRUNE = 1e-9
"""Paths less likely than this are not expanded (their mass counts as unobserved)."""
OUTSIDE = 1e-6
"""With a masking server, a reported token outside the labels above this is an error."""


@dataclass(frozen=True)
class _Node:
    text: str
    path: tuple[int, ...]
    mass: float


class PieceIndex:
    """A tokenizer's vocabulary by piece text (built once per tokenizer and run)."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        ids_of: dict[str, list[int]] = {}
        for token_id, piece in enumerate(tokenizer.pieces(range(tokenizer.vocab_size))):
            ids_of.setdefault(piece, []).append(token_id)
        self.by_text = {piece: ids[0] for piece, ids in ids_of.items()}
        for piece, ids in ids_of.items():
            # several ids spell the same text: the one the text encodes to stands for it
            encoded = tokenizer.encode(piece) if len(ids) > 1 and piece else []
            if len(encoded) == 1 and encoded[0] in ids:
                self.by_text[piece] = encoded[0]
        self.stops = frozenset(tokenizer.control_tokens())


def _suffix_grammar(text: str, live: Sequence[str]) -> str:
    from wafer_grammar.ebnf.render import render_string

    suffixes = dict.fromkeys(label[len(text) :] for label in live)
    return "root ::= " + " | ".join(render_string(s) for s in suffixes) + "\n"


def _step_options(grammar: str, top_logprobs: int) -> dict[str, Any]:
    return {
        "grammar": grammar,
        "max_tokens": 1,
        "temperature": 0,
        "logprobs": True,
        "top_logprobs": top_logprobs,
    }


def _ask(model: str, prompt: list[int], grammar: str, top: int) -> Steps[Completion]:
    answer: Completion = yield Complete(model, prompt, _step_options(grammar, top))
    return answer


def label_distribution_steps(
    model: str,
    prompt: Sequence[int],
    labels: Sequence[str],
    *,
    tokenizer: Tokenizer,
    method: str = "exact",
    top_logprobs: int = 20,
    masked: bool = True,
    index: PieceIndex | None = None,
) -> Steps[LabelDistribution]:
    """The distribution over ``labels`` after ``prompt``, as steps (see module docstring).

    Raises:
        InvalidLabels: empty or duplicate labels. ValueError: an unknown ``method``.
        LogprobsMissing: the server sent no logprobs.
        UnmaskedLogprobs: (``masked``) reported mass on tokens outside the labels.
    """
    names = validate_labels(labels)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if method == "first-token":
        return (yield from _first_token(model, list(prompt), names, tokenizer, top_logprobs))
    index = index or PieceIndex(tokenizer)
    mass = dict.fromkeys(names, 0.0)
    frontier = [_Node("", (), 1.0)]
    depth = 0
    asked: list[Completion] = []
    while frontier:
        branching: list[tuple[_Node, list[str]]] = []
        for node in frontier:
            live = [label for label in names if label.startswith(node.text)]
            if len(live) == 1:
                mass[live[0]] += node.mass  # one label left: the grammar spells it out
            elif live:
                branching.append((node, live))
        if not branching:
            break
        depth += 1
        bodies = tuple(
            _ask(model, [*prompt, *node.path], _suffix_grammar(node.text, live), top_logprobs)
            for node, live in branching
        )
        answers: list[Completion] = yield Many(bodies, len(bodies))
        asked += answers
        frontier = []
        for (node, live), answer in zip(branching, answers, strict=True):
            frontier += _children(node, live, answer, index, mass, masked=masked)
    observed = sum(mass.values())
    if observed <= 0:
        raise LogprobsMissing("no reported token leads to any label", text="")
    probabilities = {label: m / observed for label, m in mass.items()}
    requests = len(asked)
    how = "after the grammar mask" if masked else "renormalised over the allowed tokens"
    return LabelDistribution(
        probabilities,
        None,
        min(observed, 1.0),
        depth,
        f"exact: label trie walked with token-ID prefill, {requests} request(s) over "
        f"{depth} branching depth(s), logprobs {how}; the walk covered "
        f"{min(observed, 1.0):.4%} of the probability",
        requests=requests,
        answers=tuple(asked),
    )


def usual_walk_depths(labels: Sequence[str], tokenizer: Tokenizer) -> tuple[int, ...]:
    """The depth (tokens after the prompt) of each request the exact walk makes for
    one prompt when the model spells every label in its usual tokens (each label
    encoded alone). Other spellings add requests, so this is an estimate, not a bound."""
    names = validate_labels(labels)
    paths = [tuple(tokenizer.encode(label)) for label in names]
    nodes = {path[:depth] for path in paths for depth in range(len(path))}
    depths = []
    for node in sorted(nodes, key=len):
        text = tokenizer.decode(list(node)) if node else ""
        if sum(label.startswith(text) for label in names) > 1:
            depths.append(len(node))
    return tuple(depths)


def _children(
    node: _Node,
    live: list[str],
    answer: Completion,
    index: PieceIndex,
    mass: dict[str, float],
    *,
    masked: bool,
) -> list[_Node]:
    choice = answer.choices[0] if answer.choices else None
    content = choice.logprobs.content if choice is not None and choice.logprobs else ()
    if not content:
        raise LogprobsMissing(
            "a trie step came back without logprobs: the server must report top_logprobs "
            "for /v1/completions",
            text=choice.text if choice is not None else "",
        )
    first = content[0]
    reported = {alt.token: alt.logprob for alt in first.top}
    reported.setdefault(first.token, first.logprob)
    allowed: list[tuple[str, float, bool]] = []  # (token text, probability, is the stop)
    for text, logprob in reported.items():
        p = math.exp(logprob)
        if node.text in live and (text in index.stops or text == ""):
            allowed.append((text, p, True))
        elif text and any(label.startswith(node.text + text) for label in live):
            allowed.append((text, p, False))
        elif masked and p > OUTSIDE:
            raise UnmaskedLogprobs(
                f"the server reported probability {p:.3g} for token {text!r}, which the "
                f"grammar does not allow after {node.text!r}: its logprobs are not masked by "
                "the grammar (or it ignored the grammar); choose the server's profile"
            )
    total = 1.0 if masked else sum(p for _, p, _ in allowed)
    children = []
    for text, p, stop in allowed:
        share = node.mass * p / total if total > 0 else 0.0
        if stop:
            mass[node.text] += share
        elif share >= PRUNE and text in index.by_text:
            children.append(_Node(node.text + text, (*node.path, index.by_text[text]), share))
    return children


def _first_token(
    model: str, prompt: list[int], names: tuple[str, ...], tokenizer: Tokenizer, top: int
) -> Steps[LabelDistribution]:
    from wafer_grammar.tokenize import check_labels, max_tokens_for

    grammar = Grammar.choice(names)
    options = {
        **_step_options(grammar.to_ebnf(), top),
        "max_tokens": 2 * max_tokens_for(grammar, tokenizer),
    }
    answer: Completion = yield Complete(model, prompt, options)
    found = label_probabilities(answer, grammar)
    decides = check_labels(list(names), tokenizer).first_token_decides
    note = (
        "exact: the labels' first tokens differ, so one token decides"
        if decides
        else "first tokens shared: use method='exact' for exact probabilities"
    )
    return LabelDistribution(
        found.probabilities,
        found.chosen,
        found.observed,
        found.deciding_tokens,
        f"first-token: {found.method} ({note})",
        answers=(answer,),
    )
