"""``make demo`` (examples/classify_reviews.py) on the embedded model: plainly
positive/negative reviews get their own label through classify's default prompt."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from wafer_grammar import WaferClient
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


@pytest.fixture
def client(local_server_session: LocalServerHandle) -> Iterator[WaferClient]:
    with WaferClient(
        base_url=local_server_session.base_url, api_key=local_server_session.api_key
    ) as opened:
        yield opened


def test_demo_labels_every_review_as_its_own_label(
    client: WaferClient, demo: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    demo.main(client)
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["LABEL", "P", "REVIEW"]
    rows = out[1 : 1 + len(demo.REVIEWS)]
    for row, (text, expected) in zip(rows, demo.REVIEWS, strict=True):
        label, probability, verdict, *_ = row.split()
        assert (label, verdict) == (expected, "ok"), row
        assert 0.5 < float(probability) <= 1.0
        assert row.endswith(text)
    assert out[-1].startswith(f"{len(demo.REVIEWS)}/{len(demo.REVIEWS)} as labelled")
