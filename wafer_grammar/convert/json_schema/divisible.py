"""Integers divisible by ``k`` as a grammar: the digits read left to right keep a remainder.

A decimal text ``d1 d2 ... dn`` is divisible by ``k`` when the remainder it leaves,
updated digit by digit as ``r -> (10 r + d) mod k``, ends at 0: a finite automaton
with ``k`` states, one rule each. The sign does not change divisibility.
"""

from __future__ import annotations

from wafer_grammar.convert.json_schema.numbers import alt, digit_range, seq
from wafer_grammar.ebnf.syntax import CharClass, Expr, Literal, RuleRef

#: Divisors up to this get an automaton (one rule per remainder).
MAX_DIVISOR = 1000


def _digits(ds: list[int]) -> Expr:
    """One of the digits ``ds`` (ascending), as a character class."""
    ranges: list[tuple[int, int]] = []
    for d in ds:
        if ranges and ranges[-1][1] == 0x30 + d - 1:
            ranges[-1] = (ranges[-1][0], 0x30 + d)
        else:
            ranges.append((0x30 + d, 0x30 + d))
    if len(ranges) == 1:
        found = digit_range(ranges[0][0] - 0x30, ranges[0][1] - 0x30)
        assert found is not None
        return found
    return CharClass(tuple(ranges))


def multiples(k: int, names: list[str]) -> tuple[list[Expr], Expr]:
    """Positive integer texts (no leading zeros) divisible by ``k`` (``k >= 1``).

    ``names`` are the ``k`` rules to use, one per remainder; returns their bodies and
    the expression of the positive multiples (no sign).
    """
    refs = [RuleRef(n) for n in names]

    def step(r: int, ds: range) -> Expr | None:
        by_target: dict[int, list[int]] = {}
        for d in ds:
            by_target.setdefault((10 * r + d) % k, []).append(d)
        return alt(*(seq(_digits(g), refs[t]) for t, g in sorted(by_target.items())))

    bodies = []
    for r in range(k):
        body = alt(Literal("") if r == 0 else None, step(r, range(10)))
        assert body is not None
        bodies.append(body)
    magnitude = step(0, range(1, 10))
    assert magnitude is not None
    return bodies, magnitude
