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
E201  ``::=`` not preceded by a rule name
E202  rule name not at the beginning of its line
E203  an element was expected
E204  a ``)`` was expected
E205  two repetition operators in a row
E206  malformed repetition range ``{n,m}``
E207  choices inside a lookahead assertion
E208  unexpected text after the end of a rule
E209  groups nested too deeply
E301  invalid rule option
E302  rule defined more than once
E303  rule not defined
E304  root rule not found
E305  invalid macro call
E306  ``Regex`` pattern XGrammar cannot compile (found when the grammar is used)
====  ==============================================================
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import cast

from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.ebnf.lexer import MAX_CODE_POINT, Lexer, T, Token
from wafer_grammar.ebnf.syntax import (
    KNOWN_MACROS,
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    MacroCall,
    MacroInt,
    MacroName,
    MacroString,
    MacroTuple,
    MacroValue,
    Repeat,
    Rule,
    RuleOption,
    RuleRef,
    Sequence,
    Span,
)
from wafer_grammar.errors import GrammarError, GrammarSyntaxError

#: XGrammar's ``max_nest_layer``: parenthesised groups nested deeper are refused.
MAX_NESTING = 1000
_REGEX_FLAGS = frozenset("isu")
_SEQUENCE_END = frozenset({T.PIPE, T.RPAREN, T.LOOKAHEAD, T.RULE_NAME, T.EOF})
_SUFFIX_BOUNDS: dict[T, tuple[int, int | None]] = {
    T.STAR: (0, None),
    T.PLUS: (1, None),
    T.QUESTION: (0, 1),
}
_QUANTIFIERS = frozenset({*_SUFFIX_BOUNDS, T.LBRACE})


class _Abort(Exception):
    """Stop parsing the current rule; the diagnostic is already recorded."""


def _describe(token: Token) -> str:
    if token.type is T.EOF:
        return "end of input"
    return repr(token.lexeme)


def _join(start: Span | None, end: Span | None) -> Span | None:
    if start is None or end is None:
        return start or end
    return Span(
        start.line, start.column, end.end_line, end.end_column, start.offset, end.end_offset
    )


