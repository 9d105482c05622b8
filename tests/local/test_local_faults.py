"""The fault plan: order, path filters, JSON form, and its refusals by exact text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wafer_grammar.errors import InvalidRequest
from wafer_grammar.local.faults import Fault, FaultPlan, RequestRecord


def test_faults_are_taken_in_order_by_matching_requests() -> None:
    plan = FaultPlan()
    plan.add(Fault.rate_limit(2.0, path="/v1/completions"), Fault.server_error(503))
    assert plan.take("/_wafer_grammar/faults") is None  # control routes never take faults
    assert plan.take("/v1/models") == Fault.server_error(503)
    assert plan.take("/v1/models") is None
    assert plan.take("/v1/completions") == Fault(
        "status", status=429, retry_after=2.0, path="/v1/completions"
    )
    assert plan.pending() == []


def test_log_and_clear() -> None:
    plan = FaultPlan()
    plan.add(Fault.cut_stream())
    plan.record(RequestRecord("GET", "/v1/models", 200))
    assert plan.requests == [RequestRecord("GET", "/v1/models", 200, None)]
    plan.clear()
    assert (plan.requests, plan.pending()) == ([], [])


def test_round_trip_through_json(tmp_path: Path) -> None:
    faults = [Fault.slow_first_byte(0.5), Fault.malformed_json(2), Fault.cut_stream(3)]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"faults": [f.to_dict() for f in faults]}))
    assert FaultPlan.from_file(path).pending() == faults
    path.write_text(json.dumps([f.to_dict() for f in faults]))
    assert FaultPlan.from_file(path).pending() == faults


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({}, 'a fault must be an object with a "kind"'),
        (
            {"kind": "explode"},
            "fault kind must be one of status, slow_first_byte, cut_stream, malformed_json, not 'explode'",
        ),
        ({"kind": "status", "status": 200}, "a status fault needs a 4xx or 5xx status, not 200"),
        ({"kind": "status", "colour": "red"}, "unknown fault field(s): colour"),
        ({"kind": "slow_first_byte", "delay": -1}, "delay and after_chunks must not be negative"),
    ],
)
def test_bad_faults(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        Fault.from_dict(doc)
    assert str(info.value) == message


def test_bad_plan_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"x": 1}')
    with pytest.raises(InvalidRequest) as info:
        FaultPlan.from_file(path)
    assert str(info.value) == f'{path}: a fault plan is a list of faults or {{"faults": [...]}}'
