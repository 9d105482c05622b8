"""JSON strings: characters and escapes, lengths counted in characters, patterns.

A string's content is a sequence of ``char``: one raw character that JSON
allows unescaped, or one escape (``\\n``, ``\\"``, ``\\u00e9``). So
``minLength``/``maxLength`` (which count decoded characters) are a plain
repetition count. ``\\u`` escapes of surrogates are left out: a pair would
count as two characters but decode to one.

A ``pattern`` is converted at the level of decoded characters (ECMA-262 and
Python ``re`` agree on the part we accept), then each character class is
re-encoded: raw where JSON allows, the escape where it must be.
"""

from __future__ import annotations

from wafer_grammar.convert.json_schema.numbers import alt, seq
from wafer_grammar.convert.regex import class_node
from wafer_grammar.ebnf.regex import complement, normalize, positive_ranges
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    Literal,
    Repeat,
    Rule,
    RuleRef,
    Sequence,
)

Ranges = tuple[tuple[int, int], ...]

#: Characters a JSON string must escape, plus surrogates (not encodable in UTF-8).
_UNSAFE: Ranges = ((0x00, 0x1F), (0x22, 0x22), (0x5C, 0x5C), (0xD800, 0xDFFF))
_SHORT = {
    0x22: '\\"',
    0x5C: "\\\\",
    0x08: "\\b",
    0x0C: "\\f",
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
}

STRING_EBNF = r"""
string ::= "\"" char* "\""
char ::= [^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" (hex-nd hex hex hex | [dD] [0-7] hex hex))
hex ::= [0-9a-fA-F]
hex-nd ::= [0-9a-cA-Ce-fE-F]
"""


def string_rules() -> list[Rule]:
    """``string``, ``char``, ``hex``, ``hex-nd``: any JSON string."""
    from wafer_grammar.ebnf.parser import parse_ebnf

    return list(parse_ebnf(STRING_EBNF, root="string").rules)


_CHAR_REF = RuleRef("char")


def string_of_length(low: int, high: int | None) -> Expr:
    """A JSON string of ``low..high`` characters (an escape counts as one).

    XGrammar compiles a large count (``char{0,20000}``) as cheaply as a small one.
    """
    return Sequence((Literal('"'), Repeat(_CHAR_REF, low, high), Literal('"')))


# --------------------------------------------------------------------------- patterns


def _encode_char(cp: int) -> str:
    if cp in _SHORT:
        return _SHORT[cp]
    if cp < 0x20:
        return f"\\u{cp:04x}"
    return chr(cp)


def encode_ranges(ranges: Ranges) -> Expr | None:
    """Characters in ``ranges`` as a JSON string writes them: raw where it may, else escaped."""
    safe = _intersect(ranges, complement(normalize(list(_UNSAFE))))
    parts: list[Expr | None] = [class_node(safe) if safe else None]
    for lo, hi in ranges:
        for cp in range(max(lo, 0), min(hi, 0x5C) + 1):
            if cp < 0x20 or cp in (0x22, 0x5C):
                parts.append(Literal(_encode_char(cp)))
    return alt(*parts)


def _intersect(a: Ranges, b: Ranges) -> Ranges:
    out = []
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            if max(lo1, lo2) <= min(hi1, hi2):
                out.append((max(lo1, lo2), min(hi1, hi2)))
    return normalize(out)


def json_encode(expr: Expr) -> Expr | None:
    """A decoded-character language -> the language of its JSON string contents."""
    if isinstance(expr, Literal):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in expr.value):
            return None
        return Literal("".join(_encode_char(ord(c)) for c in expr.value))
    if isinstance(expr, CharClass):
        return encode_ranges(positive_ranges(expr))
    if isinstance(expr, Sequence):
        return seq(*(json_encode(i) for i in expr.items))
    if isinstance(expr, Choice):
        return alt(*(json_encode(a) for a in expr.alternatives))
    if isinstance(expr, Repeat):
        inner = json_encode(expr.item)
        if inner is None:
            return Literal("") if expr.min == 0 else None
        return Repeat(inner, expr.min, expr.max)
    raise TypeError(f"unexpected node in a pattern: {expr!r}")  # pragma: no cover


def length_bounds(expr: Expr) -> tuple[int, int | None]:
    """Shortest and longest string of a reference-free expression (None: unbounded)."""
    if isinstance(expr, Literal):
        return len(expr.value), len(expr.value)
    if isinstance(expr, CharClass):
        return 1, 1
    if isinstance(expr, Sequence):
        lo = 0
        total: int | None = 0
        for item in expr.items:
            a, b = length_bounds(item)
            lo += a
            total = None if total is None or b is None else total + b
        return lo, total
    if isinstance(expr, Choice):
        bounds = [length_bounds(a) for a in expr.alternatives]
        his = [b for _, b in bounds]
        return min(a for a, _ in bounds), None if None in his else max(
            h for h in his if h is not None
        )
    if isinstance(expr, Repeat):
        a, b = length_bounds(expr.item)
        high = None if expr.max is None or b is None else b * expr.max
        return a * expr.min, high
    raise TypeError(f"unexpected node: {expr!r}")  # pragma: no cover


def _single_char(expr: Expr) -> bool:
    return length_bounds(expr) == (1, 1)


def limit_length(expr: Expr, low: int, high: int | None) -> Expr | bool | None:
    """``expr`` cut to strings of ``low..high`` characters.

    Returns the cut expression, None when no string is left, or False when the
    cut cannot be expressed by adjusting one repetition (the caller decides).
    """
    a, b = length_bounds(expr)
    if a >= low and (high is None or (b is not None and b <= high)):
        return expr
    if (high is not None and a > high) or (b is not None and b < low):
        return None
    items = expr.items if isinstance(expr, Sequence) else (expr,)
    loose = [i for i, item in enumerate(items) if length_bounds(item)[0] != length_bounds(item)[1]]
    if len(loose) != 1:
        return False
    k = loose[0]
    target = items[k]
    if not isinstance(target, Repeat) or not _single_char(target.item):
        return False
    fixed = sum(length_bounds(x)[0] for i, x in enumerate(items) if i != k)
    lo = max(target.min, low - fixed)
    hi_options = [h for h in (target.max, None if high is None else high - fixed) if h is not None]
    hi = min(hi_options) if hi_options else None
    if hi is not None and lo > hi:
        return None
    new = list(items)
    new[k] = Repeat(target.item, lo, hi)
    return new[0] if len(new) == 1 else Sequence(tuple(new))
