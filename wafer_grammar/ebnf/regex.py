"""XGrammar's regex dialect (the ``Regex(...)`` macro) -> our grammar AST.

Translating a pattern into ordinary AST nodes (literals, classes, sequences,
choices, repeats) lets every later stage (lark terminals, the exact
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
  suffixes do not change the language.
- Unsupported by XGrammar (so refused here too): ``\\b``, ``\\p{..}``,
  backreferences, lookaround groups, empty classes ``[]``.
"""

from __future__ import annotations

from wafer_grammar.ebnf.syntax import CharClass, Choice, Expr, Literal, Repeat, Sequence

_MAX_CP = 0x10FFFF
_DIGIT = ((0x30, 0x39),)
_WORD = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_SPACE = ((0x09, 0x0D), (0x20, 0x20))
_JSON_FORBIDDEN = ((0x00, 0x1F), (0x22, 0x22), (0x5C, 0x5C))
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "f": "\f", "v": "\v", "0": "\0"}


class RegexError(ValueError):
    """The pattern uses syntax XGrammar's regex engine refuses; ``position`` is 0-based."""

    def __init__(self, message: str, pattern: str, position: int) -> None:
        self.pattern = pattern
        self.position = position
        super().__init__(f"{message} (at position {position} of the pattern)")


def normalize(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, merged, non-overlapping ranges."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def complement(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """All code points not in ``ranges`` (which must be normalized)."""
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in ranges:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= _MAX_CP:
        out.append((nxt, _MAX_CP))
    return tuple(out)


def positive_ranges(cc: CharClass) -> tuple[tuple[int, int], ...]:
    """The code points ``cc`` matches, as normalized ranges (negation resolved)."""
    ranges = normalize(list(cc.ranges))
    return complement(ranges) if cc.negated else ranges


def _fold_ascii(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    extra: list[tuple[int, int]] = []
    for lo, hi in ranges:
        for base, other in ((0x41, 0x61), (0x61, 0x41)):  # A-Z <-> a-z
            a, b = max(lo, base), min(hi, base + 25)
            if a <= b:
                extra.append((a - base + other, b - base + other))
    return normalize(list(ranges) + extra)


class _RegexParser:
    def __init__(self, pattern: str, flags: str | None, json_string: bool) -> None:
        self.src = pattern
        self.pos = 0
        self.fold = flags is not None and "i" in flags
        # XGrammar: no flags argument -> "." is any code point; a flags argument
        # (even "" or "u") -> any code point but "\n", unless it has "s".
        self.dot_all = flags is None or "s" in flags
        self.json_string = json_string

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

    def cls(self, ranges: tuple[tuple[int, int], ...]) -> Expr:
        ranges = normalize(list(ranges))
        if self.fold:
            ranges = _fold_ascii(ranges)
        if self.json_string:
            ranges = _intersect(ranges, complement(normalize(list(_JSON_FORBIDDEN))))
        if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
            return Literal(chr(ranges[0][0]))
        return CharClass(ranges)

    def parse(self) -> Expr:
        if self.src.startswith("(?i)"):
            self.fold = True
            self.pos = 4
        expr = self.alternation()
        if self.pos < len(self.src):
            raise self.fail(f"unmatched {self.peek()!r}")
        return expr

    def alternation(self) -> Expr:
        alts = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            alts.append(self.sequence())
        return alts[0] if len(alts) == 1 else Choice(tuple(alts))

    def sequence(self) -> Expr:
        items: list[Expr] = []
        while self.peek() and self.peek() not in "|)":
            items.append(self.quantified())
        items = [i for i in items if i != Literal("")]
        if not items:
            return Literal("")
        return items[0] if len(items) == 1 else Sequence(tuple(items))

    def quantified(self) -> Expr:
        start = self.pos
        atom = self.atom()
        while True:
            ch = self.peek()
            if ch in ("*", "+", "?"):
                self.pos += 1
                lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
            elif ch == "{" and self._looks_like_count():
                lo, hi = self.count()
            else:
                return atom
            if self.peek() in ("?", "+"):  # lazy / possessive: same language
                self.pos += 1
            if atom == Literal(""):
                raise self.fail("there is nothing to repeat before the repetition", start)
            atom = Repeat(atom, lo, hi)

    def _looks_like_count(self) -> bool:
        j = self.pos + 1
        return j < len(self.src) and (self.src[j].isdigit() or self.src[j] == ",")

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

    def atom(self) -> Expr:
        ch = self.take()
        if ch == "(":
            return self.group()
        if ch == "[":
            return self.bracket()
        if ch == ".":
            return self.cls(((0, _MAX_CP),) if self.dot_all else complement(((10, 10),)))
        if ch in ("^", "$"):
            return Literal("")
        if ch == "\\":
            return self.cls(self.escape(in_class=False))
        if ch in "*+?{":
            raise self.fail("there is nothing to repeat before the repetition", self.pos - 1)
        if ch in ")]":
            raise self.fail(f"unmatched {ch!r}", self.pos - 1)
        return self.cls(((ord(ch), ord(ch)),))

    def group(self) -> Expr:
        if self.src.startswith("?:", self.pos):
            self.pos += 2
        elif (
            self.src.startswith("?<", self.pos)
            and self.src[self.pos + 2 : self.pos + 3]
            not in (
                "=",
                "!",
            )
        ) or self.src.startswith("?P<", self.pos):
            close = self.src.find(">", self.pos)
            if close < 0:
                raise self.fail("unterminated group name")
            self.pos = close + 1
        elif self.src.startswith(("?=", "?!"), self.pos):
            # XGrammar 0.2.8 ignores lookaheads for acceptance, in regexes as in EBNF.
            self.pos += 2
            self.alternation()
            if self.peek() != ")":
                raise self.fail("missing ')'")
            self.pos += 1
            return Literal("")
        elif self.peek() == "?":
            raise self.fail("lookbehind and inline-flag groups are not supported")
        inner = self.alternation()
        if self.peek() != ")":
            raise self.fail("missing ')'")
        self.pos += 1
        return inner

    def bracket(self) -> Expr:
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
            if ch == "]":
                if first:
                    raise self.fail("empty character class is not allowed", start)
                self.pos += 1
                break
            first = False
            lo_set = self.class_atom()
            if (
                len(lo_set) == 1
                and lo_set[0][0] == lo_set[0][1]
                and self.peek() == "-"
                and self.src[self.pos + 1 : self.pos + 2] not in ("]", "")
            ):
                self.pos += 1
                hi_set = self.class_atom()
                if len(hi_set) != 1 or hi_set[0][0] != hi_set[0][1]:
                    raise self.fail("invalid range in character class")
                if hi_set[0][0] < lo_set[0][0]:
                    raise self.fail("character class range out of order")
                ranges.append((lo_set[0][0], hi_set[0][0]))
            else:
                ranges.extend(lo_set)
        merged = normalize(ranges)
        if self.fold:
            merged = _fold_ascii(merged)  # fold before negating, as [^a] with "i" excludes A
        return self.cls(complement(merged) if negated else merged)

    def class_atom(self) -> tuple[tuple[int, int], ...]:
        ch = self.take()
        if ch == "\\":
            return self.escape(in_class=True)
        return ((ord(ch), ord(ch)),)

    def escape(self, *, in_class: bool) -> tuple[tuple[int, int], ...]:
        at = self.pos - 1
        ch = self.take()
        shorthand = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
        if ch in shorthand:
            return shorthand[ch]
        if ch.lower() in shorthand:
            return complement(normalize(list(shorthand[ch.lower()])))
        if ch in _SIMPLE_ESCAPES:
            cp = ord(_SIMPLE_ESCAPES[ch])
            return ((cp, cp),)
        if ch == "x":
            return self._hex(2, at)
        if ch == "u":
            if self.peek() == "{":
                close = self.src.find("}", self.pos)
                digits = self.src[self.pos + 1 : close] if close > 0 else ""
                if not digits or any(c not in "0123456789abcdefABCDEF" for c in digits):
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

    def _hex(self, width: int, at: int) -> tuple[tuple[int, int], ...]:
        digits = self.src[self.pos : self.pos + width]
        if len(digits) != width or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise self.fail(f"escape must be followed by {width} hexadecimal digits", at)
        self.pos += width
        cp = int(digits, 16)
        return ((cp, cp),)


def _intersect(
    a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]
) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo, hi = max(lo1, lo2), min(hi1, hi2)
            if lo <= hi:
                out.append((lo, hi))
    return normalize(out)


def regex_to_expr(pattern: str, *, flags: str | None = None, json_string: bool = False) -> Expr:
    """The AST for XGrammar regex ``pattern``; raises :class:`RegexError` if unsupported."""
    return _RegexParser(pattern, flags, json_string).parse()
