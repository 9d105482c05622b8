"""Checks XGrammar 0.2.8 makes after parsing: lookahead contents, and what its compiler refuses.

XGrammar's ``Grammar.from_ebnf`` accepts some grammars that its compiler then
refuses (a ``Regex`` pattern its regex engine cannot read, a ``lazy`` rule whose
body is not terminal-like). The server compiles what it receives, so for us
both are errors of ``from_ebnf``, with line, column and caret. Only rules the
root reaches are compiled (through bodies, lookaheads and ``TagDispatch``
targets): an unreachable rule is never judged, as in XGrammar.
"""

from __future__ import annotations

from collections.abc import Iterator

from wafer_grammar.ebnf.charclass import MAX_CODE_POINT
from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.ebnf.regex import regex_to_expr
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    MacroCall,
    MacroName,
    MacroString,
    Repeat,
    Rule,
    RuleRef,
    Sequence,
    Span,
    children,
    macro_rule_refs,
    walk,
)
from wafer_grammar.errors import RegexError

_LOOKAHEAD_MACROS = {
    "Regex": "a Regex()",
    "Substring": "a Substring()",
    "TagDispatch": "a TagDispatch()",
}


def lookahead_checks(expr: Expr, span: Span | None, rule: str) -> list[Diagnostic]:
    """E210 for a lookahead XGrammar refuses: only ``""``, or only a text macro."""
    if isinstance(expr, Literal) and expr.value == "":
        what = "only the empty string"
        hint = "remove the (= ...) assertion: an empty lookahead asserts nothing"
    elif isinstance(expr, MacroCall) and expr.name in _LOOKAHEAD_MACROS:
        what = f"only {_LOOKAHEAD_MACROS[expr.name]}"
        hint = "write the asserted text as EBNF, or put another element before the macro"
    else:
        return []
    message = f"a lookahead assertion may not consist of {what} (XGrammar refuses it)"
    return [Diagnostic.at("E210", "error", message, span, rule=rule or None, hint=hint)]


def compile_checks(ast: GrammarAST) -> list[Diagnostic]:
    """E306/E307 for what XGrammar's compiler refuses in the rules the root reaches."""
    rules = ast.rule_map()
    found: list[Diagnostic] = []
    live = compiled_rules(ast)
    for rule in ast.rules:
        if rule.name not in live:
            continue
        found.extend(_regex_errors(rule))
        found.extend(_bound_errors(rule))
        if rule.option("lazy") is not None and not terminal_like(rule, rules):
            found.append(
                Diagnostic.at(
                    "E307",
                    "error",
                    f'the body of lazy rule "{rule.name}" is not terminal-like: XGrammar '
                    "compiles a lazy rule into one automaton, so its body may use only "
                    "strings, character classes, class repetitions (* or +), exact counts, "
                    "Regex() and Substring()",
                    _name_span(rule),
                    rule=rule.name,
                    hint="move recursion and repetition ranges out of the lazy rule, "
                    "or write its body as one Regex(...)",
                )
            )
    return found


def _compiled_nodes(expr: Expr) -> list[Expr]:
    """The nodes of ``expr`` XGrammar compiles: all but what ``{0}`` removes."""
    out: list[Expr] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Repeat) and node.max == 0:
            continue
        out.append(node)
        stack.extend(children(node))
    return out


def _compiled_refs(expr: Expr) -> list[str]:
    """Rules ``expr`` refers to, leaving out what ``{0}`` removes (XGrammar drops it first)."""
    names: list[str] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Repeat) and node.max == 0:
            continue
        if isinstance(node, RuleRef):
            names.append(node.name)
        elif isinstance(node, MacroCall):
            names.extend(n.name for n in macro_rule_refs(node))
        stack.extend(children(node))
    return names


def compiled_rules(ast: GrammarAST) -> set[str]:
    """The rules XGrammar compiles: reached from the root through bodies, lookaheads and
    TagDispatch targets, except under ``{0}``."""
    rules = ast.rule_map()
    seen = {ast.root} if ast.root in rules else set()
    stack = list(seen)
    while stack:
        rule = rules[stack.pop()]
        for top in (rule.body, rule.lookahead):
            for name in _compiled_refs(top) if top is not None else ():
                if name in rules and name not in seen:
                    seen.add(name)
                    stack.append(name)
    return seen


def _name_span(rule: Rule) -> Span | None:
    if rule.span is None:
        return None
    return rule.span._replace(
        end_line=rule.span.line,
        end_column=rule.span.column + len(rule.name),
        end_offset=rule.span.offset + len(rule.name),
    )


def _regex_errors(rule: Rule) -> Iterator[Diagnostic]:
    for top in (rule.body, rule.lookahead):
        if top is None:
            continue
        for node in _compiled_nodes(top):
            if not (isinstance(node, MacroCall) and node.name == "Regex" and node.args):
                continue
            pattern, flags = node.args[0], node.kwarg("flags")
            if not isinstance(pattern, MacroString):
                continue
            try:
                regex_to_expr(
                    pattern.value,
                    flags=flags.value if isinstance(flags, MacroString) else None,
                    json_string=_is_true(node.kwarg("json_string")),
                )
            except RegexError as exc:
                yield regex_diagnostic(rule.name, node, exc)


#: XGrammar's compiler keeps repetition bounds in 32-bit integers.
MAX_COMPILED_BOUND = 2**31 - 1


