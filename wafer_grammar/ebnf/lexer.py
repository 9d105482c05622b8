"""EBNF text -> tokens, the way XGrammar 0.2.8 lexes it, collecting every error.

XGrammar stops at its first lexer error; we record a diagnostic, skip past the
bad spot and go on, so one run reports every problem. Columns count code points
(XGrammar counts bytes), which is what an editor shows.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from enum import Enum, auto

from wafer_grammar.ebnf.charclass import MAX_CODE_POINT
from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.ebnf.syntax import OptionValue, Span

#: XGrammar refuses integers above this (``kMaxIntegerInGrammar``).
MAX_INTEGER = 10**15
#: Rule options take at most this many digits (XGrammar's option scanner stops at 10).
MAX_OPTION_DIGITS = 10


class T(Enum):
    """Token types."""

    IDENT = auto()
    RULE_NAME = auto()
    BOOL = auto()
    STRING = auto()
    CHARCLASS = auto()
    INT = auto()
    LPAREN = auto()
    LOOKAHEAD = auto()
    RPAREN = auto()
    LBRACE = auto()
    RBRACE = auto()
    PIPE = auto()
    COMMA = auto()
    STAR = auto()
    PLUS = auto()
    QUESTION = auto()
    EQUAL = auto()
    ASSIGN = auto()
    EOF = auto()


class Token:
    """One token; ``value`` holds decoded code points, ranges, numbers or options."""

    __slots__ = ("lexeme", "options", "span", "type", "value")

    def __init__(
        self,
        type: T,
        lexeme: str,
        span: Span,
        value: object = None,
        options: tuple[tuple[str, OptionValue, Span], ...] = (),
    ) -> None:
        self.type = type
        self.lexeme = lexeme
        self.span = span
        self.value = value
        self.options = options

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column


_PUNCT = {
    ")": T.RPAREN,
    "{": T.LBRACE,
    "}": T.RBRACE,
    "|": T.PIPE,
    ",": T.COMMA,
    "*": T.STAR,
    "+": T.PLUS,
    "?": T.QUESTION,
    "=": T.EQUAL,
}
_SIMPLE_ESCAPES = {
    '"': '"', "\\": "\\", "/": "/", "'": "'", "?": "?",
    "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f",
    "a": "\a", "v": "\v", "0": "\0", "e": "\x1b",
}  # fmt: skip
_CLASS_ONLY_ESCAPES = frozenset("^$.*+()[]{}|-")
_CLASS_SHORTHANDS = frozenset("dDsSwW")
_HEX = frozenset("0123456789abcdefABCDEF")
_FLOAT_PREFIX = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_SPACE = re.compile(r"(?:[ \t\r\n]|#[^\r\n]*)+")
_COMMENT = re.compile(r"#[^\r\n]*")
_NAME = re.compile(r"[A-Za-z_.\-][A-Za-z0-9_.\-]*")
_DIGITS = re.compile(r"[0-9]+")
_PLAIN_RUN = {q: re.compile(rf"[^{q}\\\r\n]+") for q in ('"', "'")}
_FAST = re.compile(
    r"(?P<punct>::=|\(=|[(){}|,*+?=])"
    r"|(?P<name>[A-Za-z_.\-][A-Za-z0-9_.\-]*)(?![\[A-Za-z0-9_.\-])"
    r'|(?P<string>"[^"\\\r\n\0]*")'
)
_FAST_PUNCT = {"::=": T.ASSIGN, "(=": T.LOOKAHEAD, "(": T.LPAREN, **_PUNCT}
_KNOWN_OPTIONS = ("max_chars", "max_tokens", "capture", "lazy", "temperature")


def is_name_char(ch: str, first: bool = False) -> bool:
    """Rule-name characters: ASCII letters, ``_``, ``-``, ``.``, and digits after the first."""
    return (
        ch in "_-." or ("a" <= ch <= "z") or ("A" <= ch <= "Z") or (not first and "0" <= ch <= "9")
    )


class Lexer:
    """Tokenizes a whole grammar; ``diagnostics`` holds every lexer error found."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.after_line_start_name = False
        # Lines are found once; positions are plain offsets, turned into line and
        # column only when a token or diagnostic needs them (the hot loop stays cheap).
        self._line_starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
        self.diagnostics: list[Diagnostic] = []
        self.comments: list[tuple[int, str]] = []  # (line, text) of each # comment

    # -- positions -------------------------------------------------------------
    def peek(self, delta: int = 0) -> str:
        return self.text[self.pos + delta : self.pos + delta + 1]

    def advance(self, count: int = 1) -> None:
        self.pos = min(self.pos + count, len(self.text))

    def locate(self, offset: int) -> tuple[int, int]:
        """1-based line and column of ``offset``."""
        line = bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def mark(self) -> tuple[int, int, int]:
        return (self.pos, *self.locate(self.pos))

    def span_from(self, start: tuple[int, int, int]) -> Span:
        pos, line, column = start
        starts = self._line_starts
        if line == len(starts) or starts[line] > self.pos:
            # Still on the start's line (every token but a broken one): no search needed.
            return Span(line, column, line, column + self.pos - pos, pos, self.pos)
        end_line, end_column = self.locate(self.pos)
        return Span(line, column, end_line, end_column, pos, self.pos)

    def span_at(self, offset: int, width: int = 1) -> Span:
        """The span of ``width`` characters at ``offset`` (computed only when needed)."""
        line, column = self.locate(offset)
        return Span(line, column, line, column + width, offset, offset + width)

    def point(self) -> Span:
        return self.span_at(self.pos)

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic.at(code, "error", message, span, hint=hint))

    # -- driver ----------------------------------------------------------------
    def tokenize(self) -> list[Token]:
        tokens: list[Token] = []
        text = self.text
        while True:
            self.skip_space()
            # Fast path: one regex recognises the common tokens; anything unusual
            # (escapes, classes, options, numbers, errors) goes to next_token.
            fast = _FAST.match(text, self.pos)
            if fast is not None:
                begin, end = fast.span()
                line, column = self.locate(begin)
                span = Span(line, column, line, column + end - begin, begin, end)
                lexeme = fast.group()
                kind = fast.lastgroup
                if kind == "name":
                    token = Token(T.IDENT, lexeme, span, lexeme)
                    if lexeme in ("true", "false"):
                        token = Token(T.BOOL, lexeme, span, lexeme == "true")
                elif kind == "string":
                    token = Token(T.STRING, lexeme, span, [ord(c) for c in lexeme[1:-1]])
                else:
                    token = Token(_FAST_PUNCT[lexeme], lexeme, span)
                tokens.append(token)
                self.pos = end
                continue
            start = self.mark()
            # A name alone at the start of its line: what a misspelt `::=` follows.
            self.after_line_start_name = bool(tokens) and (
                tokens[-1].type is T.IDENT
                and (len(tokens) == 1 or tokens[-2].span.line != tokens[-1].span.line)
            )
            ch = self.peek()
            if not ch:
                tokens.append(Token(T.EOF, "", self.span_from(start)))
                return tokens
            token_or_none = self.next_token(ch, start)
            if token_or_none is not None:
                tokens.append(token_or_none)

    def skip_space(self) -> None:
        match = _SPACE.match(self.text, self.pos)
        if match:
            if "#" in match.group(0):
                for comment in _COMMENT.finditer(self.text, match.start(), match.end()):
                    line, _ = self.locate(comment.start())
                    self.comments.append((line, comment.group(0)))
                    nul = comment.group(0).find("\0")
                    if nul >= 0:
                        self.nul_error(comment.start() + nul, "in a comment")
            self.pos = match.end()

    def nul_error(self, offset: int, where: str) -> None:
        """E108: XGrammar reads the grammar as a C string, so a raw NUL ends it."""
        if where in ("in a string literal", "in a character class"):
            message = (
                f"raw NUL character (U+0000) {where}: XGrammar stops reading the grammar "
                "there and refuses the unterminated literal"
            )
        else:
            message = (
                f"raw NUL character (U+0000) {where}: XGrammar silently ignores everything "
                "after it, so the server would see only part of this grammar"
            )
        self.error("E108", message, self.span_at(offset), hint="write it as \\0 inside a string")

    def next_token(self, ch: str, start: tuple[int, int, int]) -> Token | None:
        if ch == "(":
            if self.peek(1) == "=":
                self.advance(2)
                return Token(T.LOOKAHEAD, "(=", self.span_from(start))
            self.advance()
            return Token(T.LPAREN, "(", self.span_from(start))
        if ch in _PUNCT:
            self.advance()
            return Token(_PUNCT[ch], ch, self.span_from(start))
        if ch == ":":
            if self.peek(1) == ":" and self.peek(2) == "=":
                self.advance(3)
                return Token(T.ASSIGN, "::=", self.span_from(start))
            at = self.point()
            while self.peek() == ":":
                self.advance()
            self.error("E101", "unexpected ':' (did you mean '::='?)", at)
            if self.peek() == "=" and self.after_line_start_name:
                # `name := body` is a definition with a misspelt operator: read it as
                # one, so the typo is one error, not also "name is not defined".
                self.advance()
                return Token(T.ASSIGN, "::=", self.span_from(start))
            return None
        if ch == '"':
            return self.string(start)
        if ch == "'":
            # Lex it as a string anyway so one mistake gives one error.
            self.error(
                "E101", "strings are written in double quotes, not single quotes", self.point()
            )
            return self.string(start, quote="'")
        if ch == "[":
            return self.char_class(start)
        if is_name_char(ch, first=True):
            return self.identifier(start)
        if "0" <= ch <= "9":  # not str.isdigit(): that admits non-ASCII digits
            return self.integer(start)
        if ch == "\0":
            self.nul_error(self.pos, "in the grammar text")
        elif ch == "\ufeff":
            self.error(
                "E101",
                "unexpected byte-order mark (U+FEFF): XGrammar refuses it anywhere in the "
                "grammar text",
                self.point(),
                hint="save the file as UTF-8 without a BOM (Grammar.from_file drops a leading one)",
            )
        else:
            self.error("E101", f"unexpected character {ch!r}", self.point())
        self.advance()
        return None

    # -- literals --------------------------------------------------------------
    def escape(self, in_class: bool) -> int | None:
        """Decode the escape at the cursor (on the backslash); None when invalid."""
        nxt = self.peek(1)
        if nxt in _SIMPLE_ESCAPES:
            self.advance(2)
            return ord(_SIMPLE_ESCAPES[nxt])
        if in_class and nxt in _CLASS_ONLY_ESCAPES:
            self.advance(2)
            return ord(nxt)
        if nxt in ("x", "u", "U"):
            want = {"x": 0, "u": 4, "U": 8}[nxt]
            i = 2
            while self.peek(i) in _HEX and self.peek(i) and (want == 0 or i - 2 < want):
                i += 1
            digits = self.text[self.pos + 2 : self.pos + i]
            if not digits or (want and len(digits) != want):
                return None
            self.advance(i)
            return int(digits, 16)
        return None

    def string(self, start: tuple[int, int, int], quote: str = '"') -> Token:
        self.advance()  # opening quote
        code_points: list[int] = []
        while self.peek() and self.peek() not in (quote, "\n", "\r"):
            if self.peek() == "\\":
                at = self.point()
                cp = self.escape(in_class=False)
                if cp is None:
                    self.error(
                        "E102",
                        _bad_escape_message(self.peek(1), "string"),
                        Span(at.line, at.column, at.line, at.column + 2, at.offset, at.offset + 2),
                        hint='valid escapes: \\" \\\\ \\n \\r \\t \\xHH \\uHHHH \\UHHHHHHHH',
                    )
                    self.advance(2 if self.peek(1) not in ("", "\n", "\r") else 1)
                    continue
                code_points.append(cp)
            else:
                run = _PLAIN_RUN[quote].match(self.text, self.pos)
                assert run is not None
                nul = run.group(0).find("\0")
                if nul >= 0:
                    self.nul_error(self.pos + nul, "in a string literal")
                code_points.extend(map(ord, run.group(0)))
                self.pos = run.end()
        if self.peek() != quote:
            self.error(
                "E103",
                "unterminated string literal",
                self.point(),
                hint='close it with " on the same line; write a newline as \\n',
            )
        else:
            self.advance()
        span = self.span_from(start)
        return Token(T.STRING, self.text[start[0] : self.pos], span, code_points)

    def char_class(self, start: tuple[int, int, int]) -> Token:
        """Lex ``[...]`` into ranges, applying XGrammar's dash and range rules."""
        self.advance()  # [
        negated = False
        if self.peek() == "^":
            negated = True
            self.advance()
        # items: (code point or -1 after an error, is_dash, offset); spans only on error
        items: list[tuple[int, bool, int]] = []
        while self.peek() and self.peek() != "]":
            ch = self.peek()
            at = self.pos
            if ch in "\n\r":
                self.error(
                    "E104",
                    "unterminated character class (a newline is not allowed inside [...])",
                    self.span_at(at),
                    hint="close the class with ] on the same line; write a newline as \\n",
                )
                return Token(
                    T.CHARCLASS, self.text[start[0] : self.pos], self.span_from(start), None
                )
            if ch == "-":
                items.append((ord("-"), True, at))
                self.advance()
            elif ch == "\\" and self.peek(1) in _CLASS_SHORTHANDS and self.peek(1):
                self.error(
                    "E105",
                    f"character class escape '\\{self.peek(1)}' is not supported in EBNF",
                    self.span_at(at, 2),
                    hint="spell the class out, e.g. [0-9] for \\d, [ \\t\\n\\r] for \\s",
                )
                self.advance(2)
                items.append((-1, False, at))
            elif ch == "\\":
                cp = self.escape(in_class=True)
                if cp is None:
                    self.error(
                        "E102",
                        _bad_escape_message(self.peek(1), "character class"),
                        self.span_at(at, 2),
                    )
                    self.advance(2 if self.peek(1) not in ("", "\n", "\r") else 1)
                    items.append((-1, False, at))
                    continue
                items.append((cp, False, at))
            else:
                if ch == "\0":
                    self.nul_error(at, "in a character class")
                items.append((ord(ch), False, at))
                self.advance()
        if not self.peek():
            self.error(
                "E104",
                "unterminated character class",
                self.point(),
                hint="close the class with ]",
            )
            return Token(T.CHARCLASS, self.text[start[0] : self.pos], self.span_from(start), None)
        self.advance()  # ]
        ranges: list[tuple[int, int]] = []
        i = 0
        while i < len(items):
            low, _, at = items[i]
            # XGrammar: an item, a dash, then any item (a dash too) make a range.
            if i + 2 < len(items) and items[i + 1][1]:
                high, _, high_at = items[i + 2]
                if low > high >= 0:
                    self.error(
                        "E106",
                        f"character class range {_show_cp(low)}-{_show_cp(high)} is reversed",
                        self.span_at(at, high_at + 1 - at),
                        hint=f"write it low-high: {_show_cp(high)}-{_show_cp(low)}",
                    )
                elif low >= 0 and high >= 0:
                    ranges.append((low, high))
                i += 3
            else:
                if low >= 0:
                    ranges.append((low, low))
                i += 1
        value = (tuple(ranges), negated)
        return Token(T.CHARCLASS, self.text[start[0] : self.pos], self.span_from(start), value)

    def integer(self, start: tuple[int, int, int]) -> Token:
        match = _DIGITS.match(self.text, self.pos)
        assert match is not None  # the caller saw a digit
        self.pos = match.end()
        num = int(match.group(0))
        too_big = num > MAX_INTEGER
        span = self.span_from(start)
        lexeme = self.text[start[0] : self.pos]
        if too_big:
            message = f"integer {lexeme} is too large (the maximum is {MAX_INTEGER})"
            self.error("E107", message, span)
        return Token(T.INT, lexeme, span, num)

    def identifier(self, start: tuple[int, int, int]) -> Token:
        match = _NAME.match(self.text, self.pos)
        assert match is not None  # the caller saw a name's first character
        self.pos = match.end()
        name = self.text[start[0] : self.pos]
        if name in ("true", "false"):
            return Token(T.BOOL, name, self.span_from(start), name == "true")
        token = Token(T.IDENT, name, self.span_from(start), name)
        if self.peek() == "[":
            end = self.option_block_end()
            if end is not None:
                token.options = self.rule_options(end)
        return token

    # -- rule options ----------------------------------------------------------
    def option_block_end(self) -> int | None:
        """Index of the ``]`` closing an option block at the cursor, else None.

        A block is ``[...]`` right after a name and followed by ``::=`` on the
        same line; quoted capture names may contain ``]`` and ``,``.
        """
        i = self.pos + 1
        quoted = False
        while i < len(self.text) and self.text[i] not in "\n\r":
            ch = self.text[i]
            if ch == '"':
                quoted = not quoted
            elif ch == "]" and not quoted:
                rest = self.text[i + 1 :]
                return i if rest.lstrip(" \t").startswith("::=") else None
            i += 1
        return None

    def rule_options(self, end: int) -> tuple[tuple[str, OptionValue, Span], ...]:
        self.advance()  # [
        options: list[tuple[str, OptionValue, Span]] = []
        seen: set[str] = set()
        body_start = self.mark()
        if not self.text[self.pos : end].strip(" \t"):
            self.error(
                "E301",
                "empty rule option list '[]'",
                self.span_from(body_start),
                hint="remove the brackets or name an option: " + ", ".join(_KNOWN_OPTIONS),
            )
        while self.pos < end:
            while self.peek() in (" ", "\t") and self.pos < end:
                self.advance()
            item_start = self.mark()
            quoted = False
            while self.pos < end and (quoted or self.peek() != ","):
                quoted ^= self.peek() == '"'
                self.advance()
            raw = self.text[item_start[0] : self.pos].rstrip(" \t")
            span = Span(item_start[1], item_start[2], item_start[1], item_start[2] + len(raw))
            if self.peek() == ",":
                self.advance()
                if self.pos >= end or not self.text[self.pos : end].strip(" \t"):
                    self.error("E301", "trailing comma in rule options", span)
            parsed = self.rule_option(raw, span)
            if parsed is None:
                continue
            if parsed[0] in seen:
                self.error("E301", f"rule option {parsed[0]!r} is given more than once", span)
                continue
            seen.add(parsed[0])
            options.append((*parsed, span))
        self.advance()  # ]
        return tuple(options)

    def rule_option(self, raw: str, span: Span) -> tuple[str, OptionValue] | None:
        name, eq, value = (part.strip(" \t") for part in raw.partition("="))
        if not name:
            self.error("E301", "empty rule option", span)
            return None
        if name not in _KNOWN_OPTIONS:
            self.error(
                "E301",
                f"unknown rule option {name!r}",
                span,
                hint="known options: " + ", ".join(_KNOWN_OPTIONS),
            )
            return None
        if name == "lazy":
            if eq:
                self.error("E301", "rule option 'lazy' takes no value", span, hint="write [lazy]")
                return None
            return name, None
        if name == "capture":
            if not eq:
                return name, None
            if (
                len(value) < 2
                or value[0] != '"'
                or value[-1] != '"'
                or any(c in value[1:-1] for c in '"\\\n\r')
            ):
                self.error(
                    "E301",
                    'rule option capture takes a quoted name without escapes, e.g. capture="x"',
                    span,
                )
                return None
            if len(value) == 2:
                self.error("E301", "the capture name must not be empty", span)
                return None
            return name, value[1:-1]
        if not eq or not value:
            self.error("E301", f"rule option {name!r} needs a value, e.g. {name}=1", span)
            return None
        if name == "temperature":
            return name, self.temperature(value, span)
        if not value.isdigit() or not value.isascii() or len(value) > MAX_OPTION_DIGITS:
            self.error(
                "E301",
                f"rule option {name!r} takes a non-negative integer of at most "
                f"{MAX_OPTION_DIGITS} digits, not {value!r}",
                span,
            )
            return None
        return name, int(value)

    def temperature(self, value: str, span: Span) -> float | None:
        # XGrammar reads the value with strtod, which takes the longest numeric prefix.
        match = _FLOAT_PREFIX.match(value)
        if not match or any(c not in "0123456789.eE+-" for c in value):
            self.error("E301", f"rule option 'temperature' takes a number, not {value!r}", span)
            return None
        number = float(match.group(0))
        if not math.isfinite(number) or number < 0:
            self.error("E301", "the temperature must be a finite non-negative number", span)
            return None
        return number


def _show_cp(cp: int) -> str:
    ch = chr(cp) if cp <= MAX_CODE_POINT else ""
    if ch.isprintable() and ch not in "\\]-^":
        return ch
    return f"\\x{cp:X}"


def _bad_escape_message(letter: str, where: str) -> str:
    if letter in ("x", "u", "U"):
        need = {
            "x": "at least one hex digit",
            "u": "exactly 4 hex digits",
            "U": "exactly 8 hex digits",
        }
        return f"invalid escape sequence in {where}: '\\{letter}' needs {need[letter]}"
    return f"invalid escape sequence '\\{letter}' in {where}"
