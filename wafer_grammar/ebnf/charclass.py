"""Code point sets: the one place that says what a character class matches.

Every stage (lexer, regex parsers, analyses, lint, acceptance) reads classes
through these functions, so a class means the same thing everywhere:

- Ranges are inclusive ``(low, high)`` pairs, clamped to :data:`MAX_CODE_POINT`.
  XGrammar takes escapes beyond U+10FFFF (``[\\x992d8e]``); no text can contain
  such a code point, so a range above it matches nothing and one reaching past
  it stops at U+10FFFF.
- A complement (``[^...]``, ``.``, ``\\D`` ...) is taken over Unicode *without
  the surrogates* U+D800..U+DFFF: they cannot occur in UTF-8 text, which is all
  the server ever judges, so no negated class matches one. A surrogate written
  out explicitly (``[\\uD800]``) is kept as written.
"""

from __future__ import annotations

from collections.abc import Iterable

from wafer_grammar.ebnf.syntax import CharClass

#: The largest code point text can contain (the whole package uses this one).
MAX_CODE_POINT = 0x10FFFF
#: UTF-16 surrogates: never in UTF-8 text, left out of every complement.
SURROGATES = (0xD800, 0xDFFF)

Ranges = tuple[tuple[int, int], ...]


def normalize(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Sorted, merged, non-overlapping ranges, clamped to :data:`MAX_CODE_POINT`."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        hi = min(hi, MAX_CODE_POINT)
        if lo > hi:
            continue
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def complement(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Every code point not in ``ranges``, surrogates excluded (see the module docstring)."""
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in normalize([*ranges, SURROGATES]):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CODE_POINT:
        out.append((nxt, MAX_CODE_POINT))
    return tuple(out)


def intersect(a: Ranges, b: Ranges) -> Ranges:
    """Code points in both normalized range lists."""
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


#: Every code point a negated class or ``.`` can match.
ANY: Ranges = complement(())


def positive_ranges(cc: CharClass) -> Ranges:
    """The code points ``cc`` matches, as normalized ranges (negation resolved)."""
    ranges = normalize(cc.ranges)
    return complement(ranges) if cc.negated else ranges


def class_ranges(cc: CharClass) -> list[tuple[int, int]]:
    """The code points ``cc`` matches as sorted, merged, inclusive ranges."""
    return list(positive_ranges(cc))


def class_size(cc: CharClass) -> int:
    """How many code points ``cc`` matches (0 for ``[]``)."""
    return sum(hi - lo + 1 for lo, hi in positive_ranges(cc))


def class_members(cc: CharClass, limit: int) -> list[str] | None:
    """The characters ``cc`` matches, in code point order; ``None`` if more than ``limit``."""
    if class_size(cc) > limit:
        return None
    return [chr(cp) for lo, hi in positive_ranges(cc) for cp in range(lo, hi + 1)]


def is_whitespace_class(cc: CharClass) -> bool:
    """Whether ``cc`` matches some characters and all of them are whitespace."""
    ranges = positive_ranges(cc)
    if not ranges or sum(hi - lo + 1 for lo, hi in ranges) > 64:
        return False
    return all(chr(cp).isspace() for lo, hi in ranges for cp in range(lo, hi + 1))
