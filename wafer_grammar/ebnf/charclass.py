"""What a character class matches: merged code point ranges, size, members.

Shared by the analyses and the lint; a negated class is complemented over
Unicode without the surrogates, which cannot occur in UTF-8 text.
"""

from __future__ import annotations

from wafer_grammar.ebnf.syntax import CharClass

#: Code points a character class can match: all of Unicode but the surrogates,
#: which cannot occur in UTF-8 text.
_SURROGATES = (0xD800, 0xDFFF)
_MAX_CP = 0x10FFFF


def class_ranges(cc: CharClass) -> list[tuple[int, int]]:
    """The code points ``cc`` matches as sorted, merged, inclusive ranges.

    A negated class is complemented over Unicode without the surrogates.
    """
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(r for r in cc.ranges if r[0] <= r[1]):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    if not cc.negated:
        return merged
    out: list[tuple[int, int]] = []
    start = 0
    for lo, hi in [*merged, _SURROGATES]:
        if lo > start:
            out.append((start, lo - 1))
        start = max(start, hi + 1)
    if start <= _MAX_CP:
        out.append((start, _MAX_CP))
    # Cut the surrogates out of whatever complement range spans them.
    return [
        piece
        for lo, hi in out
        for piece in ((lo, min(hi, 0xD7FF)), (max(lo, 0xE000), hi))
        if piece[0] <= piece[1]
    ]


def class_size(cc: CharClass) -> int:
    """How many code points ``cc`` matches (0 for ``[]``)."""
    return sum(hi - lo + 1 for lo, hi in class_ranges(cc))


def class_members(cc: CharClass, limit: int) -> list[str] | None:
    """The characters ``cc`` matches, in code point order; ``None`` if more than ``limit``."""
    if class_size(cc) > limit:
        return None
    return [chr(cp) for lo, hi in class_ranges(cc) for cp in range(lo, hi + 1)]


def is_whitespace_class(cc: CharClass) -> bool:
    """Whether ``cc`` matches some characters and all of them are whitespace."""
    ranges = class_ranges(cc)
    if not ranges or sum(hi - lo + 1 for lo, hi in ranges) > 64:
        return False
    return all(chr(cp).isspace() for lo, hi in ranges for cp in range(lo, hi + 1))
