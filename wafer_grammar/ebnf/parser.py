"""EBNF text -> :class:`GrammarAST`, accepting exactly what XGrammar 0.2.8 accepts.

A hand-written recursive-descent parser over :mod:`~wafer_grammar.ebnf.lexer`
tokens rather than a lark meta-grammar: XGrammar decides where a rule ends with
a two-token lookahead (a name followed by ``::=`` that must start its line), and
we need to recover after each error to report all of them, which is simplest
with the same structure XGrammar itself uses. Every refusal carries a
:class:`Diagnostic` with a stable code:

====  ==============================================================
E101  unexpected character
E102  invalid escape sequence
E103  unterminated string literal
E104  unterminated character class
E105  character class escape (``\\d``, ``\\w``, ``\\s``) not supported
E106  reversed character class range
E107  integer too large
E108  raw NUL character (XGrammar reads the grammar as a C string)
E201  ``::=`` not preceded by a rule name
E202  rule name not at the beginning of its line
E203  an element was expected
E204  a ``)`` was expected
E205  two repetition operators in a row
E206  malformed repetition range ``{n,m}``
E207  choices inside a lookahead assertion
E208  unexpected text after the end of a rule
E209  groups nested too deeply
E210  a lookahead assertion XGrammar refuses (only ``""``, or only a text macro)
E301  invalid rule option
E302  rule defined more than once
E303  rule not defined
E304  root rule not found
E305  invalid macro call
E306  ``Regex`` pattern XGrammar's compiler refuses (in a rule the root reaches)
E307  ``lazy`` rule whose body is not terminal-like (in a rule the root reaches)
E308  repetition bound above 2**31 - 1 (XGrammar's compiler keeps 32 bits)
====  ==============================================================
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from wafer_grammar.ebnf.charclass import MAX_CODE_POINT
from wafer_grammar.ebnf.cursor import Abort, describe, join
from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.ebnf.lexer import Lexer, T, Token
from wafer_grammar.ebnf.macros import MacroParser
from wafer_grammar.ebnf.syntax import (
    KNOWN_MACROS,
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    Repeat,
    Rule,
    RuleOption,
    RuleRef,
    Sequence,
    Span,
)
from wafer_grammar.ebnf.validity import compile_checks, lookahead_checks
from wafer_grammar.errors import GrammarError, GrammarSyntaxError

#: XGrammar's ``max_nest_layer``: parenthesised groups nested deeper are refused.
MAX_NESTING = 1000
_SEQUENCE_END = frozenset({T.PIPE, T.RPAREN, T.LOOKAHEAD, T.RULE_NAME, T.EOF})
_SUFFIX_BOUNDS: dict[T, tuple[int, int | None]] = {
    T.STAR: (0, None),
    T.PLUS: (1, None),
    T.QUESTION: (0, 1),
}
_QUANTIFIERS = frozenset({*_SUFFIX_BOUNDS, T.LBRACE})


@dataclass
class _Group:
    """One open ``(`` (or the top of a body) on the expression parser's stack."""

    opener: Token | None
    alternatives: list[Expr] = field(default_factory=list)
    items: list[Expr] = field(default_factory=list)


class Parser(MacroParser):
    """Parses one grammar text; use :func:`parse_ebnf`."""

    def __init__(self, text: str, root: str = "root") -> None:
        self.text = text
        self.root = root
        lexer = Lexer(text)
        super().__init__(lexer.tokenize(), list(lexer.diagnostics))
        self.defined: dict[str, Span] = {}

    # -- token access ----------------------------------------------------------
    def parse(self) -> GrammarAST:
        self.mark_rule_names()
        rules: list[Rule] = []
        while self.peek().type is not T.EOF:
            start = self.pos
            try:
                rule = self.rule()
            except Abort:
                rule = None
                if self.pos == start:
                    self.take()
                while self.peek().type not in (T.RULE_NAME, T.EOF):
                    self.take()
            if rule is not None:
                rules.append(rule)
        self.rule_name = ""
        self.check_names()
        if self.root not in self.defined:
            self.error(
                "E304",
                f'the root rule "{self.root}" is not defined',
                Span(1, 1, 1, 1),
                hint=f'add a rule "{self.root} ::= ..." or choose another root',
            )
        return GrammarAST(tuple(rules), self.root)

    def mark_rule_names(self) -> None:
        """Turn each name before ``::=`` into a RULE_NAME, checking XGrammar's placement rules."""
        dropped: set[int] = set()
        for i, token in enumerate(self.tokens):
            if token.type is not T.ASSIGN:
                continue
            before = self.tokens[i - 1] if i else None
            if before is None or before.type is not T.IDENT:
                self.error(
                    "E201",
                    "'::=' must follow a rule name"
                    + (f", not {describe(before)}" if before is not None else ""),
                    token.span,
                    hint="write a rule as: name ::= body, options right after the name: name[lazy]",
                )
                # Recover `name [opts] ::=` as a definition of `name`, so that one
                # mistake does not also make every use of `name` undefined.
                named = self.tokens[i - 2] if i >= 2 else None
                if (
                    before is not None
                    and named is not None
                    and named.type is T.IDENT
                    and (i < 3 or self.tokens[i - 3].line != named.line)
                ):
                    named.type = T.RULE_NAME
                    dropped.add(i - 1)
                continue
            if i >= 2 and self.tokens[i - 2].line == before.line:
                self.error(
                    "E202",
                    f'the rule name "{before.lexeme}" must be at the beginning of its line',
                    before.span,
                    hint="start each rule on a new line",
                )
            before.type = T.RULE_NAME
        if dropped:
            self.tokens = [t for n, t in enumerate(self.tokens) if n not in dropped]
            self.last = len(self.tokens) - 1

    def rule(self) -> Rule:
        head = self.peek()
        if head.type is T.ASSIGN:
            raise Abort()  # already reported as E201
        if head.type is not T.RULE_NAME:
            raise self.fail(
                "E208",
                f"expected a rule definition (name ::= ...), found {describe(head)}",
                head.span,
            )
        self.take()
        self.rule_name = str(head.value)
        if self.rule_name in self.defined:
            first = self.defined[self.rule_name]
            self.error(
                "E302",
                f'rule "{self.rule_name}" is defined more than once '
                f"(first at line {first.line}, column {first.column})",
                head.span,
                hint="rename one of them or merge their bodies with |",
            )
        else:
            self.defined[self.rule_name] = head.span
        options = tuple(RuleOption(name, value, span) for name, value, span in head.options)
        self.take()  # ::= (guaranteed: RULE_NAME is always followed by ASSIGN)
        body = self.choices()
        lookahead = None
        if self.peek().type is T.LOOKAHEAD:
            lookahead = self.lookahead()
        nxt = self.peek()
        if nxt.type not in (T.RULE_NAME, T.EOF):
            raise self.fail(
                "E208",
                f'unexpected {describe(nxt)} after the end of rule "{self.rule_name}"',
                nxt.span,
                hint="a lookahead (= ...) may only end a rule; a stray ')' has no '('",
            )
        span = join(head.span, body.span)
        return Rule(self.rule_name, body, lookahead, options, span)

    def lookahead(self) -> Expr:
        opener = self.take()
        expr = self.choices()
        if self.peek().type is not T.RPAREN:
            raise self.fail(
                "E204",
                f"expected ')' to close the lookahead opened at line {opener.line}, "
                f"column {opener.column}, found {describe(self.peek())}",
                self.peek().span,
            )
        self.take()
        if isinstance(expr, Choice):
            self.error(
                "E207",
                "choices (|) are not supported in a lookahead assertion",
                join(opener.span, expr.span),
                hint="move the choice into a helper rule, or assert only the common part",
            )
        for diagnostic in lookahead_checks(expr, join(opener.span, expr.span), self.rule_name):
            self.diagnostics.append(diagnostic)
        return expr

    # -- expressions -----------------------------------------------------------
    def choices(self) -> Expr:
        """A body: alternatives of sequences of quantified elements.

        An explicit stack of open groups instead of recursion: XGrammar allows
        1000 nested groups, more than Python's own stack would.
        """
        stack = [_Group(None)]
        while True:
            token = self.peek()
            if token.type is T.LPAREN:
                opener = self.take()
                if len(stack) > MAX_NESTING:
                    raise self.fail(
                        "E209",
                        f"groups are nested more than {MAX_NESTING} deep",
                        opener.span,
                        hint="split the expression into named rules",
                    )
                if self.peek().type is not T.RPAREN:
                    stack.append(_Group(opener))
                    continue
                close = self.take()
                element: Expr = Literal("", join(opener.span, close.span))
            else:
                element = self.element()
            while True:
                group = stack[-1]
                group.items.append(self.quantified(element))
                nxt = self.peek()
                if nxt.type not in _SEQUENCE_END:
                    break
                group.alternatives.append(_sequence(group.items))
                group.items = []
                if nxt.type is T.PIPE:
                    self.take()
                    break
                expr = _choice(group.alternatives)
                if group.opener is None:
                    return expr
                if nxt.type is not T.RPAREN:
                    raise self.fail(
                        "E204",
                        f"expected ')' to close the group opened at line {group.opener.line}, "
                        f"column {group.opener.column}, found {describe(nxt)}",
                        nxt.span,
                        hint="a lookahead (= ...) may only appear at the end of a rule"
                        if nxt.type is T.LOOKAHEAD
                        else None,
                    )
                self.take()
                stack.pop()
                element = expr

    def quantified(self, element: Expr) -> Expr:
        token = self.peek()
        bounds: tuple[int, int | None] | None = None
        if token.type in _SUFFIX_BOUNDS:
            self.take()
            bounds = _SUFFIX_BOUNDS[token.type]
            end = token.span
        elif token.type is T.LBRACE:
            bounds, end = self.repetition_range()
        else:
            return element
        after = self.peek()
        if after.type in _QUANTIFIERS:
            raise self.fail(
                "E205",
                f"{after.lexeme!r} cannot follow another repetition operator",
                after.span,
                hint='group first, e.g. ("a"+)* instead of "a"+*',
            )
        return Repeat(element, bounds[0], bounds[1], join(element.span, end))

    def repetition_range(self) -> tuple[tuple[int, int | None], Span]:
        self.take()  # {
        lower = self.integer()
        upper: int | None = lower
        if self.peek().type is T.COMMA:
            self.take()
            nxt = self.peek()
            if nxt.type is T.RBRACE:
                upper = None
            elif nxt.type is T.IDENT and nxt.lexeme == "-1":
                # XGrammar's own printer writes {n, -1} for "unbounded".
                self.take()
                upper = None
            else:
                upper = self.integer()
                if upper < lower:
                    self.error(
                        "E206",
                        f"repetition range {{{lower},{upper}}}: the lower bound is larger "
                        "than the upper bound",
                        nxt.span,
                    )
        elif self.peek().type is not T.RBRACE:
            raise self.fail(
                "E206",
                f"expected ',' or '}}' in repetition range, found {describe(self.peek())}",
                self.peek().span,
            )
        close = self.peek()
        if close.type is not T.RBRACE:
            raise self.fail(
                "E206",
                f"expected '}}' to end the repetition range, found {describe(close)}",
                close.span,
            )
        self.take()
        return (lower, upper), close.span

    def integer(self) -> int:
        token = self.peek()
        if token.type is not T.INT:
            raise self.fail(
                "E206",
                f"expected a non-negative integer in repetition range, found {describe(token)}",
                token.span,
                hint="write {n}, {n,} or {n,m}; the lower bound is required",
            )
        self.take()
        assert isinstance(token.value, int)
        return token.value

    def element(self) -> Expr:
        """One element that is not a group."""
        token = self.peek()
        if token.type is T.CHARCLASS:
            self.take()
            if token.value is None:
                return CharClass((), False, token.span)
            ranges, negated = cast("tuple[tuple[tuple[int, int], ...], bool]", token.value)
            # Code points above U+10FFFF never occur in text: XGrammar's classes just
            # never match them, so they are clamped away here, once.
            return CharClass(_clamp(ranges), negated, token.span)
        if token.type is T.STRING:
            self.take()
            return self.literal(token)
        if token.type is T.IDENT:
            name = str(token.value)
            if name in KNOWN_MACROS:
                return self.macro(token)
            self.take()
            self.references.append((name, token.span, self.rule_name))
            return RuleRef(name, token.span)
        raise self.fail(
            "E203",
            f"expected an element (a string, a [class], a rule name or a group), "
            f"found {describe(token)}",
            token.span,
            hint='an empty alternative is written "" or ( )'
            if token.type in (T.PIPE, T.RPAREN, T.EOF)
            else None,
        )

    def literal(self, token: Token) -> Expr:
        code_points = cast("list[int]", token.value)
        # Escapes beyond U+10FFFF are accepted by XGrammar but can never occur in
        # text, so they become a class that matches nothing.
        parts: list[Expr] = []
        run: list[str] = []
        for cp in code_points:
            if cp > MAX_CODE_POINT:
                if run:
                    parts.append(Literal("".join(run), token.span))
                    run = []
                # Kept as written (rendered back as the escape); matches nothing.
                parts.append(CharClass(((cp, cp),), False, token.span))
            else:
                run.append(chr(cp))
        if run or not parts:
            parts.append(Literal("".join(run), token.span))
        return parts[0] if len(parts) == 1 else Sequence(tuple(parts), token.span)

    # -- macros ----------------------------------------------------------------
    def check_names(self) -> None:
        for name, span, rule in self.references:
            if name not in self.defined:
                self.diagnostics.append(
                    Diagnostic.at(
                        "E303",
                        "error",
                        f'rule "{name}" is not defined',
                        span,
                        rule=rule or None,
                        hint=undefined_rule_hint(name, self.defined),
                    )
                )


def _clamp(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """``ranges`` in their written order, cut at U+10FFFF (nothing above it is text)."""
    if all(hi <= MAX_CODE_POINT for _, hi in ranges):
        return ranges
    return tuple((lo, min(hi, MAX_CODE_POINT)) for lo, hi in ranges if lo <= MAX_CODE_POINT)


def _sequence(items: list[Expr]) -> Expr:
    if len(items) == 1:
        return items[0]
    flat: list[Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, Sequence) else (item,))
    return Sequence(tuple(flat), join(items[0].span, items[-1].span))


def _choice(alternatives: list[Expr]) -> Expr:
    if len(alternatives) == 1:
        return alternatives[0]
    flat: list[Expr] = []
    for alt in alternatives:
        flat.extend(alt.alternatives if isinstance(alt, Choice) else (alt,))
    return Choice(tuple(flat), join(alternatives[0].span, alternatives[-1].span))


def parse_ebnf(text: str, *, root: str = "root") -> GrammarAST:
    """Parse XGrammar EBNF into an AST, with every check XGrammar's parser and compiler make.

    Raises:
        GrammarSyntaxError: the text does not lex or parse (every error listed).
        GrammarError: it parses but XGrammar would still refuse it (undefined or
            duplicate rules, missing root, bad rule options, macro arguments or
            lookahead assertions, a ``Regex`` or ``lazy`` body the compiler refuses).
    """
    parser = Parser(text, root)
    ast = parser.parse()
    diagnostics = parser.diagnostics
    if not diagnostics:
        diagnostics = compile_checks(ast)
    if diagnostics:
        diagnostics = sorted(diagnostics, key=lambda d: (d.line, d.column, d.code))
        syntax = any(d.code[:2] in ("E1", "E2") for d in diagnostics)
        raise (GrammarSyntaxError if syntax else GrammarError)(diagnostics, text)
    return ast


def undefined_rule_hint(name: str, defined: Iterable[str]) -> str:
    """What to do about an undefined rule: the closest defined name, when one is close."""
    close = difflib.get_close_matches(name, list(defined), n=1, cutoff=0.75)
    if close:
        return f'did you mean "{close[0]}"? (or define it: "{name} ::= ...")'
    return f'define it ("{name} ::= ...") or fix the spelling'
