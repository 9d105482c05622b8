"""Canonical layout that keeps comments: what ``wafer-grammar fmt`` writes.

Each rule is rendered in canonical form (:func:`~wafer_grammar.ebnf.render.render_rule`),
one per line (a rule longer than 100 characters puts each top-level alternative on
a ``    | ...`` line of its own). A comment keeps its place relative to the rules:
comment lines stay above the rule they precede, the comment at the end of a rule's
last line stays at the end of that rule's line (so ``# noqa`` keeps silencing it),
and a comment inside a multi-line rule moves to the line above it. Blank lines
between groups shrink to one. Formatting the output again changes nothing.
"""

from __future__ import annotations

from wafer_grammar.ebnf.lexer import Lexer
from wafer_grammar.ebnf.render import render_expr, render_rule
from wafer_grammar.ebnf.syntax import Choice, GrammarAST, Rule

WIDTH = 100
"""Rules longer than this put each top-level alternative on a line of its own."""


def format_source(source: str, ast: GrammarAST) -> str:
    """``source`` (which parsed to ``ast``) laid out canonically, comments kept."""
    lexer = Lexer(source)
    lexer.tokenize()
    comments = sorted(lexer.comments)
    # (first line, last line, text) of each output line's source, in source order
    items: list[tuple[int, int, str]] = []
    taken = 0
    for rule in sorted(ast.rules, key=lambda r: r.span.line if r.span else 0):
        first = rule.span.line if rule.span else 0
        last = rule.span.end_line if rule.span else first
        while taken < len(comments) and comments[taken][0] < first:
            line, text = comments[taken]
            items.append((line, line, text.rstrip()))
            taken += 1
        inside = []
        while taken < len(comments) and comments[taken][0] <= last:
            inside.append(comments[taken])
            taken += 1
        trailing = inside.pop()[1].rstrip() if inside and inside[-1][0] == last else None
        for line, text in inside:  # inside a multi-line rule: above it
            items.append((line, line, text.rstrip()))
        rendered = _wrapped(rule) + (f"  {trailing}" if trailing else "")
        items.append((first, last, rendered))
    items += [(line, line, text.rstrip()) for line, text in comments[taken:]]
    out: list[str] = []
    previous_end: int | None = None
    for first, last, text in items:
        if (
            previous_end is not None
            and first > previous_end + 1
            and _blank_between(source, previous_end, first)
        ):
            out.append("")
        out.append(text)
        previous_end = max(last, previous_end or 0)
    return "".join(line + "\n" for line in out)


def _wrapped(rule: Rule) -> str:
    """The rule on one line, or, past :data:`WIDTH`, one top-level alternative a line."""
    line = render_rule(rule)
    if len(line) <= WIDTH or not isinstance(rule.body, Choice) or rule.lookahead is not None:
        return line
    head = line[: line.index(" ::= ")]
    alternatives = [render_expr(alt) for alt in rule.body.alternatives]
    return f"{head} ::= " + "\n    | ".join(alternatives)


def _blank_between(source: str, after: int, before: int) -> bool:
    """Whether a blank line lies strictly between lines ``after`` and ``before`` (1-based)."""
    lines = source.splitlines()
    return any(not lines[i].strip() for i in range(after, min(before - 1, len(lines))))
