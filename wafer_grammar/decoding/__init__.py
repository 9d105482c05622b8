"""From a completion to a value: validation by layers, label probabilities, cost.

Pure (no I/O) and light: ``jsonschema`` and ``pydantic`` load only when used.
"""

from wafer_grammar.decoding.answer_check import decode
from wafer_grammar.decoding.cost import Cost, cost_of
from wafer_grammar.decoding.distribution import LabelDistribution, label_probabilities
from wafer_grammar.decoding.partial import (
    PartialJSON,
    apartial_values,
    astream_texts,
    partial_values,
    stream_texts,
)

__all__ = [
    "Cost",
    "LabelDistribution",
    "PartialJSON",
    "apartial_values",
    "astream_texts",
    "cost_of",
    "decode",
    "label_probabilities",
    "partial_values",
    "stream_texts",
]
