"""AST -> canonical EBNF text.

Deterministic: the same grammar always renders to the same bytes, because the
server caches compiled grammars by their exact text. One rule per line in the
grammar's own order, single spaces between elements, parentheses only where
precedence needs them, and one spelling per character (printable characters
raw, the rest escaped).
"""

from __future__ import annotations

from wafer_grammar.ebnf.charclass import MAX_CODE_POINT
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    MacroInt,
    MacroName,
    MacroString,
    MacroValue,
    OptionValue,
    Repeat,
    Rule,
    RuleOption,
    RuleRef,
    Sequence,
    fold,
)

_STRING_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_CLASS_ESCAPES = {
    "\\": "\\\\", "]": "\\]", "[": "\\[", "-": "\\-", "^": "\\^",
    "\n": "\\n", "\r": "\\r", "\t": "\\t",
}  # fmt: skip


def _escape_code_point(cp: int) -> str:
    # Fixed-width escapes only: \x takes every hex digit that follows it.
    if cp < 0x10000:
        return f"\\u{cp:04X}"
    return f"\\U{cp:08X}"


def _char(ch: str, table: dict[str, str]) -> str:
    if ch in table:
        return table[ch]
    if ch.isprintable() and not ("\ud800" <= ch <= "\udfff"):
        return ch
    return _escape_code_point(ord(ch))


def render_string(value: str) -> str:
    """A double-quoted EBNF string literal for ``value``."""
    return '"' + "".join(_char(ch, _STRING_ESCAPES) for ch in value) + '"'


def render_class(node: CharClass) -> str:
    if node.ranges and not node.negated and all(lo > MAX_CODE_POINT for lo, _ in node.ranges):
        # Only a string escape makes these ("\x110000"): render it back as one.
        return '"' + "".join(f"\\U{lo:08X}" for lo, _ in node.ranges[:1]) + '"'
    parts = []
    for low, high in node.ranges:
        if low > MAX_CODE_POINT:
            continue  # nothing above U+10FFFF is text (the parser clamps these too)
        high = min(high, MAX_CODE_POINT)
        first = _char(chr(low), _CLASS_ESCAPES)
        parts.append(first if low == high else f"{first}-{_char(chr(high), _CLASS_ESCAPES)}")
    return "[" + ("^" if node.negated else "") + "".join(parts) + "]"


def _suffix(node: Repeat) -> str:
    lo, hi = node.min, node.max
    if (lo, hi) == (0, 1):
        return "?"
    if (lo, hi) == (0, None):
        return "*"
    if (lo, hi) == (1, None):
        return "+"
    if hi is None:
        return f"{{{lo},}}"
    if lo == hi:
        return f"{{{lo}}}"
    return f"{{{lo},{hi}}}"


def render_macro_value(value: MacroValue) -> str:
    if isinstance(value, MacroString):
        return render_string(value.value)
    if isinstance(value, MacroInt):
        return str(value.value)
    if isinstance(value, MacroName):
        return value.name
    inner = ", ".join(render_macro_value(item) for item in value.items)
    return f"({inner},)" if len(value.items) == 1 else f"({inner})"


def render_expr(node: Expr) -> str:
    """One expression, parenthesised only where precedence requires it (no recursion)."""

    def combine(expr: Expr, kids: list[str]) -> str:
        if isinstance(expr, Literal):
            return render_string(expr.value)
        if isinstance(expr, CharClass):
            return render_class(expr)
        if isinstance(expr, RuleRef):
            return expr.name
        if isinstance(expr, Choice):
            return " | ".join(kids)
        if isinstance(expr, Sequence):
            return " ".join(
                f"({text})" if isinstance(item, (Choice, Sequence)) else text
                for item, text in zip(expr.items, kids, strict=True)
            )
        if isinstance(expr, Repeat):
            inner = kids[0]
            if isinstance(expr.item, (Choice, Sequence, Repeat)):
                inner = f"({inner})"
            return inner + _suffix(expr)
        args = [render_macro_value(arg) for arg in expr.args]
        args += [f"{key}={render_macro_value(value)}" for key, value in expr.kwargs]
        return f"{expr.name}({', '.join(args)})"

    return fold(node, combine)


def _option_value(value: OptionValue) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def render_option(option: RuleOption) -> str:
    if option.value is None:
        return option.name
    return f"{option.name}={_option_value(option.value)}"


def render_rule(rule: Rule) -> str:
    """``name[options] ::= body (= lookahead)``."""
    head = rule.name
    if rule.options:
        head += "[" + ", ".join(render_option(opt) for opt in rule.options) + "]"
    body = render_expr(rule.body)
    if rule.lookahead is not None:
        look = render_expr(rule.lookahead)
        if isinstance(rule.lookahead, Choice):
            look = f"({look})"
        body += f" (= {look})"
    return f"{head} ::= {body}"


def render_ebnf(ast: GrammarAST) -> str:
    """The canonical text of a whole grammar, one rule per line, ending in a newline."""
    return "".join(render_rule(rule) + "\n" for rule in ast.rules)
