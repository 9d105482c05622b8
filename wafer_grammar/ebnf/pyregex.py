"""Grammar AST (regular parts) -> Python ``re`` pattern text, safe inside a lark ``/.../``.

The emitted pattern uses printable ASCII only: letters, digits and space raw,
ASCII punctuation backslash-escaped, everything else as ``\\xHH``/``\\uHHHH``/
``\\UHHHHHHHH``. That one spelling is valid for ``re`` directly *and* survives
lark's grammar loader, which re-evaluates ``\\x``/``\\u``/``\\U`` escapes into raw
characters and doubles backslashes before other characters. Quotes are written
as ``\\x22``/``\\x27`` because the loader special-cases them, and ``\\b`` is never
used (it would become a word boundary).
"""

from __future__ import annotations

from collections.abc import Callable

from wafer_grammar.ebnf.charclass import MAX_CODE_POINT, Ranges, positive_ranges
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    Literal,
    MacroCall,
    Repeat,
    RuleRef,
    Sequence,
)

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _")
_QUOTES = frozenset("\"'")
NOTHING = "[^\\x00-\\U0010FFFF]"  # a one-character class with no members
_ALL = "[\\x00-\\U0010FFFF]"


def escape_char(ch: str) -> str:
    """One code point as a pattern atom (outside or inside a class)."""
    if ch in _SAFE:
        return ch
    cp = ord(ch)
    if cp < 0x80 and ch.isprintable() and ch not in _QUOTES:
        return "\\" + ch
    if cp < 0x100:
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def _every_other(ranges: Ranges) -> Ranges:
    """The code points not in ``ranges``, surrogates included: what ``[^...]`` means to ``re``."""
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CODE_POINT:
        out.append((nxt, MAX_CODE_POINT))
    return tuple(out)


def class_pattern(ranges: Ranges) -> str:
    """A one-character pattern for normalized ``ranges`` (negated when that is shorter)."""
    if not ranges:
        return NOTHING
    if ranges == ((0, MAX_CODE_POINT),):
        return _ALL
    comp = _every_other(ranges)
    negate = len(comp) < len(ranges)
    body = "".join(
        escape_char(chr(lo)) if lo == hi else f"{escape_char(chr(lo))}-{escape_char(chr(hi))}"
        for lo, hi in (comp if negate else ranges)
    )
    if not negate and len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return body
    return ("[^" if negate else "[") + body + "]"


def _group(pattern: str) -> str:
    return f"(?:{pattern})"


def expr_pattern(expr: Expr, rule_pattern: Callable[[str], str]) -> str:
    """The pattern for ``expr``; ``rule_pattern(name)`` gives a referenced regular rule's."""
    if isinstance(expr, Literal):
        return "".join(escape_char(ch) for ch in expr.value)
    if isinstance(expr, CharClass):
        return class_pattern(positive_ranges(expr))
    if isinstance(expr, RuleRef):
        return _group(rule_pattern(expr.name))
    if isinstance(expr, Sequence):
        return "".join(_atomic_for_seq(item, rule_pattern) for item in expr.items)
    if isinstance(expr, Choice):
        return _group("|".join(expr_pattern(a, rule_pattern) for a in expr.alternatives))
    if isinstance(expr, Repeat):
        inner = expr_pattern(expr.item, rule_pattern)
        if inner == "":
            return ""
        if expr.max == 0:
            return ""
        atom = inner if _is_atom(expr.item, inner) else _group(inner)
        lo, hi = expr.min, expr.max
        if (lo, hi) == (0, None):
            return atom + "*"
        if (lo, hi) == (1, None):
            return atom + "+"
        if (lo, hi) == (0, 1):
            return atom + "?"
        if hi is None:
            return f"{atom}{{{lo},}}"
        if lo == hi:
            return f"{atom}{{{lo}}}"
        return f"{atom}{{{lo},{hi}}}"
    assert isinstance(expr, MacroCall)
    raise ValueError(f"macro {expr.name} has no regex form")  # callers exclude these


def _is_atom(expr: Expr, pattern: str) -> bool:
    if isinstance(expr, CharClass):
        return True
    if isinstance(expr, Literal):
        return len(expr.value) == 1
    return isinstance(expr, (RuleRef, Choice))  # already grouped


def _atomic_for_seq(expr: Expr, rule_pattern: Callable[[str], str]) -> str:
    return expr_pattern(expr, rule_pattern)  # choices group themselves, so plain concatenation
