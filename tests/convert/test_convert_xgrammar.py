"""Every converted grammar compiles in XGrammar and agrees with our acceptor on samples."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from schemas import ALL

from wafer_grammar import Grammar
from wafer_grammar.engines.xgrammar_oracle import XGrammarMatcher, xgrammar_available
from wafer_grammar.testing.strategies import sample_members

pytestmark = pytest.mark.skipif(
    not xgrammar_available(),
    reason="xgrammar is not installed: run `make venv` (or pip install --no-deps xgrammar==0.2.8 "
    "apache-tvm-ffi next to torch) to compare with the server's engine",
)


def _mutations(text: str, rng: random.Random) -> list[str]:
    out = []
    for _ in range(6):
        at = rng.randrange(len(text) + 1)
        ch = rng.choice('{}[],:"\\ 0-1.aZ\n')
        out.append(
            text[:at] + ch + text[at + 1 :] if rng.random() < 0.5 else text[:at] + ch + text[at:]
        )
    return out


def _agree(grammar: Grammar, samples: list[str]) -> None:
    matcher = XGrammarMatcher(grammar.to_ebnf())
    for text in samples:
        assert matcher.accepts(text) is grammar.accepts(text), (text, grammar.to_ebnf())


GRAMMARS: dict[str, Any] = {
    **{
        f"schema-{name}-{style}": (lambda s=s, st=style: Grammar.from_json_schema(s, whitespace=st))
        for name, s in ALL.items()
        for style in ("compact", "pretty")
    },
    "regex-email": lambda: Grammar.from_regex(r"[\w.+-]+@[a-z0-9-]+(\.[a-z]{2,})+"),
    "regex-unicode": lambda: Grammar.from_regex(r"(?i)straße \d{2,3}\s?[^\W\d]+"),
    "regex-dot": lambda: Grammar.from_regex(r"a.{1,3}b", re.DOTALL),
    "choice": lambda: Grammar.choice(["yes", "no", 'say "hi"\n', "\\", "naïve"]),
    "choice-caseless": lambda: Grammar.choice(["Positive", "negative"], case_sensitive=False),
}


@pytest.mark.parametrize("name", sorted(GRAMMARS))
def test_converted_grammar_compiles_and_agrees(name: str) -> None:
    grammar = GRAMMARS[name]()
    rng = random.Random(name)
    members = [t.flatten() for t in sample_members(grammar, 12, seed=1)]
    samples = members + [m for t in members for m in _mutations(t, rng)]
    _agree(grammar, samples)


def big_schema(fields: int) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for i in range(fields):
        kind = i % 6
        props[f"field_{i}"] = [
            {"type": "string", "maxLength": 40 + i},
            {"type": "integer", "minimum": -i, "maximum": 1000 * i + 7},
            {"type": "number", "exclusiveMinimum": 0.5, "maximum": i + 0.25},
            {"enum": [f"v{i}", f"w{i}", None]},
            {"type": "array", "items": {"$ref": "#/$defs/item"}, "maxItems": 5},
            {"type": "string", "format": ["date-time", "uuid", "email"][i % 3]},
        ][kind]
    return {
        "type": "object",
        "properties": props,
        "required": [f"field_{i}" for i in range(0, fields, 7)],
        "additionalProperties": False,
        "$defs": {
            "item": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "sub": {"$ref": "#/$defs/item"}},
                "required": ["name"],
                "additionalProperties": False,
            }
        },
    }


def test_big_schema_stays_small_and_compiles() -> None:
    # The work is bounded by the grammar's size, measured here instead of seconds (a
    # wall-clock bound fails on a loaded machine): it stays small and grows linearly
    # with the schema, so no keyword blows it up. (Timings: bench/, not tests.)
    grammar = Grammar.from_json_schema(big_schema(120))
    size = len(grammar.to_ebnf())
    assert size < 60_000
    assert len(Grammar.from_json_schema(big_schema(240)).to_ebnf()) < 2.2 * size
    matcher = XGrammarMatcher(grammar.to_ebnf())
    doc = {f"field_{i}": None for i in range(0, 120, 7)}
    doc = {k: (f"v{int(k[6:])}" if int(k[6:]) % 6 == 3 else None) for k in doc}
    assert not matcher.accepts(json.dumps(doc))  # wrong types for most fields
