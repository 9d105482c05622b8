"""classify against the embedded server: labels, probabilities, prompt layout, warnings."""

from __future__ import annotations

import math
from typing import Any

import pytest

from wafer_grammar.client import WaferClient
from wafer_grammar.errors import InvalidLabels
from wafer_grammar.tasks import Classification, LabelDesignWarning, classify
from wafer_grammar.tasks.classification import plan, tokenizer_for

LABELS = ["positive", "negative"]


def test_one_text_gets_one_label_and_a_distribution(client: WaferClient, local_server: Any) -> None:
    found = classify("Great phone, I love it.", LABELS, model=local_server.model, client=client)
    assert isinstance(found, Classification)
    assert found.label in LABELS
    assert set(found.probabilities) == set(LABELS)
    assert math.isclose(sum(found.probabilities.values()), 1.0)
    assert found.label == max(found.probabilities, key=lambda k: found.probabilities[k])
    assert found.generated in LABELS
    assert found.usage is not None
    # The minimum the label set allows: the chosen label's own tokens, then the stop
    # token (the grammar allows nothing else once a label is complete).
    label_tokens = tokenizer_for(local_server.model).encode(found.generated)
    assert found.usage.completion_tokens == len(label_tokens) + 1
    assert found.cost is not None and found.cost.total_cents == 0.0  # the local card prices 0
    assert found.warnings == () and found.position_spread is None
    assert found.to_dict()["usage"]["prompt_tokens"] == found.usage.prompt_tokens


def test_texts_share_the_prompt_prefix_up_to_the_text(local_server: Any) -> None:
    tokenizer = tokenizer_for(local_server.model)
    one = plan("The battery died.", LABELS, tokenizer).prompts[0]
    two = plan("Lovely screen!", LABELS, tokenizer).prompts[0]
    shared = next(i for i, (a, b) in enumerate(zip(one, two, strict=False)) if a != b)
    # everything before the text is shared: the server's prefix cache hits it
    assert tokenizer.decode(one[:shared]).endswith(
        "Which fits this text: positive or negative?\n\n"
    )
    options = plan("x", LABELS, tokenizer).options
    assert options["max_tokens"] == 6  # (one token per label here + the margin of 2) x 2
    assert options["temperature"] == 0 and options["logprobs"] is True


def test_several_texts_and_label_orders(client: WaferClient, local_server: Any) -> None:
    found = classify(
        ["Awful.", "Superb."], LABELS, model=local_server.model, client=client, orders=2
    )
    assert len(found) == 2
    for item in found:
        assert len(item.by_order) == 2
        assert item.position_spread is not None and 0 <= item.position_spread <= 1
        assert item.usage is not None and item.usage.completion_tokens >= 2  # two requests


def test_label_design_problems_warn(client: WaferClient, local_server: Any) -> None:
    with pytest.warns(LabelDesignWarning) as caught:
        found = classify(
            "Is it good?", ["yes", "yes but", "no"], model=local_server.model, client=client
        )
    first = tokenizer_for(local_server.model).encode("yes")[0]
    expected = (
        f"labels 'yes', 'yes but' all start with token {first}: the first generated token "
        "does not decide between them",
        "label 'yes' is a prefix of 'yes but': after 'yes' the model may stop or go on",
    )
    assert tuple(str(w.message) for w in caught) == expected
    assert found.warnings == expected
    assert caught[0].filename == __file__  # points at the caller's line


def test_bad_labels_fail_before_any_request(client: WaferClient, local_server: Any) -> None:
    with pytest.raises(InvalidLabels) as info:
        classify("x", ["a", "a"], model=local_server.model, client=client)
    assert str(info.value) == "duplicate labels: 'a'"
    assert local_server.requests() == []


def test_the_default_prompt_reads_plain_reviews(client: WaferClient, local_server: Any) -> None:
    # A regression floor for the default prompt on the embedded model (issue: 16/30 before).
    import json
    from pathlib import Path

    data = Path(__file__).parents[1] / "data" / "sentiment_reviews.jsonl"
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    found = classify(
        [r["text"] for r in rows],
        ["positive", "negative"],
        model=local_server.model,
        client=client,
        calibrate=True,
        concurrency=4,
    )
    right = sum(f.label == r["label"] for f, r in zip(found, rows, strict=True))
    assert right >= 26, f"{right}/30"
