"""A pydantic model becomes a grammar; every output parses back into the model.

Run: .venv/bin/python examples/convert_model.py
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from wafer_grammar import Grammar
from wafer_grammar.testing.strategies import sample_members


class Review(BaseModel):
    sentiment: Literal["positive", "negative", "neutral"]
    stars: int = Field(ge=1, le=5)
    summary: str = Field(max_length=60)
    reviewed_on: dt.date | None = None


grammar = Grammar.from_model(Review)
print(grammar.to_ebnf())
for tree in sample_members(grammar, 3, seed=7):
    text = tree.flatten()
    print(text, "->", Review.model_validate_json(text))
