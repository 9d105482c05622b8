"""A list of labels -> the AST of a grammar that matches exactly one of them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from wafer_grammar.convert.regex import fold_ranges
from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.ebnf.render import render_string
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    Rule,
    Sequence,
)
from wafer_grammar.label_set import prefix_pairs, validate_labels


def _fold_key(label: str) -> tuple[int, ...]:
    """One code point per character: the smallest its ``re.IGNORECASE`` class matches."""
    return tuple(fold_ranges(((ord(ch), ord(ch)),), re.IGNORECASE)[0][0] for ch in label)


def _caseless(label: str) -> Expr:
    """``label`` with every cased character a class of its case variants (as ``re.I`` folds)."""
    items: list[Expr] = []
    run = ""
    for ch in label:
        ranges = fold_ranges(((ord(ch), ord(ch)),), re.IGNORECASE)
        if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
            run += ch
            continue
        if run:
            items.append(Literal(run))
            run = ""
        items.append(CharClass(ranges))
    if run:
        items.append(Literal(run))
    return items[0] if len(items) == 1 else Sequence(tuple(items))


def caseless_prefix_warnings(ast: GrammarAST, labels: tuple[str, ...]) -> list[Diagnostic]:
    """W302 for labels that are prefixes of others ignoring case, at their alternatives."""
    root = ast.rule_map()[ast.root].body
    spans = root.alternatives if isinstance(root, Choice) else (root,)
    index = {label: i for i, label in enumerate(labels)}
    return [
        Diagnostic.at(
            "W302",
            "warning",
            f"alternative {render_string(short)} is a prefix of alternative "
            f"{render_string(long)} (ignoring case): a model can stop after "
            f"{render_string(short)}",
            spans[index[short]].span,
            rule=ast.root,
            hint="make no alternative a prefix of another, e.g. end each with the same delimiter",
        )
        for short, long in prefix_pairs(labels, key=_fold_key)
    ]


def choice_ast(
    labels: Iterable[str], *, case_sensitive: bool = True
) -> tuple[GrammarAST, tuple[str, ...]]:
    """A grammar accepting exactly one of ``labels`` (any characters; escaped as needed).

    Returns the AST and the validated labels; :meth:`Grammar.choice
    <wafer_grammar.grammar.Grammar.choice>` wraps both. With
    ``case_sensitive=False`` each letter also matches its other cases.

    Raises:
        InvalidLabels: as :func:`~wafer_grammar.label_set.validate_labels`.
    """
    items = validate_labels(labels, fold=None if case_sensitive else _fold_key)
    alts = [Literal(x) if case_sensitive else _caseless(x) for x in items]
    body = alts[0] if len(alts) == 1 else Choice(tuple(alts))
    return GrammarAST((Rule("root", body),)), items
