"""Argument checks for macro calls, the way XGrammar 0.2.8's parser makes them.

Each check gets the parsed :class:`MacroCall` and a :class:`Reporter` to record
E305 diagnostics on; :data:`MACRO_CHECKS` maps a macro name to its check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, cast

from wafer_grammar.ebnf.charclass import MAX_CODE_POINT
from wafer_grammar.ebnf.cursor import TokenCursor, describe, join
from wafer_grammar.ebnf.lexer import T, Token
from wafer_grammar.ebnf.syntax import (
    Expr,
    MacroCall,
    MacroInt,
    MacroName,
    MacroString,
    MacroTuple,
    MacroValue,
    Span,
)

#: Flags XGrammar's ``Regex(..., flags=...)`` takes.
REGEX_FLAGS = frozenset("isu")


class Reporter(Protocol):
    """Where checks record their findings (the parser)."""

    def error(
        self, code: str, message: str, span: Span | None, hint: str | None = None
    ) -> None: ...


def macro_targets(call: MacroCall) -> list[MacroName]:
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


def _check_regex(p: Reporter, call: MacroCall) -> None:
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
                    if flag not in REGEX_FLAGS:
                        p.error(
                            "E305",
                            f"regular-expression flag {flag!r} is not supported "
                            f"(supported: {', '.join(sorted(REGEX_FLAGS))})",
                            value.span,
                        )
        else:
            p.error(
                "E305",
                f"Regex has no argument named {key!r} (it takes json_string and flags)",
                value.span,
            )


def _check_substring(p: Reporter, call: MacroCall) -> None:
    if call.kwargs:
        p.error("E305", "Substring() takes no named arguments", call.kwargs[0][1].span)
    for arg in call.args:
        if not isinstance(arg, MacroString):
            p.error("E305", "Substring() arguments must be strings", arg.span)


def _check_tag_dispatch(p: Reporter, call: MacroCall) -> None:
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


def _token_ids(p: Reporter, call: MacroCall) -> None:
    if call.kwargs:
        p.error("E305", f"{call.name}() takes no named arguments", call.kwargs[0][1].span)
    if not call.args:
        p.error("E305", f"{call.name}() needs at least one token ID", call.span)
    for arg in call.args:
        if not isinstance(arg, MacroInt):
            p.error(
                "E305", f"{call.name}() arguments must be non-negative integer token IDs", arg.span
            )


def _check_token_tag_dispatch(p: Reporter, call: MacroCall) -> None:
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


MACRO_CHECKS: dict[str, Callable[[Reporter, MacroCall], None]] = {
    "Regex": _check_regex,
    "Substring": _check_substring,
    "TagDispatch": _check_tag_dispatch,
    "Token": _token_ids,
    "ExcludeToken": _token_ids,
    "TokenTagDispatch": _check_token_tag_dispatch,
}


#: Macro arguments are at most pairs inside a call; deeper tuples are refused early.
MAX_TUPLE_NESTING = 64


class MacroParser(TokenCursor):
    """Parses macro calls ``Name(arg, key=value, ...)`` and checks their arguments."""

    def macro(self, head: Token) -> Expr:
        self.take()
        if self.peek().type is not T.LPAREN:
            raise self.fail(
                "E305",
                f"{head.lexeme} is a macro: call it as {head.lexeme}(...)",
                self.peek().span,
            )
        args, kwargs, close = self.macro_arguments()
        call = MacroCall(head.lexeme, tuple(args), tuple(kwargs.items()), join(head.span, close))
        MACRO_CHECKS[head.lexeme](self, call)
        for name in macro_targets(call):
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
                        f"expected ',' or ')' in macro arguments, found {describe(self.peek())}",
                        self.peek().span,
                    )
        return args, kwargs, self.take().span

    def macro_value(self) -> MacroValue:
        """One argument; tuples nest with an explicit stack of open tuples."""
        stack: list[tuple[Token, list[MacroValue]]] = []
        while True:
            token = self.peek()
            value: MacroValue
            if token.type is T.LPAREN:
                opener = self.take()
                if len(stack) >= MAX_TUPLE_NESTING:
                    raise self.fail(
                        "E305",
                        f"macro argument tuples are nested more than {MAX_TUPLE_NESTING} deep",
                        opener.span,
                    )
                if self.peek().type is not T.RPAREN:
                    stack.append((opener, []))
                    continue
                value = MacroTuple((), join(opener.span, self.take().span))
            else:
                value = self.macro_scalar(token)
            while True:
                if not stack:
                    return value
                opener, items = stack[-1]
                items.append(value)
                if self.peek().type is T.COMMA:
                    self.take()
                    if self.peek().type is not T.RPAREN:
                        break
                elif self.peek().type is not T.RPAREN:
                    raise self.fail(
                        "E305",
                        f"expected ',' or ')' in tuple, found {describe(self.peek())}",
                        self.peek().span,
                    )
                close = self.take()
                stack.pop()
                value = MacroTuple(tuple(items), join(opener.span, close.span))

    def macro_scalar(self, token: Token) -> MacroValue:
        if token.type is T.STRING:
            self.take()
            code_points = cast("list[int]", token.value)
            # A code point past U+10FFFF can never occur in text: it becomes a lone
            # surrogate, which cannot either (desugaring makes such chunks match nothing).
            text = "".join(chr(c) if c <= MAX_CODE_POINT else "\udfff" for c in code_points)
            return MacroString(text, token.span)
        if token.type is T.INT:
            self.take()
            return MacroInt(cast(int, token.value), token.span)
        if token.type in (T.BOOL, T.IDENT):
            self.take()
            return MacroName(token.lexeme, token.span)
        raise self.fail(
            "E305",
            f"expected a string, integer, boolean, rule name or tuple as macro argument, "
            f"found {describe(token)}",
            token.span,
        )
