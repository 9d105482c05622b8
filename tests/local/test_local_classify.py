"""Forced-choice classification on the embedded model: compliance, and the obvious cases.

A 135M model is no judge of subtle reviews; only the label set and plainly
positive/negative reviews are asserted.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

from wafer_grammar.local.pytest_fixtures import LocalServerHandle

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "classify_reviews.py"


@pytest.fixture(scope="module")
def demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("classify_reviews", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["classify_reviews"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("review", "label"),
    [
        (
            "Absolutely loved it! The food was delicious and the staff were wonderful. "
            "Highly recommend.",
            "positive",
        ),
        (
            "Terrible experience. The room was dirty, the staff were rude, and I want my money back.",
            "negative",
        ),
    ],
)
def test_obvious_reviews(
    local_server_session: LocalServerHandle, demo: ModuleType, review: str, label: str
) -> None:
    got, probability = demo.classify(local_server_session.server.engine, review)
    assert got == label
    assert 0.5 < probability <= 1.0


def test_every_review_gets_a_label(
    local_server_session: LocalServerHandle, demo: ModuleType
) -> None:
    for review in demo.REVIEWS:
        label, probability = demo.classify(local_server_session.server.engine, review)
        assert label in demo.LABELS
        assert 0.0 < probability <= 1.0 + 1e-6
        assert not math.isnan(probability)


def test_demo_runs(
    local_server_session: LocalServerHandle, demo: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    demo.main()
    out = capsys.readouterr().out.splitlines()
    assert out[2].split() == ["LABEL", "P", "REVIEW"]
    assert len(out) == 3 + len(demo.REVIEWS)
    assert all(line.split()[0] in demo.LABELS for line in out[3:])
