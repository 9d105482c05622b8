"""Python ``re`` patterns -> grammar AST, exactly or not at all.

Reuses the XGrammar-regex parser of :mod:`wafer_grammar.ebnf.regex` and swaps
in Python's meaning where the two differ:

- ``.`` excludes ``\\n`` unless ``re.DOTALL``; ``\\d \\w \\s`` are Unicode unless
  ``re.ASCII`` (tables are built from this interpreter's own ``str`` methods,
  which are what ``re`` uses);
- ``re.IGNORECASE`` folds exactly as ``re`` does: the few thousand cased code
  points are each asked of ``re`` itself;
- ``\\a``, octal escapes, ``\\N{NAME}``, ``{,n}``, a literal ``{`` that opens no
  count, ``]`` first in a class, ``(?#...)`` comments, inline and scoped flags;
- ``^``/``\\A`` only at the start and ``$``/``\\Z`` only at the end (``fullmatch``).

Everything that makes a language non-regular, or that a grammar cannot say
(backreferences, lookaround, ``\\b``, conditionals, atomic groups, possessive
quantifiers, ``re.VERBOSE``), raises :class:`~wafer_grammar.errors.RegexUnsupported`
naming the construct and its position. The pattern is first compiled by
``re`` itself, so malformed patterns get Python's own message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from wafer_grammar.ebnf.charclass import ANY, MAX_CODE_POINT, Ranges, complement, normalize
from wafer_grammar.ebnf.pyregex import class_pattern
from wafer_grammar.ebnf.regex import Group, RegexParser
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    Repeat,
    Rule,
    Sequence,
)
from wafer_grammar.errors import RegexUnsupported

_ASCII_DIGIT: Ranges = ((0x30, 0x39),)
_ASCII_WORD: Ranges = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_ASCII_SPACE: Ranges = ((0x09, 0x0D), (0x1C, 0x20))  # str.isspace() on ASCII, as re's \s
_ECMA_SPACE: Ranges = ((0x09, 0x0D), (0x20, 0x20))
_LINE_TERMINATORS: Ranges = ((0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029))
_BEHIND = "is not supported: a grammar cannot look behind"
_EARLIER = "is not supported: it depends on an earlier group"
_CHANGES = "is not supported: it changes which strings match in a way a grammar cannot follow"
_SIMPLE = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_COUNT = re.compile(r"\{(\d*)(?:(,)(\d*))?\}")
_FLAG_GROUP = re.compile(r"\?([aiLmsux]*)(?:-([imsx]*))?([:)])")
_SUPPORTED_FLAGS = re.IGNORECASE | re.DOTALL | re.ASCII | re.MULTILINE | re.UNICODE


def _table(test: str) -> Ranges:
    ranges: list[tuple[int, int]] = []
    start = -1
    check = {
        "d": str.isdecimal,
        "w": lambda c: c.isalnum() or c == "_",
        "s": str.isspace,
    }[test]
    for cp in range(MAX_CODE_POINT + 1):
        inside = check(chr(cp))
        if inside and start < 0:
            start = cp
        elif not inside and start >= 0:
            ranges.append((start, cp - 1))
            start = -1
    if start >= 0:
        ranges.append((start, MAX_CODE_POINT))
    return tuple(ranges)


@lru_cache(maxsize=3)
def unicode_class(letter: str) -> Ranges:
    """What ``re`` means by ``\\d``, ``\\w`` or ``\\s`` on ``str`` patterns (cached)."""
    return _table(letter)


@lru_cache(maxsize=1)
def _cased() -> tuple[int, ...]:
    """Code points whose membership may change under ``re.IGNORECASE``."""
    return tuple(
        cp
        for cp in range(MAX_CODE_POINT + 1)
        if (ch := chr(cp)).lower() != ch or ch.upper() != ch or ch.casefold() != ch
    )


def _contains(ranges: Ranges, cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def fold_ranges(ranges: Ranges, flags: int) -> Ranges:
    """``ranges`` widened to what a class of them matches under ``flags`` (with IGNORECASE)."""
    probe = re.compile(class_pattern(ranges), flags)
    cased = (
        _cased() if not flags & re.ASCII else tuple(range(0x41, 0x5B)) + tuple(range(0x61, 0x7B))
    )
    extra = [(cp, cp) for cp in cased if not _contains(ranges, cp) and probe.fullmatch(chr(cp))]
    return normalize(list(ranges) + extra)


def class_node(ranges: Ranges) -> Expr:
    """A literal for one code point, else the shorter of the class and its negation."""
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return Literal(chr(ranges[0][0]))
    comp = complement(ranges)
    if len(comp) < len(ranges):
        return CharClass(comp, True)
    return CharClass(ranges)


@dataclass(frozen=True)
class _Anchor(Literal):
    """``^``/``\\A`` (``start=True``) or ``$``/``\\Z``, kept until placement is checked."""

    start: bool = True
    position: int = 0
    text: str = "^"


class PythonRegexParser(RegexParser):
    """The shared regex parser with Python ``re`` meaning (see the module docstring)."""

    bracket_first_literal = True  # re reads "[]a]" as a class holding "]" and "a"

    def __init__(self, pattern: str, flags: int = 0, *, ecma_safe: bool = False) -> None:
        super().__init__(pattern, "", False)
        self.flags = flags
        self.ecma_safe = ecma_safe
        self.fold = False  # folding is done by asking re itself (see fold_class)

    # -- errors -------------------------------------------------------------------
    def unsupported(self, construct: str, position: int, reason: str) -> RegexUnsupported:
        return RegexUnsupported(construct, self.src, position, reason)

    # -- character sets --------------------------------------------------------------
    def cls(self, ranges: Ranges) -> Expr:
        return class_node(self.fold_class(normalize(ranges)))

    def fold_class(self, ranges: Ranges) -> Ranges:
        return fold_ranges(ranges, self.flags) if self.flags & re.IGNORECASE else ranges

    def bracket_node(self, ranges: Ranges) -> Expr:
        return class_node(ranges)  # already folded before negation

    def _shorthand(self, letter: str) -> Ranges:
        if self.ecma_safe:  # what both ECMA-262 and Python mean: ASCII only
            return {"d": _ASCII_DIGIT, "w": _ASCII_WORD, "s": _ECMA_SPACE}[letter]
        if self.flags & re.ASCII:
            return {"d": _ASCII_DIGIT, "w": _ASCII_WORD, "s": _ASCII_SPACE}[letter]
        return unicode_class(letter)

    def dot(self) -> Ranges:
        if self.ecma_safe:
            return complement(_LINE_TERMINATORS)
        if self.flags & re.DOTALL:
            return ANY
        return complement(((10, 10),))

    # -- atoms -------------------------------------------------------------------------
    def atom(self) -> Expr:
        start = self.pos
        ch = self.take()
        if ch == ".":
            return class_node(self.dot())
        if ch in "^$":
            return _Anchor("", start=ch == "^", position=start, text=ch)
        if ch == "\\" and self.peek() in ("A", "Z"):
            letter = self.take()
            return _Anchor("", start=letter == "A", position=start, text="\\" + letter)
        if ch == "{":  # re reads a "{" that opens no count as itself
            return self.cls(((ord(ch), ord(ch)),))
        self.pos = start
        return super().atom()

    def quantifier(self) -> tuple[int, int | None] | None:
        ch = self.peek()
        if ch in ("*", "+", "?"):
            self.pos += 1
            return {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
        if ch == "{":
            return self._python_count()
        return None

    def after_quantifier(self, at: int) -> None:
        if self.peek() == "+":
            raise self.unsupported(
                f"possessive quantifier {self.src[at : self.pos + 1]}",
                at,
                _CHANGES,
            )
        if self.peek() == "?":  # lazy: the same set of full matches
            self.pos += 1

    def repeat(self, atom: Expr, lo: int, hi: int | None, start: int) -> Expr:
        if isinstance(atom, _Anchor):
            atom = Literal("")
        return Repeat(atom, lo, hi)

    def _python_count(self) -> tuple[int, int | None] | None:
        match = _COUNT.match(self.src, self.pos)
        if match is None or (not match.group(1) and not match.group(2)):
            return None
        self.pos = match.end()
        lo = int(match.group(1) or 0)
        if match.group(2) is None:
            return lo, lo
        return lo, int(match.group(3)) if match.group(3) else None

    def open_group(self, start: int) -> Group | Expr:
        if self.peek() != "?":
            return Group(start)
        rest = self.src[self.pos :]
        if rest.startswith("?:"):
            self.pos += 2
            return Group(start)
        if rest.startswith("?P<"):
            self.pos = self.src.index(">", self.pos) + 1
            return Group(start)
        if rest.startswith("?#"):
            self.pos = self.src.index(")", self.pos) + 1
            return Literal("")
        named = {
            "?P=": ("backreference (?P=...)", "is not regular: no grammar can express it"),
            "?=": ("lookahead (?=...)", "is not supported: a grammar cannot look ahead"),
            "?!": ("negative lookahead (?!...)", "is not supported: a grammar cannot look ahead"),
            "?<=": ("lookbehind (?<=...)", "is not supported: a grammar cannot look behind"),
            "?<!": ("negative lookbehind (?<!...)", _BEHIND),
            "?(": ("conditional group (?(...)...)", _EARLIER),
            "?>": ("atomic group (?>...)", _CHANGES),
        }  # fmt: skip
        for prefix, (construct, reason) in named.items():
            if rest.startswith(prefix):
                raise self.unsupported(construct, start, reason)
        return self._flag_group(start)

    def _flag_group(self, start: int) -> Group | Expr:
        match = _FLAG_GROUP.match(self.src, self.pos)
        assert match is not None  # re.compile accepted the pattern
        on, off, end = match.group(1), match.group(2) or "", match.group(3)
        if "x" in on:
            raise self.unsupported(
                "verbose flag (?x)", start, "is not supported: write the pattern without it"
            )
        table = {"i": re.IGNORECASE, "s": re.DOTALL, "a": re.ASCII, "m": 0, "u": 0, "L": 0}
        self.pos = match.end()
        new = self.flags
        for letter in on:
            new |= table[letter]
        for letter in off:
            new &= ~table[letter]
        if end == ")":  # global flags at the start: for the rest of the pattern
            self.flags = new
            return Literal("")
        group = Group(start, saved_flags=self.flags)
        self.flags = new
        return group

    def close_group(self, group: Group, inner: Expr) -> Expr:
        if isinstance(group.saved_flags, int):
            self.flags = group.saved_flags  # a scoped (?i:...) ends here
        return inner

    def escape(self, *, in_class: bool) -> Ranges:
        at = self.pos - 1
        ch = self.take()
        if ch.lower() in ("d", "w", "s"):
            ranges = self._shorthand(ch.lower())
            return ranges if ch.islower() else complement(ranges)
        if ch in _SIMPLE:
            return ((_SIMPLE[ch], _SIMPLE[ch]),)
        if ch == "b" and in_class:
            return ((8, 8),)
        if ch in "bB":
            raise self.unsupported(
                f"word boundary \\{ch}", at, "is not supported: a grammar cannot look around"
            )
        if ch in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[ch]
            cp = int(self.src[self.pos : self.pos + width], 16)
            self.pos += width
            return ((cp, cp),)
        if ch == "N":
            close = self.src.index("}", self.pos)
            cp = ord(unicodedata.lookup(self.src[self.pos + 1 : close]))
            self.pos = close + 1
            return ((cp, cp),)
        if ch.isdigit():
            return self._octal_or_backreference(ch, at, in_class)
        return ((ord(ch), ord(ch)),)

    def _octal_or_backreference(self, ch: str, at: int, in_class: bool) -> Ranges:
        match = re.compile(r"[0-7]{0,2}").match(self.src, self.pos)
        assert match is not None
        digits = ch + match.group()
        is_octal = ch == "0" or in_class or (len(digits) == 3 and ch in "01234567")
        if is_octal:
            digits = digits[:3] if ch != "0" else ch + match.group()[:2]
            self.pos = at + 1 + len(digits)
            cp = int(digits, 8)
            return ((cp, cp),)
        number = re.compile(r"\d{1,2}").match(self.src, at + 1)
        assert number is not None
        raise self.unsupported(
            f"backreference \\{number.group()}", at, "is not regular: no grammar can express it"
        )


# --------------------------------------------------------------------------- anchors


def _only_empty(expr: Expr) -> bool:
    return isinstance(expr, Literal) and expr.value == ""


def check_anchors(expr: Expr, pattern: str, at_start: bool = True, at_end: bool = True) -> None:
    """Raise for a ``^``/``$`` that is not at the very start/end of what can match."""
    if isinstance(expr, _Anchor):
        if (expr.start and not at_start) or (not expr.start and not at_end):
            where = "start" if expr.start else "end"
            raise RegexUnsupported(
                f"anchor {expr.text}",
                pattern,
                expr.position,
                f"is not at the {where} of the pattern: only leading ^ and trailing $ "
                "can be converted",
            )
    elif isinstance(expr, Sequence):
        for i, item in enumerate(expr.items):
            before = at_start and all(_only_empty(x) for x in expr.items[:i])
            after = at_end and all(_only_empty(x) for x in expr.items[i + 1 :])
            check_anchors(item, pattern, before, after)
    elif isinstance(expr, Choice):
        for alt in expr.alternatives:
            check_anchors(alt, pattern, at_start, at_end)
    elif isinstance(expr, Repeat):
        once = expr.max is not None and expr.max <= 1
        check_anchors(expr.item, pattern, at_start and once, at_end and once)


def strip_anchors(expr: Expr) -> Expr:
    """``expr`` with every anchor replaced by the empty string, sequences tidied."""
    if isinstance(expr, _Anchor):
        return Literal("")
    if isinstance(expr, Sequence):
        items: list[Expr] = []
        for item in (strip_anchors(i) for i in expr.items):
            items.extend(item.items if isinstance(item, Sequence) else (item,))
        merged: list[Expr] = []
        for item in items:
            if _only_empty(item):
                continue
            if merged and isinstance(item, Literal) and isinstance(merged[-1], Literal):
                merged[-1] = Literal(merged[-1].value + item.value)  # "a" "b" reads as "ab"
            else:
                merged.append(item)
        items = merged
        if not items:
            return Literal("")
        return items[0] if len(items) == 1 else Sequence(tuple(items))
    if isinstance(expr, Choice):
        return Choice(tuple(strip_anchors(a) for a in expr.alternatives))
    if isinstance(expr, Repeat):
        return Repeat(strip_anchors(expr.item), expr.min, expr.max)
    return expr


_ANY_RUN = Repeat(CharClass(((0, MAX_CODE_POINT),)), 0, None)


def _pad(expr: Expr, start: bool) -> Expr:
    """Search semantics on one side: any text may come before (after) an unanchored match."""
    if isinstance(expr, _Anchor) and expr.start == start:
        return Literal("")
    if isinstance(expr, Choice):
        return Choice(tuple(_pad(a, start) for a in expr.alternatives))
    if isinstance(expr, Sequence):
        edge = expr.items[0] if start else expr.items[-1]
        if isinstance(edge, (_Anchor, Choice)) and not (
            isinstance(edge, _Anchor) and edge.start != start
        ):
            padded = _pad(edge, start)
            rest = expr.items[1:] if start else expr.items[:-1]
            return Sequence((padded, *rest) if start else (*rest, padded))
    return Sequence((_ANY_RUN, *_trim(expr, start)) if start else (*_trim(expr, start), _ANY_RUN))


def _trim(expr: Expr, start: bool) -> tuple[Expr, ...]:
    """Items of ``expr``, its edge repetition cut to its minimum: ``x{2,5}[^]*`` is ``x{2}[^]*``.

    Beside a run of any characters, the extra copies add no string; dropping
    them leaves one repetition free, which a length limit can then adjust.
    """
    items = expr.items if isinstance(expr, Sequence) else (expr,)
    edge = items[0] if start else items[-1]
    if not isinstance(edge, Repeat) or edge.max == edge.min:
        return items
    cut: tuple[Expr, ...] = (Repeat(edge.item, edge.min, edge.min),) if edge.min else ()
    rest = items[1:] if start else items[:-1]
    out = (*cut, *rest) if start else (*rest, *cut)
    return out or (Literal(""),)


def python_regex_to_expr(
    pattern: str, flags: int = 0, *, search: bool = False, ecma_safe: bool = False
) -> Expr:
    """The AST of Python regex ``pattern``: ``re.fullmatch`` semantics, or ``re.search``'s.

    ``ecma_safe`` reads ``\\d \\w \\s .`` as the part ECMA-262 and Python agree on
    (JSON Schema ``pattern``).

    Raises:
        RegexUnsupported: the pattern is malformed or uses a construct no grammar expresses.
    """
    if isinstance(flags, re.RegexFlag):
        flags = flags.value
    try:
        re.compile(pattern, flags)
    except re.error as exc:
        raise RegexUnsupported(
            "syntax error",
            pattern,
            exc.pos or 0,
            f"({exc.msg}): not a valid Python regular expression",
        ) from exc
    if flags & re.VERBOSE:
        raise RegexUnsupported(
            "flag re.VERBOSE", pattern, 0, "is not supported: write the pattern without it"
        )
    if flags & ~_SUPPORTED_FLAGS:
        raise RegexUnsupported(
            f"flags {re.RegexFlag(flags & ~_SUPPORTED_FLAGS)!r}", pattern, 0, "are not supported"
        )
    parser = PythonRegexParser(pattern, flags, ecma_safe=ecma_safe)
    expr = parser.alternation()
    if parser.pos < len(pattern):  # pragma: no cover - re.compile rejects this first
        raise parser.fail(f"unmatched {parser.peek()!r}")
    check_anchors(expr, pattern)
    if search:
        expr = _pad(_pad(expr, True), False)
    return strip_anchors(expr)


def regex_ast(pattern: str, flags: int = 0) -> GrammarAST:
    """A grammar whose language is exactly the strings ``re.fullmatch(pattern, s, flags)`` takes.

    Raises:
        RegexUnsupported: see :func:`python_regex_to_expr`.
    """
    return GrammarAST((Rule("root", python_regex_to_expr(pattern, flags)),))