class Parser:
    """Parses one grammar text; use :func:`parse_ebnf`."""

    def __init__(self, text: str, root: str = "root") -> None:
        self.text = text
        self.root = root
        lexer = Lexer(text)
        self.tokens = lexer.tokenize()
        self.diagnostics: list[Diagnostic] = list(lexer.diagnostics)
        self.pos = 0
        self.last = len(self.tokens) - 1  # the EOF token, never consumed
        self.depth = 0
        self.rule_name = ""
        self.defined: dict[str, Span] = {}
        self.references: list[tuple[str, Span, str]] = []

    # -- token access ----------------------------------------------------------
    def peek(self, delta: int = 0) -> Token:
        i = self.pos + delta
        return self.tokens[i] if i < self.last else self.tokens[self.last]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        if self.pos < self.last:
            self.pos += 1
        return token

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        self.diagnostics.append(
            Diagnostic.at(code, "error", message, span, rule=self.rule_name or None, hint=hint)
        )

    def fail(self, code: str, message: str, span: Span | None, hint: str | None = None) -> _Abort:
        self.error(code, message, span, hint)
        return _Abort()

    # -- top level -------------------------------------------------------------
    def parse(self) -> GrammarAST:
        self.mark_rule_names()
        rules: list[Rule] = []
        while self.peek().type is not T.EOF:
            start = self.pos
            try:
                rule = self.rule()
            except _Abort:
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
                    + (f", not {_describe(before)}" if before is not None else ""),
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
            raise _Abort()  # already reported as E201
        if head.type is not T.RULE_NAME:
            raise self.fail(
                "E208",
                f"expected a rule definition (name ::= ...), found {_describe(head)}",
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
                f'unexpected {_describe(nxt)} after the end of rule "{self.rule_name}"',
                nxt.span,
                hint="a lookahead (= ...) may only end a rule; a stray ')' has no '('",
            )
        span = _join(head.span, body.span)
        return Rule(self.rule_name, body, lookahead, options, span)

    def lookahead(self) -> Expr:
        opener = self.take()
        expr = self.choices()
        if self.peek().type is not T.RPAREN:
            raise self.fail(
                "E204",
                f"expected ')' to close the lookahead opened at line {opener.line}, "
                f"column {opener.column}, found {_describe(self.peek())}",
                self.peek().span,
            )
        self.take()
        if isinstance(expr, Choice):
            self.error(
                "E207",
                "choices (|) are not supported in a lookahead assertion",
                _join(opener.span, expr.span),
                hint="move the choice into a helper rule, or assert only the common part",
            )
        return expr

    # -- expressions -----------------------------------------------------------
    def choices(self) -> Expr:
        alternatives = [self.sequence()]
        while self.peek().type is T.PIPE:
            self.take()
            alternatives.append(self.sequence())
        if len(alternatives) == 1:
            return alternatives[0]
        flat: list[Expr] = []
        for alt in alternatives:
            flat.extend(alt.alternatives if isinstance(alt, Choice) else (alt,))
        return Choice(tuple(flat), _join(alternatives[0].span, alternatives[-1].span))

    def sequence(self) -> Expr:
        items = [self.quantified()]
        while self.peek().type not in _SEQUENCE_END:
            items.append(self.quantified())
        if len(items) == 1:
            return items[0]
        flat: list[Expr] = []
        for item in items:
            flat.extend(item.items if isinstance(item, Sequence) else (item,))
        return Sequence(tuple(flat), _join(items[0].span, items[-1].span))

    def quantified(self) -> Expr:
        element = self.element()
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
        return Repeat(element, bounds[0], bounds[1], _join(element.span, end))

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
                f"expected ',' or '}}' in repetition range, found {_describe(self.peek())}",
                self.peek().span,
            )
        close = self.peek()
        if close.type is not T.RBRACE:
            raise self.fail(
                "E206",
                f"expected '}}' to end the repetition range, found {_describe(close)}",
                close.span,
            )
        self.take()
        return (lower, upper), close.span

    def integer(self) -> int:
        token = self.peek()
        if token.type is not T.INT:
            raise self.fail(
                "E206",
                f"expected a non-negative integer in repetition range, found {_describe(token)}",
                token.span,
                hint="write {n}, {n,} or {n,m}; the lower bound is required",
            )
        self.take()
        assert isinstance(token.value, int)
        return token.value

    def element(self) -> Expr:
        token = self.peek()
        if token.type is T.LPAREN:
            return self.group()
        if token.type is T.CHARCLASS:
            self.take()
            if token.value is None:
                return CharClass((), False, token.span)
            ranges, negated = cast("tuple[tuple[tuple[int, int], ...], bool]", token.value)
            return CharClass(ranges, negated, token.span)
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
            f"found {_describe(token)}",
            token.span,
            hint='an empty alternative is written "" or ( )'
            if token.type in (T.PIPE, T.RPAREN, T.EOF)
            else None,
        )

    def group(self) -> Expr:
        opener = self.take()
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise self.fail(
                    "E209",
                    f"groups are nested more than {MAX_NESTING} deep",
                    opener.span,
                    hint="split the expression into named rules",
                )
            if self.peek().type is T.RPAREN:
                close = self.take()
                return Literal("", _join(opener.span, close.span))
            expr = self.choices()
            if self.peek().type is not T.RPAREN:
                raise self.fail(
                    "E204",
                    f"expected ')' to close the group opened at line {opener.line}, "
                    f"column {opener.column}, found {_describe(self.peek())}",
                    self.peek().span,
                    hint="a lookahead (= ...) may only appear at the end of a rule"
                    if self.peek().type is T.LOOKAHEAD
                    else None,
                )
            self.take()
            return expr
        finally:
            self.depth -= 1

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
                parts.append(CharClass((), False, token.span))
            else:
                run.append(chr(cp))
        if run or not parts:
            parts.append(Literal("".join(run), token.span))
        return parts[0] if len(parts) == 1 else Sequence(tuple(parts), token.span)

    # -- macros ----------------------------------------------------------------
    def macro(self, head: Token) -> Expr:
        self.take()
        if self.peek().type is not T.LPAREN:
            raise self.fail(
                "E305",
                f"{head.lexeme} is a macro: call it as {head.lexeme}(...)",
                self.peek().span,
            )
        args, kwargs, close = self.macro_arguments()
        call = MacroCall(head.lexeme, tuple(args), tuple(kwargs.items()), _join(head.span, close))
        _MACRO_CHECKS[head.lexeme](self, call)
        for name in _macro_targets(call):
            self.references.append((name.name, name.span or head.span, self.rule_name))
        return call

    def macro_arguments(self) -> tuple[list[MacroValue], dict[str, MacroValue], Span]:
        self.take()  # (
        args: list[MacroValue] = []
        kwargs: dict[str, MacroValue] = {}
        if self.peek().type is not T.RPAREN:
            while True:
                if self.peek().type is T.IDENT and self.peek(1).type is T.EQUAL:
                    name = self.take().lexeme
                    self.take()
                    kwargs[name] = self.macro_value()
                else:
                    args.append(self.macro_value())
                if self.peek().type is T.COMMA:
                    self.take()
                elif self.peek().type is T.RPAREN:
                    break
                else:
                    raise self.fail(
                        "E305",
                        f"expected ',' or ')' in macro arguments, found {_describe(self.peek())}",
                        self.peek().span,
                    )
        return args, kwargs, self.take().span

    def macro_value(self) -> MacroValue:
        token = self.peek()
        if token.type is T.STRING:
            self.take()
            code_points = cast("list[int]", token.value)
            text = "".join(chr(min(c, MAX_CODE_POINT)) for c in code_points)
            return MacroString(text, token.span)
        if token.type is T.INT:
            self.take()
            return MacroInt(cast(int, token.value), token.span)
        if token.type in (T.BOOL, T.IDENT):
            self.take()
            return MacroName(token.lexeme, token.span)
        if token.type is T.LPAREN:
            opener = self.take()
            items: list[MacroValue] = []
            if self.peek().type is not T.RPAREN:
                while True:
                    items.append(self.macro_value())
                    if self.peek().type is T.COMMA:
                        self.take()
                        if self.peek().type is T.RPAREN:
                            break
                    elif self.peek().type is T.RPAREN:
                        break
                    else:
                        raise self.fail(
                            "E305",
                            f"expected ',' or ')' in tuple, found {_describe(self.peek())}",
                            self.peek().span,
                        )
            close = self.take()
            return MacroTuple(tuple(items), _join(opener.span, close.span))
        raise self.fail(
            "E305",
            f"expected a string, integer, boolean, rule name or tuple as macro argument, "
            f"found {_describe(token)}",
            token.span,
        )

    # -- names -----------------------------------------------------------------
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
                        hint=f'define it ("{name} ::= ...") or fix the spelling',
                    )
                )


