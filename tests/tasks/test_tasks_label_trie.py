"""Exact label probabilities against brute force: every grammar-allowed token path, teacher-forced.

The referee is computed here from the embedded engine's model directly: for each
token path the choice grammar allows (XGrammar's own mask at every step), the
product of the masked next-token probabilities, summed per label. The trie walk
sees the model only through HTTP (logprobs of ``max_tokens=1`` requests).
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from typing import Any

import pytest

from wafer_grammar import Grammar, label_distribution
from wafer_grammar.client import WaferClient
from wafer_grammar.tasks.classification import messages_for

PRUNE = 1e-8  # a path below this is dropped; the total dropped is asserted below 1e-5


def brute_force(
    engine: Any, prompt: list[int], labels: list[str]
) -> tuple[dict[str, float], float]:
    """P(label) summed over every grammar-allowed token path, and the mass pruned.

    Breadth first: every path of one length goes through the model in one batch, on
    top of the prompt's cached keys and values (computed once).
    """
    import torch
    import xgrammar as xgr
    from transformers import DynamicCache

    loaded = engine.loaded
    compiled = engine.compile(Grammar.choice(labels).to_ebnf())
    stops = set(loaded.stop_token_ids)
    found: dict[str, float] = defaultdict(float)
    pruned = 0.0
    with torch.inference_mode():
        prefix = DynamicCache(config=loaded.model.config)
        loaded.model(input_ids=torch.tensor([prompt[:-1]]), cache=prefix, use_cache=True)
    level: list[tuple[list[int], str, float]] = [([], "", 1.0)]
    while level:
        cache = copy.deepcopy(prefix)
        cache.batch_repeat_interleave(len(level))
        ids = torch.tensor([[prompt[-1], *path] for path, _, _ in level])
        with torch.inference_mode():
            logits = loaded.model(input_ids=ids, cache=cache, use_cache=True).logits[:, -1, :]
        logits = logits.float()
        bitmask = xgr.allocate_token_bitmask(len(level), loaded.vocab_size)
        for row, (path, _, _) in enumerate(level):
            matcher = xgr.GrammarMatcher(compiled)
            assert all(matcher.accept_token(token) for token in path)
            matcher.fill_next_token_bitmask(bitmask, row)
        xgr.apply_token_bitmask_inplace(logits, bitmask)
        logprobs = torch.log_softmax(logits, dim=-1)
        following = []
        for row, (path, text, mass) in enumerate(level):
            for token in torch.nonzero(torch.isfinite(logprobs[row])).flatten().tolist():
                share = mass * math.exp(float(logprobs[row, token]))
                if token in stops:
                    found[text] += share
                elif share < PRUNE:
                    pruned += share
                else:
                    spelled = text + loaded.tokenizer.decode([token])
                    following.append(([*path, token], spelled, share))
        level = following
    return dict(found), pruned


@pytest.mark.parametrize(
    ("question", "labels"),
    [
        ("Which city is the Statue of Liberty in?", ["New York", "New Jersey", "Newark", "Boston"]),
        ("Is the sky green? Answer yes, or yes but, or no.", ["yes", "yes but", "no"]),
    ],
    ids=["shared-prefixes", "label-is-prefix-of-label"],
)
def test_exact_matches_brute_force(
    client: WaferClient, local_server: Any, question: str, labels: list[str]
) -> None:
    engine = local_server.server.engine
    prompt = engine.tokenizer.encode_chat(messages_for(question, labels, None), thinking=False).ids
    found = label_distribution(client, local_server.model, prompt, labels, method="exact")
    expected, pruned = brute_force(engine, prompt, labels)
    assert pruned < 1e-5
    total = sum(expected.values())
    assert abs(total - 1.0) < 1e-4  # every path of the grammar ends in a label
    for label in labels:
        assert abs(found.probabilities[label] - expected.get(label, 0.0) / total) < 1e-4, label
    assert found.requests >= 2  # the first tokens do not decide: more than one node
    assert found.method.startswith("exact: label trie walked with token-ID prefill")
    assert found.observed > 0.9999


def test_first_token_says_when_it_is_exact(client: WaferClient, local_server: Any) -> None:
    engine = local_server.server.engine
    labels = ["positive", "negative"]
    prompt = engine.tokenizer.encode_chat(
        messages_for("I loved it.", labels, None), thinking=False
    ).ids
    fast = label_distribution(client, local_server.model, prompt, labels, method="first-token")
    exact = label_distribution(client, local_server.model, prompt, labels, method="exact")
    assert fast.method.endswith("(exact: the labels' first tokens differ, so one token decides)")
    assert fast.requests == 1 and exact.requests == 1
    for label in labels:
        assert abs(fast.probabilities[label] - exact.probabilities[label]) < 1e-4


def test_an_unknown_method_is_refused(client: WaferClient, local_server: Any) -> None:
    with pytest.raises(ValueError, match="method must be one of exact, first-token, not 'best'"):
        label_distribution(client, local_server.model, [1, 2], ["a", "b"], method="best")


def test_the_usual_walk_estimates_the_requests(client: WaferClient, local_server: Any) -> None:
    from wafer_grammar.tasks.batch import Estimate
    from wafer_grammar.tasks.label_trie import usual_walk_depths

    engine = local_server.server.engine
    labels = ["New York", "New Jersey", "Newark", "Boston"]
    depths = usual_walk_depths(labels, engine.tokenizer)
    assert depths[0] == 0 and len(depths) >= 2 and list(depths) == sorted(depths)
    assert usual_walk_depths(["positive", "negative"], engine.tokenizer) == (0,)
    question = "Which city is the Statue of Liberty in?"
    prompt = engine.tokenizer.encode_chat(messages_for(question, labels, None), thinking=False).ids
    found = label_distribution(client, local_server.model, prompt, labels, method="exact")
    assert found.requests >= len(depths)  # other spellings only add requests
    text = Estimate(3, 0, 120, 6, "m", 0.5, bounded=False).render()
    assert text.startswith("dry run: 3 inputs to process (0 already in the output), about 120")
    assert "estimated cost about" in text and "at most" not in text
