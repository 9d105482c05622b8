"""The one validator for label sets (choices), used by every layer that takes labels.

A label set is a non-empty sequence of distinct, non-empty strings; order matters
(it is the order of the choice grammar's alternatives and of reports). Pure: no
I/O, and it imports nothing of the package but its errors.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence

from wafer_grammar.errors import InvalidLabels

FoldKey = Callable[[str], Hashable]


def validate_labels(
    labels: Iterable[str] | object, *, fold: FoldKey | None = None
) -> tuple[str, ...]:
    """``labels`` as a tuple, or :class:`InvalidLabels` saying what is wrong with them.

    Parameters:
        labels: the label set (any iterable of strings but a lone string).
        fold: a key under which two labels count as equal (e.g. case folding for a
            case-insensitive choice); None compares them exactly.

    Raises:
        InvalidLabels: a lone string or a non-iterable, no labels, a label that is
            not a string, the empty label, or duplicates (``.labels`` lists them).
    """
    if isinstance(labels, (str, bytes)):
        raise InvalidLabels(f"labels must be a list of strings, not the string {labels!r}")
    if not isinstance(labels, Iterable):
        raise InvalidLabels(
            f"labels must be a list of strings, not {type(labels).__name__}: {labels!r}"
        )
    items = list(labels)
    if not items:
        raise InvalidLabels("no labels: a choice needs at least one label")
    bad = [repr(x) for x in items if not isinstance(x, str)]
    if bad:
        raise InvalidLabels(f"labels must be strings, not {', '.join(bad)}")
    if "" in items:
        raise InvalidLabels("the empty string is not a valid label", [""])
    seen: set[Hashable] = set()
    duplicates: list[str] = []
    for label in items:
        key = label if fold is None else fold(label)
        if key in seen:
            duplicates.append(label)
        seen.add(key)
    if duplicates:
        shown = ", ".join(repr(d) for d in dict.fromkeys(duplicates))
        how = "" if fold is None else " (ignoring case)"
        raise InvalidLabels(f"duplicate labels{how}: {shown}", list(dict.fromkeys(duplicates)))
    return tuple(items)


def prefix_pairs(
    labels: Sequence[str], *, key: Callable[[str], Sequence[object]] | None = None
) -> list[tuple[str, str]]:
    """``(shorter, longer)`` pairs where one label is a proper prefix of another.

    After the shorter one a model may stop or go on, so such sets are ambiguous to
    stop on. ``key`` maps a label to the sequence compared (e.g. case-folded code
    points); None compares the strings themselves.
    """
    keys = [label if key is None else key(label) for label in labels]
    return [
        (short, long)
        for i, short in enumerate(labels)
        for j, long in enumerate(labels)
        if len(keys[j]) > len(keys[i]) and keys[j][: len(keys[i])] == keys[i]
    ]