def _macro_targets(call: MacroCall) -> list[MacroName]:
    if call.name not in ("TagDispatch", "TokenTagDispatch"):
        return []
    out = []
    for arg in call.args:
        if isinstance(arg, MacroTuple) and len(arg.items) == 2:
            target = arg.items[1]
            if isinstance(target, MacroName) and target.name not in ("true", "false"):
                out.append(target)
    return out


def _is_bool(value: MacroValue | None) -> bool:
    return isinstance(value, MacroName) and value.name in ("true", "false")


def _check_regex(p: Parser, call: MacroCall) -> None:
    if len(call.args) != 1:
        p.error("E305", "Regex expects exactly one string argument (the pattern)", call.span)
    elif not isinstance(call.args[0], MacroString):
        p.error("E305", "the Regex pattern must be a string literal", call.args[0].span)
    for key, value in call.kwargs:
        if key == "json_string":
            if not _is_bool(value):
                p.error("E305", "Regex's json_string must be true or false", value.span)
        elif key == "flags":
            if not isinstance(value, MacroString):
                p.error("E305", "Regex's flags must be a string", value.span)
            else:
                for flag in value.value:
                    if flag not in _REGEX_FLAGS:
                        p.error(
                            "E305",
                            f"regular-expression flag {flag!r} is not supported "
                            f"(supported: {', '.join(sorted(_REGEX_FLAGS))})",
                            value.span,
                        )
        else:
            p.error(
                "E305",
                f"Regex has no argument named {key!r} (it takes json_string and flags)",
                value.span,
            )


def _check_substring(p: Parser, call: MacroCall) -> None:
    if call.kwargs:
        p.error("E305", "Substring() takes no named arguments", call.kwargs[0][1].span)
    for arg in call.args:
        if not isinstance(arg, MacroString):
            p.error("E305", "Substring() arguments must be strings", arg.span)


