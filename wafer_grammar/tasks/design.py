"""Label-design warnings: label sets that weaken forced-choice classification.

Warnings are not errors: they live here, not in :mod:`wafer_grammar.errors`,
whose classes are all ``WaferGrammarError``. ``WaferGrammarWarning`` is the root
to filter on (``warnings.simplefilter("error", WaferGrammarWarning)``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wafer_grammar.tokenize.tokenizer import Tokenizer


class WaferGrammarWarning(UserWarning):
    """Root of the warnings the tasks issue on purpose."""


class LabelDesignWarning(WaferGrammarWarning):
    """Labels that share a first token, or one label that is a prefix of another: the first
    generated token no longer decides, or the model may stop early (see ``check_labels``)."""


class EmptyTextWarning(WaferGrammarWarning):
    """A text to classify is empty (or only white space): its label shows only the
    model's prior over the labels, not anything about the text."""


EMPTY_TEXT_PROBLEM = "the text is empty: its label reflects only the model's prior"


def empty_text_warnings(text: str, *, stacklevel: int = 4) -> list[str]:
    """``[EMPTY_TEXT_PROBLEM]`` (also issued as :class:`EmptyTextWarning`) for an empty
    text, else ``[]``."""
    if text.strip():
        return []
    warnings.warn(EmptyTextWarning(EMPTY_TEXT_PROBLEM), stacklevel=stacklevel)
    return [EMPTY_TEXT_PROBLEM]


def design_warnings(
    labels: Sequence[str], tokenizer: Tokenizer, *, stacklevel: int = 4
) -> list[str]:
    """``check_labels`` problems, each also issued as a :class:`LabelDesignWarning`.

    ``stacklevel`` 4 points past this function, the task's helper and the task
    itself, at the caller's line.
    """
    from wafer_grammar.tokenize import check_labels

    problems = check_labels(list(labels), tokenizer).problems()
    for problem in problems:
        warnings.warn(LabelDesignWarning(problem), stacklevel=stacklevel)
    return problems
