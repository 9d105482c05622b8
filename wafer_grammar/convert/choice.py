"""A list of labels -> a grammar that matches exactly one of them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from wafer_grammar.convert.regex import fold_ranges
from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.ebnf.grammar import Grammar
from wafer_grammar.ebnf.parser import parse_ebnf
from wafer_grammar.ebnf.render import render_ebnf, render_string
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    Rule,
    Sequence,
)
from wafer_grammar.errors import InvalidLabels


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


class LabelGrammar(Grammar):
    """A :class:`Grammar` of exactly one label from ``labels`` (see :func:`choice_grammar`)."""

    labels: tuple[str, ...] = ()
    case_sensitive: bool = True

    def check(self, *, profile: str | None = None) -> list[Diagnostic]:
        """Lint, plus W302 for labels that are prefixes of others ignoring case."""
        found = super().check(profile=profile)
        if self.case_sensitive:
            return found  # literal alternatives: lint's own W302 sees them
        root = self.rules[self.root].body
        spans = root.alternatives if isinstance(root, Choice) else (root,)
        keys = [_fold_key(label) for label in self.labels]
        for i, short in enumerate(self.labels):
            for j, long in enumerate(self.labels):
                if len(keys[j]) > len(keys[i]) and keys[j][: len(keys[i])] == keys[i]:
                    found.append(
                        Diagnostic.at(
                            "W302",
                            "warning",
                            f"alternative {render_string(short)} is a prefix of alternative "
                            f"{render_string(long)} (ignoring case): a model can stop after "
                            f"{render_string(short)}",
                            spans[i].span,
                            rule=self.root,
                            hint="make no alternative a prefix of another, e.g. end each with "
                            "the same delimiter",
                        )
                    )
        return sorted(found, key=lambda d: (d.line, d.column, d.code, d.message))


def choice_grammar(labels: Iterable[str], *, case_sensitive: bool = True) -> LabelGrammar:
    """A grammar accepting exactly one of ``labels`` (any characters; escaped as needed).

    With ``case_sensitive=False`` each letter also matches its other cases
    (simple case folding, as ``re.IGNORECASE``). ``check()`` warns (W302) when
    one label is a prefix of another: a model can stop after the shorter one.

    Raises:
        InvalidLabels: no labels, an empty or non-string label, or two labels
            that are equal (equal ignoring case, when ``case_sensitive=False``).
    """
    if isinstance(labels, str):
        raise InvalidLabels(f"labels must be a list of strings, not the string {labels!r}")
    items = list(labels)
    if not items:
        raise InvalidLabels("no labels: a choice needs at least one label")
    bad = [repr(x) for x in items if not isinstance(x, str)]
    if bad:
        raise InvalidLabels(f"labels must be strings, not {', '.join(bad)}")
    if "" in items:
        raise InvalidLabels("the empty string is not a valid label", [""])
    seen: set[object] = set()
    duplicates: list[str] = []
    for label in items:
        key: object = label if case_sensitive else _fold_key(label)
        if key in seen:
            duplicates.append(label)
        seen.add(key)
    if duplicates:
        shown = ", ".join(repr(d) for d in dict.fromkeys(duplicates))
        how = "" if case_sensitive else " (ignoring case)"
        raise InvalidLabels(f"duplicate labels{how}: {shown}", list(dict.fromkeys(duplicates)))
    alts = [Literal(x) if case_sensitive else _caseless(x) for x in items]
    body = alts[0] if len(alts) == 1 else Choice(tuple(alts))
    text = render_ebnf(GrammarAST((Rule("root", body),)))
    grammar = LabelGrammar(parse_ebnf(text), source=text)
    grammar.labels = tuple(items)
    grammar.case_sensitive = case_sensitive
    return grammar