def _bound_errors(rule: Rule) -> Iterator[Diagnostic]:
    for top in (rule.body, rule.lookahead):
        for node in _compiled_nodes(top) if top is not None else ():
            if not isinstance(node, Repeat):
                continue
            bound = max(node.min, node.max or 0)
            if bound > MAX_COMPILED_BOUND:
                yield Diagnostic.at(
                    "E308",
                    "error",
                    f"repetition bound {bound} is above {MAX_COMPILED_BOUND}: XGrammar's "
                    "compiler keeps bounds in 32 bits and refuses (or misreads) it",
                    node.span,
                    rule=rule.name,
                    hint="use * or +, with the length capped by max_tokens or max_chars",
                )


def _is_true(value: object) -> bool:
    return isinstance(value, MacroName) and value.name == "true"


def regex_diagnostic(rule: str, call: MacroCall, exc: RegexError) -> Diagnostic:
    """E306 for ``call`` (a ``Regex``) in ``rule``, pointing at the call."""
    return Diagnostic.at(
        "E306",
        "error",
        f"Regex() in rule {rule!r} cannot be compiled: {exc}",
        call.span,
        rule=rule,
        hint="XGrammar's regex engine has no \\b, \\p{...}, backreferences or lookaround",
    )


# --------------------------------------------------------------------------- lazy bodies


def _target(expr: Expr, rules: dict[str, Rule]) -> Rule | None:
    """The non-lazy rule ``expr`` refers to (None for anything else)."""
    if not isinstance(expr, RuleRef):
        return None
    target = rules.get(expr.name)
    return None if target is None or target.option("lazy") is not None else target


def _single_char(expr: Expr, rules: dict[str, Rule], depth: int = 0) -> bool:
    """One character whatever the choice: a class, a one-character string, a choice of them."""
    if isinstance(expr, CharClass):
        # A string escape past U+10FFFF ("\x110000") is several bytes to XGrammar.
        return not expr.ranges or any(lo <= MAX_CODE_POINT for lo, _ in expr.ranges)
    if isinstance(expr, Literal):
        # XGrammar works on UTF-8 bytes: only a one-byte string is one "character" here.
        return len(expr.value.encode("utf-8", "surrogatepass")) == 1
    if isinstance(expr, Choice):
        return all(_single_char(a, rules, depth) for a in expr.alternatives)
    target = _target(expr, rules)
    return target is not None and depth < 64 and _single_char(target.body, rules, depth + 1)


def _plus_pattern(rule: Rule, rules: dict[str, Rule]) -> bool:
    """``r ::= c r | c`` with ``c`` one character: how XGrammar spells ``c+`` (a class loop)."""
    body = rule.body
    if not isinstance(body, Choice) or len(body.alternatives) != 2:
        return False
    for loop, once in (body.alternatives, body.alternatives[::-1]):
        if (
            isinstance(loop, Sequence)
            and len(loop.items) == 2
            and loop.items[0] == once
            and loop.items[1] == RuleRef(rule.name)
            and _single_char(once, rules)
        ):
            return True
    return False


def _flat_item(expr: Expr, rules: dict[str, Rule], depth: int) -> bool:
    """Whether one sequence element flattens into strings and classes (XGrammar's test)."""
    if isinstance(expr, (Literal, CharClass)) or _single_char(expr, rules):
        return True
    if isinstance(expr, Choice) and all(n == Literal("") or children(n) for n in walk(expr)):
        return True  # ("" | "") is just "": XGrammar folds it away
    if isinstance(expr, Repeat):
        if expr.max == 0:
            return True  # matches only "": XGrammar drops it
        if expr.item == Literal("") and (expr.max == expr.min or expr.max == 1):
            return True  # ""{n} is copies of "", ""? a choice with ""
        if expr.max is None:
            return _single_char(expr.item, rules)  # c{n,} is n copies, then a class loop
        if expr.max == expr.min:
            return _flat_item(expr.item, rules, depth)  # an exact count is copies
        return False
    if isinstance(expr, Sequence):
        return all(_flat_item(item, rules, depth) for item in expr.items)
    target = _target(expr, rules)
    if target is None or depth > 64:
        return False
    return _plus_pattern(target, rules) or _flat_alternative(target.body, rules, depth + 1, True)


def _flat_alternative(expr: Expr, rules: dict[str, Rule], depth: int, nested: bool) -> bool:
    if isinstance(expr, Choice):
        if nested:
            return _single_char(expr, rules)
        return all(_flat_alternative(a, rules, depth, nested=True) for a in expr.alternatives)
    if isinstance(expr, Sequence) and not nested:
        # XGrammar inlines a choice that starts a sequence ((a | b) c -> a c | b c)
        # before it flattens, so a leading choice of flat pieces is fine.
        first, rest = expr.items[0], expr.items[1:]
        target = _target(first, rules)
        leading = first if isinstance(first, Choice) else target.body if target else None
        if isinstance(leading, Choice) and all(_flat_item(item, rules, depth) for item in rest):
            return all(_flat_alternative(a, rules, depth, True) for a in leading.alternatives)
    return _flat_item(expr, rules, depth)


def terminal_like(rule: Rule, rules: dict[str, Rule]) -> bool:
    """Whether XGrammar 0.2.8 can compile lazy ``rule``'s body into one automaton."""
    body = rule.body
    for _ in range(64):  # chains of single references unwrap first
        target = _target(body, rules)
        if target is None:
            break
        if _plus_pattern(target, rules):
            return True
        body = target.body
    if isinstance(body, MacroCall):
        return body.name in ("Regex", "Substring")
    if isinstance(body, Repeat) and (body.min, body.max) == (0, 1):
        body = Choice((Literal(""), body.item))
    alternatives = body.alternatives if isinstance(body, Choice) else (body,)
    return all(_flat_alternative(alt, rules, 0, nested=False) for alt in alternatives)
