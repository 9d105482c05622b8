"""XGrammar's regex dialect (the ``Regex(...)`` macro) -> our grammar AST.

Translating a pattern into ordinary AST nodes (literals, classes, sequences,
choices, repeats) lets every later stage (automata, lark terminals, the exact
recognizer, nullability) treat ``Regex`` like hand-written EBNF, so there is
one semantics to keep right instead of two.

The semantics follow XGrammar 0.2.8, pinned with its own matcher:

- ``.`` matches any code point, newline included, when no ``flags`` argument is
  given; with one (even ``""`` or ``"u"``) it excludes only ``\\n``;
  ``"s"`` restores newline. Flags other than ``i``, ``s``, ``u`` are refused
  by XGrammar's parser already.
- ``\\d \\w \\s`` (and negations) are ASCII-only; ``i`` folds ASCII letters only.
- ``json_string=true`` removes ``"``, ``\\`` and controls below U+0020 from every
  character the pattern can match (the text must be a JSON string body that
  needs no escaping).
- Anchors ``^``/``$`` match the empty string; lazy and possessive quantifier
  suffixes do not change the language; lookahead groups are ignored.
- Unsupported by XGrammar (so refused here too): ``\\b``, ``\\p{..}``,
  backreferences, lookbehind and inline-flag groups, empty classes ``[]``.

:class:`RegexParser` is also the base of the Python ``re`` reader in
:mod:`wafer_grammar.convert.regex`: one parser (one group stack, one class
loop), with hooks where the two dialects mean different things. It keeps an
explicit stack of open groups, so a pattern nested 20,000 deep parses like a
flat one (XGrammar takes those too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wafer_grammar.ebnf.charclass import (
    ANY,
    MAX_CODE_POINT,
    Ranges,
    complement,
    intersect,
    normalize,
    positive_ranges,
)
from wafer_grammar.ebnf.syntax import CharClass, Choice, Expr, Literal, Repeat, Sequence
from wafer_grammar.errors import RegexError

__all__ = [
    "MAX_CODE_POINT",
    "RegexError",
    "RegexParser",
    "complement",
    "normalize",
    "positive_ranges",
    "regex_to_expr",
]

_DIGIT = ((0x30, 0x39),)
_WORD = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_SPACE = ((0x09, 0x0D), (0x20, 0x20))
_JSON_ALLOWED = complement(((0x00, 0x1F), (0x22, 0x22), (0x5C, 0x5C)))
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "f": "\f", "v": "\v", "0": "\0"}
_HEX = frozenset("0123456789abcdefABCDEF")
_EMPTY = Literal("")


def _fold_ascii(ranges: Ranges) -> Ranges:
    extra: list[tuple[int, int]] = []
    for lo, hi in ranges:
        for base, other in ((0x41, 0x61), (0x61, 0x41)):  # A-Z <-> a-z
            a, b = max(lo, base), min(hi, base + 25)
            if a <= b:
                extra.append((a - base + other, b - base + other))
    return normalize([*ranges, *extra])


def _single(ranges: Ranges) -> int | None:
    return ranges[0][0] if len(ranges) == 1 and ranges[0][0] == ranges[0][1] else None


def _sequence(items: list[Expr]) -> Expr:
    kept = [item for item in items if item != _EMPTY]
    if not kept:
        return _EMPTY
    return kept[0] if len(kept) == 1 else Sequence(tuple(kept))


def _alternation(alts: list[Expr]) -> Expr:
    return alts[0] if len(alts) == 1 else Choice(tuple(alts))


@dataclass
class Group:
    """One open ``(`` on the parser's stack: its alternatives so far and how it closes."""

    start: int
    ignore: bool = False  # a lookahead: parsed, then matches the empty string
    saved_flags: object = None  # restored when the group closes (scoped inline flags)
    alts: list[Expr] = field(default_factory=list)
    items: list[Expr] = field(default_factory=list)


class RegexParser:
    """XGrammar regex syntax -> AST; subclasses override the hooks, never the loops."""

    #: ``]`` right after ``[`` or ``[^`` is a member (Python) rather than an error.
    bracket_first_literal = False

    def __init__(self, pattern: str, flags: str | None = None, json_string: bool = False) -> None:
        self.src = pattern
        self.pos = 0
        self.fold = flags is not None and "i" in flags
        # XGrammar: no flags argument -> "." is any code point; a flags argument
        # (even "" or "u") -> any code point but "\n", unless it has "s".
        self.dot_all = flags is None or "s" in flags
        self.json_string = json_string

    # -- cursor ------------------------------------------------------------------
    def fail(self, message: str, at: int | None = None) -> RegexError:
        return RegexError(message, self.src, self.pos if at is None else at)

    def peek(self) -> str:
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def take(self) -> str:
        ch = self.peek()
        if not ch:
            raise self.fail("unexpected end of pattern")
        self.pos += 1
        return ch

    # -- the loops (shared by both dialects) ----------------------------------------
    def parse(self) -> Expr:
        if self.src.startswith("(?i)"):
            self.fold = True
            self.pos = 4
        expr = self.alternation()
        if self.pos < len(self.src):
            raise self.fail(f"unmatched {self.peek()!r}")
        return expr

    def alternation(self) -> Expr:
        """Everything from the cursor to the end or to an unmatched ``)`` (left unread)."""
        stack: list[Group] = []
        group = Group(self.pos)
        while True:
            ch = self.peek()
            if ch == "|":
                self.pos += 1
                group.alts.append(_sequence(group.items))
                group.items = []
            elif ch == "(":
                self.pos += 1
                opened = self.open_group(self.pos - 1)
                if isinstance(opened, Group):
                    stack.append(group)
                    group = opened
                else:
                    group.items.append(self.quantifiers(opened, self.pos))
            elif ch == ")" and stack:
                self.pos += 1
                group.alts.append(_sequence(group.items))
                inner = self.close_group(group, _alternation(group.alts))
                start, group = group.start, stack.pop()
                group.items.append(self.quantifiers(inner, start))
            elif not ch or ch == ")":
                if stack:
                    raise self.fail("missing ')'")
                group.alts.append(_sequence(group.items))
                return _alternation(group.alts)
            else:
                start = self.pos
                group.items.append(self.quantifiers(self.atom(), start))

    def quantifiers(self, atom: Expr, start: int) -> Expr:
        """``atom`` with every repetition operator that follows it applied."""
        while True:
            at = self.pos
            bounds = self.quantifier()
            if bounds is None:
                return atom
            self.after_quantifier(at)
            atom = self.repeat(atom, bounds[0], bounds[1], start)

    def bracket(self) -> Expr:
        """``[...]`` (the cursor is past ``[``): one class loop for both dialects."""
        start = self.pos - 1
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            ch = self.peek()
            if not ch:
                raise self.fail("unterminated character class", start)
            if ch == "]" and not (first and self.bracket_first_literal):
                if first:
                    raise self.fail("empty character class is not allowed", start)
                self.pos += 1
                break
            first = False
            low = self.class_atom()
            lo = _single(low)
            if (
                lo is not None
                and self.peek() == "-"
                and self.src[self.pos + 1 : self.pos + 2] not in ("]", "")
            ):
                self.pos += 1
                hi = _single(self.class_atom())
                if hi is None:
                    raise self.fail("invalid range in character class")
                if hi < lo:
                    raise self.fail("character class range out of order")
                ranges.append((lo, hi))
            else:
                ranges.extend(low)
        # Fold before negating: [^a] under case folding excludes A too.
        merged = self.fold_class(normalize(ranges))
        return self.bracket_node(complement(merged) if negated else merged)

    def class_atom(self) -> Ranges:
        ch = self.take()
        if ch == "\\":
            return self.escape(in_class=True)
        return ((ord(ch), ord(ch)),)

    # -- hooks: XGrammar's meaning ------------------------------------------------------
    def cls(self, ranges: Ranges) -> Expr:
        """The node for one character from ``ranges`` (folding and JSON limits applied)."""
        ranges = self.fold_class(normalize(ranges))
        if self.json_string:
            ranges = intersect(ranges, _JSON_ALLOWED)
        cp = _single(ranges)
        return Literal(chr(cp)) if cp is not None else CharClass(ranges)

    def fold_class(self, ranges: Ranges) -> Ranges:
        return _fold_ascii(ranges) if self.fold else ranges

    def bracket_node(self, ranges: Ranges) -> Expr:
        return self.cls(ranges)

    def dot(self) -> Ranges:
        return ANY if self.dot_all else complement(((10, 10),))

    def atom(self) -> Expr:
        """One atom that is not a group (the cursor is on it)."""
        ch = self.take()
        if ch == "[":
            return self.bracket()
        if ch == ".":
            return self.cls(self.dot())
        if ch in ("^", "$"):
            return _EMPTY
        if ch == "\\":
            return self.cls(self.escape(in_class=False))
        if ch in "*+?{":
            raise self.fail("there is nothing to repeat before the repetition", self.pos - 1)
        if ch == "]":
            raise self.fail(f"unmatched {ch!r}", self.pos - 1)
        return self.cls(((ord(ch), ord(ch)),))

    def open_group(self, start: int) -> Group | Expr:
        """The group opened at ``start`` (the cursor is past ``(``), or a finished atom."""
        if self.src.startswith("?:", self.pos):
            self.pos += 2
        elif self.src.startswith("?P<", self.pos) or (
            self.src.startswith("?<", self.pos)
            and self.src[self.pos + 2 : self.pos + 3] not in ("=", "!")
        ):
            close = self.src.find(">", self.pos)
            if close < 0:
                raise self.fail("unterminated group name")
            self.pos = close + 1
        elif self.src.startswith(("?=", "?!"), self.pos):
            # XGrammar 0.2.8 ignores lookaheads for acceptance, in regexes as in EBNF.
            self.pos += 2
            return Group(start, ignore=True)
        elif self.peek() == "?":
            raise self.fail("lookbehind and inline-flag groups are not supported")
        return Group(start)

    def close_group(self, group: Group, inner: Expr) -> Expr:
        return _EMPTY if group.ignore else inner

    def quantifier(self) -> tuple[int, int | None] | None:
        """The repetition operator at the cursor (consumed), or None."""
        ch = self.peek()
        if ch in ("*", "+", "?"):
            self.pos += 1
            return {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
        j = self.pos + 1
        if ch == "{" and j < len(self.src) and (self.src[j].isdigit() or self.src[j] == ","):
            return self.count()
        return None

    def after_quantifier(self, at: int) -> None:
        if self.peek() in ("?", "+"):  # lazy / possessive: the same language
            self.pos += 1

    def repeat(self, atom: Expr, lo: int, hi: int | None, start: int) -> Expr:
        if atom == _EMPTY:
            raise self.fail("there is nothing to repeat before the repetition", start)
        return Repeat(atom, lo, hi)

    def count(self) -> tuple[int, int | None]:
        self.take()  # "{"
        lo = self.number()
        hi: int | None = lo
        if self.peek() == ",":
            self.pos += 1
            hi = self.number() if self.peek() != "}" else None
        if self.take() != "}":
            raise self.fail("invalid repetition count")
        if hi is not None and hi < lo:
            raise self.fail("repetition range min is larger than max")
        return lo, hi

    def number(self) -> int:
        start = self.pos
        while self.peek().isdigit():
            self.pos += 1
        if start == self.pos:
            raise self.fail("invalid repetition count: expected a number after '{'")
        return int(self.src[start : self.pos])

    def escape(self, *, in_class: bool) -> Ranges:
        """The code points an escape stands for (the cursor is past the backslash)."""
        at = self.pos - 1
        ch = self.take()
        shorthand = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
        if ch in shorthand:
            return shorthand[ch]
        if ch.lower() in shorthand:
            return complement(shorthand[ch.lower()])
        if ch in _SIMPLE_ESCAPES:
            cp = ord(_SIMPLE_ESCAPES[ch])
            return ((cp, cp),)
        if ch == "x":
            return self._hex(2, at)
        if ch == "u":
            if self.peek() == "{":
                close = self.src.find("}", self.pos)
                digits = self.src[self.pos + 1 : close] if close > 0 else ""
                if not digits or any(c not in _HEX for c in digits):
                    raise self.fail("invalid \\u{...} escape", at)
                self.pos = close + 1
                cp = int(digits, 16)
                return ((cp, cp),)
            return self._hex(4, at)
        if ch == "c":
            letter = self.take()
            if not letter.isascii() or not letter.isalpha():
                raise self.fail("\\c must be followed by a letter", at)
            cp = ord(letter.upper()) - 64
            return ((cp, cp),)
        if ch == "b" and in_class:
            return ((8, 8),)
        if ch in "bB":
            raise self.fail("word boundary assertion \\b is not supported", at)
        if ch in "pP":
            raise self.fail("unicode property escape \\p / \\P is not supported", at)
        if ch.isdigit():
            raise self.fail(f"backreference \\{ch} is not supported", at)
        return ((ord(ch), ord(ch)),)

    def _hex(self, width: int, at: int) -> Ranges:
        digits = self.src[self.pos : self.pos + width]
        if len(digits) != width or any(c not in _HEX for c in digits):
            raise self.fail(f"escape must be followed by {width} hexadecimal digits", at)
        self.pos += width
        cp = int(digits, 16)
        return ((cp, cp),)


def regex_to_expr(pattern: str, *, flags: str | None = None, json_string: bool = False) -> Expr:
    """The AST for XGrammar regex ``pattern``; raises :class:`RegexError` if unsupported."""
    return RegexParser(pattern, flags, json_string).parse()
