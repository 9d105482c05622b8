"""Output budgets and label design for finite languages (forced-choice answers).

Canonical tokenization: each label encoded alone, as ``Tokenizer.encode`` gives
it. Under a grammar the model may spell a label with other tokens than the
canonical ones (``"pos" + "itive"`` instead of ``"positive"``), which is what
the margin of :func:`max_tokens_for` is for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from wafer_grammar.errors import LanguageNotFinite
from wafer_grammar.label_set import prefix_pairs, validate_labels

DEFAULT_MARGIN = 2
"""1 token for the end-of-sequence the grammar forces after a complete label (so the
finish reason is ``stop``, not ``length``), plus 1 for a non-canonical split."""

LANGUAGE_LIMIT = 10_000


class _Encoder(Protocol):
    def encode(self, text: str) -> list[int]: ...

    def pieces(self, ids: Sequence[int]) -> list[str]: ...


def language_of(grammar: Any, *, limit: int = LANGUAGE_LIMIT) -> list[str]:
    """The members of a finite language: a grammar with ``finite_language()`` or strings."""
    if hasattr(grammar, "finite_language"):
        members = grammar.finite_language(limit=limit)
        if members is None:
            raise LanguageNotFinite(
                f"the grammar's language is infinite or has more than {limit} strings; "
                "max_tokens_for needs a finite language such as a set of choices"
            )
        return [str(m) for m in members]
    return list(validate_labels(grammar))


def max_tokens_for(grammar: Any, tokenizer: _Encoder, *, margin: int = DEFAULT_MARGIN) -> int:
    """``max_tokens`` for a finite language: the longest member's canonical tokens + margin.

    Parameters:
        grammar: A ``Grammar`` (uses its ``finite_language()``) or a sequence of label strings.
        tokenizer: The served model's tokenizer.
        margin: Extra tokens; the default (2) covers the end-of-sequence token the grammar
            forces after a complete label and one non-canonical split.

    Raises:
        LanguageNotFinite: The grammar's language is infinite or too large to list.
        InvalidLabels: a label sequence that is not a valid label set.
    """
    members = language_of(grammar)
    return max(len(tokenizer.encode(m)) for m in members) + _checked_margin(margin)


def _checked_margin(margin: int) -> int:
    if isinstance(margin, bool) or not isinstance(margin, int) or margin < 0:
        raise ValueError(f"margin must be a non-negative integer, not {margin!r}")
    return margin


@dataclass(frozen=True)
class LabelTokens:
    """One label's canonical tokens."""

    label: str
    ids: list[int]
    pieces: list[str]


@dataclass(frozen=True)
class LabelReport:
    """How a label set tokenizes, and whether its design lets one token decide."""

    labels: list[LabelTokens]
    max_tokens: int
    """``max_tokens_for`` with the margin used."""
    shared_first_tokens: dict[int, list[str]]
    """First-token id -> the labels that start with it (only ids shared by two or more)."""
    prefix_labels: list[tuple[str, str]]
    """(shorter, longer) pairs where one label is a prefix of another: stopping is ambiguous."""
    empty_labels: list[str]

    @property
    def first_token_decides(self) -> bool:
        """True when every label starts with its own token: one generated token picks it."""
        return not self.shared_first_tokens and not self.empty_labels

    def problems(self) -> list[str]:
        """Human-readable design problems; empty when the label set is clean."""
        out = []
        for token_id, labels in self.shared_first_tokens.items():
            names = ", ".join(repr(x) for x in labels)
            out.append(
                f"labels {names} all start with token {token_id}: the first generated "
                "token does not decide between them"
            )
        for shorter, longer in self.prefix_labels:
            out.append(
                f"label {shorter!r} is a prefix of {longer!r}: after {shorter!r} the model "
                "may stop or go on"
            )
        for label in self.empty_labels:
            out.append(f"label {label!r} is empty: it needs no token at all")
        return out


def check_labels(labels: Any, tokenizer: _Encoder, *, margin: int = DEFAULT_MARGIN) -> LabelReport:
    """Tokenize a label set and report its design (see :class:`LabelReport`)."""
    members = language_of(labels)
    rows = []
    for label in members:
        ids = tokenizer.encode(label)
        rows.append(LabelTokens(label, ids, tokenizer.pieces(ids)))
    by_first: dict[int, list[str]] = {}
    for row in rows:
        if row.ids:
            by_first.setdefault(row.ids[0], []).append(row.label)
    shared = {tid: names for tid, names in by_first.items() if len(names) > 1}
    prefixes = prefix_pairs([m for m in members if m])
    return LabelReport(
        labels=rows,
        max_tokens=max(len(row.ids) for row in rows) + _checked_margin(margin),
        shared_first_tokens=shared,
        prefix_labels=prefixes,
        empty_labels=[r.label for r in rows if not r.ids],
    )
