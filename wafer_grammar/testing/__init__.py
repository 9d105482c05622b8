"""Test grammars like code: member and near-miss strategies, case files, a pytest plugin.

``from wafer_grammar.testing import strings`` imports hypothesis; nothing here is
imported by ``import wafer_grammar``, and the names below load their modules on
first use, so the pytest plugin (which lives in this package) stays cheap to
load for test suites that never touch a grammar.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wafer_grammar.testing.assertions import (
        Engine,
        GrammarAssertionError,
        assert_accepts,
        assert_rejects,
    )
    from wafer_grammar.testing.case_coverage import CoverageReport
    from wafer_grammar.testing.cases import CaseFile, CaseFileError, load_cases
    from wafer_grammar.testing.near_miss import near_misses
    from wafer_grammar.testing.plan import EmptyLanguage
    from wafer_grammar.testing.runner import GrammarRun, run_grammar
    from wafer_grammar.testing.strategies import strings

_WHERE = {
    "Engine": "assertions",
    "GrammarAssertionError": "assertions",
    "assert_accepts": "assertions",
    "assert_rejects": "assertions",
    "CaseFile": "cases",
    "CaseFileError": "cases",
    "load_cases": "cases",
    "CoverageReport": "coverage",
    "near_misses": "near_miss",
    "EmptyLanguage": "plan",
    "GrammarRun": "runner",
    "run_grammar": "runner",
    "strings": "strategies",
}

__all__ = [
    "CaseFile",
    "CaseFileError",
    "CoverageReport",
    "EmptyLanguage",
    "Engine",
    "GrammarAssertionError",
    "GrammarRun",
    "assert_accepts",
    "assert_rejects",
    "load_cases",
    "near_misses",
    "run_grammar",
    "strings",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
