"""Exact numeric ranges as grammars: integers by digit patterns, decimals by digit comparison.

A JSON number is judged by ``jsonschema`` after ``json.loads``: an integer
text becomes a Python ``int`` (compared exactly with the bound), a text with a
fraction becomes a ``float`` (compared after rounding). So a bounded number is
two forms:

- *integer form* (``-12``): bounds are exact, ``ceil``/``floor`` of the bound's
  exact value;
- *fraction form* (``-12.50``): bounds are decimal, chosen so that rounding
  to a float can never carry a text across the bound: the shortest decimal of
  the nearest float inside the range, inclusive (see :func:`float_safe_low`).

Exponents (``1e5``) are left out of bounded numbers: a narrowing, never a widening.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from wafer_grammar.ebnf.syntax import CharClass, Choice, Expr, Literal, Repeat, Sequence

DIGIT = CharClass(((0x30, 0x39),))
NONZERO = CharClass(((0x31, 0x39),))
_DIGITS = Repeat(DIGIT, 0, None)
_DIGITS1 = Repeat(DIGIT, 1, None)


def seq(*items: Expr | None) -> Expr | None:
    """A flattened sequence; None (the empty language) if any item is None."""
    out: list[Expr] = []
    for item in items:
        if item is None:
            return None
        if isinstance(item, Sequence):
            out.extend(item.items)
        elif item != Literal(""):
            out.append(item)
    merged: list[Expr] = []
    for item in out:  # adjacent literals read better as one
        if merged and isinstance(item, Literal) and isinstance(merged[-1], Literal):
            merged[-1] = Literal(merged[-1].value + item.value)
        else:
            merged.append(item)
    if not merged:
        return Literal("")
    return merged[0] if len(merged) == 1 else Sequence(tuple(merged))


def alt(*items: Expr | None) -> Expr | None:
    """A flattened choice of the non-empty-language items; None if there are none."""
    out: list[Expr] = []
    for item in items:
        if item is None:
            continue
        for a in item.alternatives if isinstance(item, Choice) else (item,):
            if a not in out:
                out.append(a)
    if not out:
        return None
    return out[0] if len(out) == 1 else Choice(tuple(out))


def digit_range(lo: int, hi: int) -> Expr | None:
    if lo > hi:
        return None
    if lo == hi:
        return Literal(str(lo))
    return CharClass(((0x30 + lo, 0x30 + hi),))


def _any_digits(n: int) -> Expr:
    return Literal("") if n == 0 else Repeat(DIGIT, n, n) if n > 1 else DIGIT


# --------------------------------------------------------------------------- integers


def _same_length(lo: str, hi: str) -> Expr | None:
    """Digit strings of ``len(lo)`` between ``lo`` and ``hi`` (leading zeros allowed)."""
    if lo > hi:
        return None
    if not lo:
        return Literal("")
    if lo[0] == hi[0]:
        return seq(Literal(lo[0]), _same_length(lo[1:], hi[1:]))
    rest = len(lo) - 1
    first_lo = int(lo[0]) if set(lo[1:]) <= {"0"} else int(lo[0]) + 1
    first_hi = int(hi[0]) if set(hi[1:]) <= {"9"} else int(hi[0]) - 1
    return alt(
        None if first_lo == int(lo[0]) else seq(Literal(lo[0]), _same_length(lo[1:], "9" * rest)),
        seq(digit_range(first_lo, first_hi), _any_digits(rest)),
        None if first_hi == int(hi[0]) else seq(Literal(hi[0]), _same_length("0" * rest, hi[1:])),
    )


def natural_range(lo: int, hi: int | None) -> Expr | None:
    """Texts (no leading zeros) of the integers ``lo..hi`` (``lo >= 0``; ``hi`` None: no end)."""
    if hi is not None and lo > hi:
        return None
    parts: list[Expr | None] = []
    length = len(str(lo))
    top = len(str(hi)) if hi is not None else length
    full: list[int] = []  # lengths whose every number is in range: one alternative for all
    for n in range(length, top + 1):
        start = max(lo, 10 ** (n - 1) if n > 1 else 0)
        end = 10**n - 1 if hi is None else min(hi, 10**n - 1)
        if n > 1 and (start, end) == (10 ** (n - 1), 10**n - 1):
            if not full:
                parts.append(None)  # its place, filled below
            full.append(n)
        elif start <= end:
            parts.append(_same_length(str(start), str(end)))
    if full:
        low, high = full[0] - 1, full[-1] - 1
        rest = _any_digits(low) if low == high else Repeat(DIGIT, low, high)
        parts[parts.index(None)] = seq(NONZERO, rest)
    if hi is None:  # every longer number
        parts.append(seq(NONZERO, Repeat(DIGIT, length, None)))
    return alt(*parts)


def integer_range(lo: int | None, hi: int | None) -> Expr | None:
    """JSON integer texts in ``lo..hi`` (None: unbounded); ``-0`` is never produced."""
    if lo is not None and hi is not None and lo > hi:
        return None
    negative = None
    if lo is None or lo < 0:
        mag_hi = None if lo is None else -lo
        mag_lo = 1 if hi is None or hi >= 0 else -hi
        negative = seq(Literal("-"), natural_range(mag_lo, mag_hi))
    positive = None
    if hi is None or hi >= 0:
        positive = natural_range(max(lo or 0, 0), hi)
    return alt(negative, positive)


# --------------------------------------------------------------------------- decimals


@dataclass(frozen=True)
class Bound:
    """One end of a range: a value and whether it is included."""

    value: Decimal
    inclusive: bool


def _split(value: Decimal) -> tuple[int, str]:
    """A non-negative decimal as (integer part, fraction digits without trailing zeros)."""
    text = format(value, "f")
    whole, _, frac = text.partition(".")
    return int(whole), frac.rstrip("0")


def _zeros(b: str) -> int:
    return len(b) - len(b.lstrip("0"))


def _zero_run(k: int) -> Expr:
    """Exactly ``k`` zeros: ``"0"{323}`` reads better than 323 of them in a literal."""
    return Literal("0" * k) if k <= 8 else Repeat(Literal("0"), k, k)


def _ge(b: str, inclusive: bool, allow_empty: bool) -> Expr | None:
    """Digit strings f with 0.f >= 0.b (> when not inclusive)."""
    if not b:
        if inclusive:
            return _DIGITS if allow_empty else _DIGITS1
        return seq(Repeat(Literal("0"), 0, None), NONZERO, _DIGITS)
    k = _zeros(b)
    if k > 1:  # fewer leading zeros than b: already larger
        return alt(
            seq(Repeat(Literal("0"), 0, k - 1), NONZERO, _DIGITS),
            seq(_zero_run(k), _ge(b[k:], inclusive, True)),
        )
    d = int(b[0])
    return alt(seq(digit_range(d + 1, 9), _DIGITS), seq(Literal(b[0]), _ge(b[1:], inclusive, True)))


def _le(b: str, inclusive: bool, allow_empty: bool) -> Expr | None:
    """Digit strings f with 0.f <= 0.b (< when not inclusive)."""
    if not b:
        if not inclusive:
            return None
        return Repeat(Literal("0"), 0 if allow_empty else 1, None)
    k = _zeros(b)
    if k > 1:  # only zeros may come first: a nonzero digit there is already larger
        low = 0 if allow_empty else 1
        return alt(
            Repeat(Literal("0"), low, k - 1) if k - 1 >= low else None,
            seq(_zero_run(k), _le(b[k:], inclusive, True)),
        )
    d = int(b[0])
    return alt(
        Literal("") if allow_empty else None,
        seq(digit_range(0, d - 1), _DIGITS),
        seq(Literal(b[0]), _le(b[1:], inclusive, True)),
    )


def _between(b: str, d: str, lo_inc: bool, hi_inc: bool, allow_empty: bool) -> Expr | None:
    """Digit strings f with 0.b <= 0.f <= 0.d (each end per its flag); ``b < d``."""
    if b == d:
        return seq(Literal(b), Repeat(Literal("0"), 0, None)) if lo_inc and hi_inc else None
    k = min(_zeros(b) if b else len(d), _zeros(d))
    if k > 1:  # a run of leading zeros both ends share: f must begin with it (or be zero)
        zero = None
        if not b and lo_inc:
            zero = Repeat(Literal("0"), 0 if allow_empty else 1, k - 1)
        return alt(zero, seq(_zero_run(k), _between(b[k:], d[k:], lo_inc, hi_inc, True)))
    bd = int(b[0]) if b else 0
    dd = int(d[0]) if d else 0
    if bd == dd:
        empty = Literal("") if allow_empty and not b and lo_inc else None
        return alt(empty, seq(Literal(str(bd)), _between(b[1:], d[1:], lo_inc, hi_inc, True)))
    low = _ge(b[1:], lo_inc, True) if b else (_DIGITS if lo_inc else _ge("", False, True))
    return alt(
        Literal("") if allow_empty and not b and lo_inc else None,
        seq(Literal(str(bd)), low),
        seq(digit_range(bd + 1, dd - 1), _DIGITS),
        seq(Literal(str(dd)), _le(d[1:], hi_inc, True)),
    )


def magnitude_fraction(low: Bound, high: Bound | None) -> Expr | None:
    """Texts ``I.F`` (F non-empty) of non-negative decimals in the range."""
    if high is not None and (
        low.value > high.value
        or (low.value == high.value and not (low.inclusive and high.inclusive))
    ):
        return None
    a, b = _split(low.value)
    if high is None:
        return alt(
            seq(natural_range(a + 1, None), Literal("."), _DIGITS1),
            seq(Literal(str(a) + "."), _ge(b, low.inclusive, False)),
        )
    c, d = _split(high.value)
    if a == c:
        return seq(Literal(str(a) + "."), _between(b, d, low.inclusive, high.inclusive, False))
    return alt(
        seq(Literal(str(a) + "."), _ge(b, low.inclusive, False)),
        seq(natural_range(a + 1, c - 1), Literal("."), _DIGITS1),
        seq(Literal(str(c) + "."), _le(d, high.inclusive, False)),
    )


def fraction_range(low: Bound | None, high: Bound | None) -> Expr | None:
    """JSON texts with a fraction (``-1.25``, no exponent) of decimals in the range."""
    zero = Decimal(0)
    positive = None
    if high is None or high.value >= zero:
        start = low if low is not None and low.value >= zero else Bound(zero, True)
        positive = magnitude_fraction(start, high)
    negative = None
    if low is None or low.value < zero:
        mag_low = (
            Bound(-high.value, high.inclusive)
            if high is not None and high.value < zero
            else Bound(zero, False)
        )
        mag_high = None if low is None else Bound(-low.value, low.inclusive)
        negative = seq(Literal("-"), magnitude_fraction(mag_low, mag_high))
    return alt(negative, positive)


# --------------------------------------------------------------------------- float safety


def _next_up(x: float) -> float:
    return math.nextafter(x, math.inf)


def _next_down(x: float) -> float:
    return math.nextafter(x, -math.inf)


def _float_at_or_above(value: Fraction) -> float:
    f = float(value)
    return f if Fraction(f) >= value else _next_up(f)


def _float_at_or_below(value: Fraction) -> float:
    f = float(value)
    return f if Fraction(f) <= value else _next_down(f)


def float_safe_low(value: Fraction, inclusive: bool) -> Bound:
    """A decimal lower bound past which every text rounds to a float satisfying ``value``.

    Inclusive: the shortest decimal of the smallest float >= the bound. Exclusive:
    that of the smallest float > the bound, inclusive. Rounding is monotonic, so a
    text at or above that decimal rounds to that float or above. The price: texts
    within one float step above an exclusive bound are refused (never wrongly accepted).
    """
    target = _float_at_or_above(value)
    if not inclusive and Fraction(target) == value:
        target = _next_up(target)
    return Bound(Decimal(repr(target)), True)


def float_safe_high(value: Fraction, inclusive: bool) -> Bound:
    """The mirror of :func:`float_safe_low`."""
    target = _float_at_or_below(value)
    if not inclusive and Fraction(target) == value:
        target = _next_down(target)
    return Bound(Decimal(repr(target)), True)


def _round_in(n: int | None, *, up: bool) -> int | None:
    """A huge bound rounded inward to 17 significant digits (a float's worth).

    ``floor(6.4e299)`` has 300 significant digits, each a level of grammar; the
    rounded bound gives up less than one part in 10**16 of the range.
    """
    if n is None or len(str(abs(n))) <= 20:
        return n
    step = int(10 ** (len(str(abs(n))) - 17))
    return -((-n) // step) * step if up else (n // step) * step


def number_range(
    low: Fraction | None,
    low_inclusive: bool,
    high: Fraction | None,
    high_inclusive: bool,
    *,
    integer: bool,
) -> Expr | None:
    """JSON texts whose value (as ``json.loads`` + ``jsonschema`` judge it) is in the range.

    None when no value is (the range is empty).
    """
    lo_int = (
        None
        if low is None
        else (
            math.floor(low) + 1 if not low_inclusive and low == math.floor(low) else math.ceil(low)
        )
    )
    hi_int = (
        None
        if high is None
        else (
            math.ceil(high) - 1
            if not high_inclusive and high == math.ceil(high)
            else math.floor(high)
        )
    )
    ints = integer_range(_round_in(lo_int, up=True), _round_in(hi_int, up=False))
    if integer:
        return ints
    fracs = fraction_range(
        None if low is None else float_safe_low(low, low_inclusive),
        None if high is None else float_safe_high(high, high_inclusive),
    )
    return alt(ints, fracs)
