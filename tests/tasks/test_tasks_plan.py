"""One plan per run: a batch builds its grammar once, and concurrent classification equals sequential."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from wafer_grammar.client import AsyncWaferClient, WaferClient
from wafer_grammar.grammar import Grammar
from wafer_grammar.tasks import BatchJob, classify, run_batch

MODEL = "SmolLM2-135M-Instruct"
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 20},
        "age": {"type": "integer", "minimum": 0},
        "city": {"type": "string", "maxLength": 20},
        "vip": {"type": "boolean"},
    },
    "required": ["name", "age", "city", "vip"],
    "additionalProperties": False,
}
ANSWER = {"name": "Ann", "age": 41, "city": "Oslo", "vip": False}


def answer_everything(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/models"):
        return httpx.Response(200, json={"object": "list", "data": [{"id": MODEL}]})
    text = json.dumps(ANSWER, separators=(",", ":"))
    return httpx.Response(
        200,
        json={
            "id": "c",
            "object": "text_completion",
            "model": MODEL,
            "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
        },
    )


def test_a_batch_extract_builds_its_schema_grammar_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = []
    original = Grammar.from_json_schema.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Grammar], schema: Any, **options: Any) -> Grammar:
        built.append(schema)
        return original(cls, schema, **options)  # type: ignore[no-any-return]

    monkeypatch.setattr(Grammar, "from_json_schema", classmethod(counting))
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": f"person {i}"}) + "\n" for i in range(200)))
    out = tmp_path / "out.jsonl"

    async def run() -> Any:
        transport = httpx.MockTransport(answer_everything)
        async with AsyncWaferClient(base_url="http://s.test/v1", transport=transport) as client:
            job = BatchJob(task="extract", model=MODEL, schema=SCHEMA)
            return await run_batch(
                job, str(source), str(out), client=client, concurrency=8, show_progress=False
            )

    summary = asyncio.run(run())
    assert (summary.ok, summary.failed) == (200, 0)
    assert len(built) == 1  # once for the run, not once per input
    values = [json.loads(line)["value"] for line in out.read_text().splitlines()]
    assert values == [ANSWER] * 200


def test_concurrent_classification_equals_sequential(
    client: WaferClient, local_server: Any
) -> None:
    texts = ["Loved it.", "Broke in a day.", "Fine, I guess.", "Terrible support.", "Superb!"]
    labels = ["positive", "negative"]
    one = classify(texts, labels, model=local_server.model, client=client, concurrency=1)
    many = classify(texts, labels, model=local_server.model, client=client, concurrency=4)
    assert [c.label for c in many] == [c.label for c in one]
    # Concurrent requests share the engine's batches: the same sums in another order,
    # so probabilities agree to float noise (~1e-6), not bit for bit.
    for a, b in zip(one, many, strict=True):
        for label in labels:
            assert abs(a.probabilities[label] - b.probabilities[label]) < 1e-4


def test_a_bad_concurrency_is_refused(client: WaferClient, local_server: Any) -> None:
    with pytest.raises(ValueError, match="concurrency must be a positive integer, not 0"):
        classify(["x"], ["a", "b"], model=local_server.model, client=client, concurrency=0)


def test_auto_walks_the_trie_when_first_tokens_do_not_decide(
    client: WaferClient, local_server: Any
) -> None:
    labels = ["yes", "yes but", "no"]
    with pytest.warns(Warning):  # LabelDesignWarning: "yes" is a prefix of "yes but"
        found = classify("Is water wet?", labels, model=local_server.model, client=client)
    assert set(found.probabilities) == set(labels)
    assert abs(sum(found.probabilities.values()) - 1) < 1e-9
    assert found.label == max(labels, key=lambda label: found.probabilities[label])
    assert found.usage is not None and found.usage.completion_tokens >= 2  # several steps


def test_calibration_divides_out_the_content_free_prior(
    client: WaferClient, local_server: Any
) -> None:
    from wafer_grammar.tasks.classification import calibrated

    labels = ["positive", "negative"]
    raw = classify("It works.", labels, model=local_server.model, client=client)
    cal = classify("It works.", labels, model=local_server.model, client=client, calibrate=True)
    assert cal.prior is not None and set(cal.prior) == set(labels)
    # Two runs of the same requests: equal up to float32 noise, since a prompt's KV
    # may come from the prefix cache or a fresh, differently batched prefill (seen:
    # 1.4e-6 apart), which depends on the requests that ran before.
    expected = calibrated(raw, cal.prior).probabilities
    assert cal.probabilities == pytest.approx(expected, abs=1e-4)
    weights = {label: raw.probabilities[label] / cal.prior[label] for label in labels}
    total = sum(weights.values())
    for label in labels:
        assert abs(cal.probabilities[label] - weights[label] / total) < 1e-4