def _check_tag_dispatch(p: Parser, call: MacroCall) -> None:
    tags: list[str] = []
    for arg in call.args:
        if not isinstance(arg, MacroTuple):
            p.error("E305", 'each TagDispatch argument must be a ("tag", rule) pair', arg.span)
            continue
        if len(arg.items) != 2:
            p.error("E305", 'each TagDispatch argument must be a ("tag", rule) pair', arg.span)
            continue
        tag, target = arg.items
        if not isinstance(tag, MacroString) or not tag.value:
            p.error("E305", "a TagDispatch tag must be a non-empty string", tag.span)
        else:
            tags.append(tag.value)
        if not isinstance(target, MacroName) or _is_bool(target):
            p.error("E305", "a TagDispatch target must be a rule name", target.span)
    for key, value in call.kwargs:
        if key == "loop_after_dispatch":
            if not _is_bool(value):
                p.error(
                    "E305", "TagDispatch's loop_after_dispatch must be true or false", value.span
                )
        elif key == "excludes":
            if not isinstance(value, MacroTuple):
                p.error(
                    "E305",
                    'TagDispatch\'s excludes must be a tuple of strings, e.g. ("x",)',
                    value.span,
                )
                continue
            for item in value.items:
                if not isinstance(item, MacroString) or not item.value:
                    p.error(
                        "E305", "each TagDispatch exclude must be a non-empty string", item.span
                    )
                    continue
                for tag_text in tags:
                    if tag_text.startswith(item.value):
                        p.error(
                            "E305",
                            f"the exclude {item.value!r} is a prefix of the tag {tag_text!r}",
                            item.span,
                        )
        else:
            p.error(
                "E305",
                f"TagDispatch has no argument named {key!r} "
                "(it takes loop_after_dispatch and excludes)",
                value.span,
            )


def _token_ids(p: Parser, call: MacroCall) -> None:
    if call.kwargs:
        p.error("E305", f"{call.name}() takes no named arguments", call.kwargs[0][1].span)
    if not call.args:
        p.error("E305", f"{call.name}() needs at least one token ID", call.span)
    for arg in call.args:
        if not isinstance(arg, MacroInt):
            p.error(
                "E305", f"{call.name}() arguments must be non-negative integer token IDs", arg.span
            )


def _check_token_tag_dispatch(p: Parser, call: MacroCall) -> None:
    triggers: list[int] = []
    for arg in call.args:
        if not isinstance(arg, MacroTuple) or len(arg.items) != 2:
            p.error(
                "E305", "each TokenTagDispatch argument must be a (token_id, rule) pair", arg.span
            )
            continue
        trigger, target = arg.items
        if not isinstance(trigger, MacroInt):
            p.error(
                "E305",
                "a TokenTagDispatch trigger must be a non-negative integer token ID",
                trigger.span,
            )
        else:
            triggers.append(trigger.value)
        if not isinstance(target, MacroName) or _is_bool(target):
            p.error("E305", "a TokenTagDispatch target must be a rule name", target.span)
    for key, value in call.kwargs:
        if key == "loop_after_dispatch":
            if not _is_bool(value):
                p.error(
                    "E305",
                    "TokenTagDispatch's loop_after_dispatch must be true or false",
                    value.span,
                )
        elif key == "excludes":
            if not isinstance(value, MacroTuple):
                p.error(
                    "E305", "TokenTagDispatch's excludes must be a tuple of token IDs", value.span
                )
                continue
            for item in value.items:
                if not isinstance(item, MacroInt):
                    p.error(
                        "E305", "each excluded token ID must be a non-negative integer", item.span
                    )
                elif item.value in triggers:
                    p.error(
                        "E305",
                        f"token ID {item.value} is both a trigger and excluded",
                        item.span,
                    )
        else:
            p.error(
                "E305",
                f"TokenTagDispatch has no argument named {key!r} "
                "(it takes loop_after_dispatch and excludes)",
                value.span,
            )


_MACRO_CHECKS: dict[str, Callable[[Parser, MacroCall], None]] = {
    "Regex": _check_regex,
    "Substring": _check_substring,
    "TagDispatch": _check_tag_dispatch,
    "Token": _token_ids,
    "ExcludeToken": _token_ids,
    "TokenTagDispatch": _check_token_tag_dispatch,
}


def parse_ebnf(text: str, *, root: str = "root") -> GrammarAST:
    """Parse XGrammar EBNF into an AST.

    Raises:
        GrammarSyntaxError: the text does not lex or parse (every error listed).
        GrammarError: it parses but XGrammar would still refuse it (undefined or
            duplicate rules, missing root, bad rule options or macro arguments).
    """
    limit = sys.getrecursionlimit()
    # Each nesting level costs a few Python frames; XGrammar allows 1000 levels.
    sys.setrecursionlimit(max(limit, 8 * MAX_NESTING + 1000))
    # Parsing allocates many small acyclic objects; cyclic GC passes over them
    # (and over every grammar already alive) would cost more than the parse.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        parser = Parser(text, root)
        ast = parser.parse()
    finally:
        sys.setrecursionlimit(limit)
        if gc_was_enabled:
            gc.enable()
    if parser.diagnostics:
        diagnostics = sorted(parser.diagnostics, key=lambda d: (d.line, d.column, d.code))
        syntax = any(d.code[:2] in ("E1", "E2") for d in diagnostics)
        raise (GrammarSyntaxError if syntax else GrammarError)(diagnostics, text)
    return ast
