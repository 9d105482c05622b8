"""W206: alternatives a model can start but never finish.

XGrammar's matcher lets a model emit any prefix its automaton can follow, even
into an alternative that can never complete (``root ::= "a" | "b" x`` with
``x ::= x``: after ``b`` nothing more is allowed). At the server that is a
generation that stalls until ``max_tokens``. Our ``is_prefix`` says "can still
become a member", so it already refuses ``"b"``; this lint names the trap.
"""

from __future__ import annotations

from collections.abc import Iterator

from wafer_grammar.ebnf.analysis import least_rules, node_min_lengths, reachable_rules
from wafer_grammar.ebnf.charclass import class_size
from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.ebnf.render import render_expr
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    MacroCall,
    Repeat,
    RuleRef,
    Sequence,
    fold,
    walk,
)


def _starts(expr: Expr, mins: dict[str, int | None], starters: set[str]) -> dict[int, bool]:
    """Whether each node can consume a first character (``starters``: rules that can)."""
    node_mins = node_min_lengths(expr, mins)
    out: dict[int, bool] = {}

    def combine(node: Expr, kids: list[bool]) -> bool:
        if isinstance(node, Literal):
            value = node.value != ""
        elif isinstance(node, CharClass):
            value = class_size(node) > 0
        elif isinstance(node, RuleRef):
            value = node.name in starters
        elif isinstance(node, Sequence):
            # Some item can start, and everything before it can complete.
            value = False
            for item, starts in zip(node.items, kids, strict=True):
                if starts:
                    value = True
                    break
                if node_mins[id(item)] is None:
                    break
        elif isinstance(node, Choice):
            value = any(kids)
        elif isinstance(node, Repeat):
            value = node.max != 0 and kids[0]
        else:
            value = isinstance(node, MacroCall)  # text or tokens: assume it can start
        out[id(node)] = value
        return value

    fold(expr, combine)
    return out


def dead_ends(ast: GrammarAST, mins: dict[str, int | None]) -> Iterator[Diagnostic]:
    """W206 for each alternative (or optional part) of a reachable rule that can start but
    never complete."""
    rules = ast.rule_map()
    starters = least_rules(ast, lambda rule, found: _starts(rule.body, mins, found)[id(rule.body)])
    live = reachable_rules(ast)
    for rule in ast.rules:
        name = rule.name
        if name not in live or rules[name] is not rule:
            continue
        node_mins = node_min_lengths(rule.body, mins)
        starts = _starts(rule.body, mins, starters)
        for node in walk(rule.body):
            if isinstance(node, Choice):
                parts = node.alternatives
            elif isinstance(node, Repeat) and node.min == 0 and node.max != 0:
                parts = (node.item,)
            else:
                continue
            for part in parts:
                if node_mins[id(part)] is None and starts[id(part)]:
                    yield Diagnostic.at(
                        "W206",
                        "warning",
                        f"{render_expr(part)} can start but never complete: a model that "
                        "begins it is stuck (XGrammar's matcher allows the start)",
                        part.span,
                        rule=name,
                        hint="remove it, or fix what it uses that matches nothing",
                    )
