"""Semantic lint: grammars XGrammar accepts but that will probably not do what was meant.

Every finding is a :class:`Diagnostic` with a stable code, severity
``warning``, the span of the offending node, the rule it is in and a one-line
fix. Codes group by kind: ``W1xx`` rule graph, ``W2xx`` the language itself,
``W3xx`` traps under constrained decoding, ``W4xx`` compile cost, ``W5xx``
dialect version (``profile``).

====  =====================  =========================================================
W101  unused-rule            a rule no other rule refers to
W102  unreachable-rule       a rule used only by rules the root never reaches
W201  non-productive-rule    a rule that matches no finite string
W202  empty-language         the root matches no string: nothing is accepted
W203  nullable-root          the root matches ``""``: an empty answer is accepted
W204  empty-class            a character class that matches no character (``[]``)
W205  nullable-repetition    ``*``/``+``/``{n,}`` over an item that matches ``""``
W206  dead-end-alternative   an alternative a model can start but never complete
W301  whitespace-run         unbounded repetition of whitespace: the model may never stop
W302  prefix-alternative     one literal alternative is a prefix of another
W303  duplicate-alternative  the same alternative twice in one choice
W401  huge-repetition        a bound above 1000, or nested bounds above 10000 copies
W501  profile-feature        a feature the chosen profile's server does not have
====  =====================  =========================================================

Profiles (XGrammar's dialect grew; Wafer does not publish its version):
``gbnf`` (llama.cpp's GBNF as :meth:`Grammar.to_gbnf` writes it: ``{m,n}`` since
2024, ``Regex`` and ``Substring`` expanded into rules; no lookahead, options or other
macros, exactly what ``to_gbnf`` refuses), ``xgrammar-0.1`` (lookahead and
``{m,n}``, no macros), ``xgrammar-0.2`` (adds rule options and macros: everything).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from wafer_grammar.ebnf.analysis import (
    is_nullable,
    least_rules,
    min_lengths,
    nullable_rules,
    reachable_rules,
    recursive_rules,
    rule_components,
    rule_references,
)
from wafer_grammar.ebnf.charclass import class_size, is_whitespace_class
from wafer_grammar.ebnf.dead_ends import dead_ends
from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.ebnf.render import render_expr, render_string
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    MacroCall,
    Repeat,
    Rule,
    RuleRef,
    Span,
    children,
    fold,
    references,
    walk,
)

#: Each code's short name, for documentation and ``--ignore`` style filters.
CODES: dict[str, str] = {
    "W101": "unused-rule",
    "W102": "unreachable-rule",
    "W201": "non-productive-rule",
    "W202": "empty-language",
    "W203": "nullable-root",
    "W204": "empty-class",
    "W205": "nullable-repetition",
    "W206": "dead-end-alternative",
    "W301": "whitespace-run",
    "W302": "prefix-alternative",
    "W303": "duplicate-alternative",
    "W401": "huge-repetition",
    "W501": "profile-feature",
}

#: Features beyond GBNF, keyed as :data:`PROFILES` names them.
FEATURES = ("lookahead", "repetition-range", "rule-options", "text-macros", "macros")
#: Macros that are plain languages: ``to_gbnf`` expands them into ordinary rules.
TEXT_MACROS = frozenset({"Regex", "Substring"})

#: The features each profile's server understands.
PROFILES: dict[str, frozenset[str]] = {
    "gbnf": frozenset({"repetition-range", "text-macros"}),
    "xgrammar-0.1": frozenset({"lookahead", "repetition-range"}),
    "xgrammar-0.2": frozenset(FEATURES),
}

#: A single bound above this is flagged (W401).
MAX_BOUND = 1000
#: Nested bounds multiplying above this are flagged (W401).
MAX_NESTED_COPIES = 10000

_FEATURE_HINTS = {
    "lookahead": "drop the (= ...) assertion",
    "repetition-range": "write the copies out, e.g. x x x? for x{2,3}",
    "rule-options": "drop the [...] options",
    "text-macros": "write the language out as EBNF rules",
    "macros": "write the language out as EBNF rules",
}


def lint(ast: GrammarAST, *, profile: str | None = None) -> list[Diagnostic]:
    """Warnings about ``ast`` beyond what XGrammar refuses, sorted by position.

    Parameters:
        ast: a grammar that parsed (lint assumes its references resolve; where
            some do not, the checks that depend on them are skipped).
        profile: ``"gbnf"``, ``"xgrammar-0.1"`` or ``"xgrammar-0.2"``: also warn
            (W501) about each use of a feature that profile lacks.

    Raises:
        ValueError: ``profile`` is not a known profile name.
    """
    if profile is not None and profile not in PROFILES:
        known = ", ".join(f'"{name}"' for name in PROFILES)
        raise ValueError(f'unknown profile "{profile}"; choose one of {known}')
    ctx = _Context.of(ast)
    found = [
        *_rule_usage(ctx),
        *_productivity(ctx),
        *(dead_ends(ctx.ast, ctx.mins) if ctx.complete else ()),
        *_expressions(ctx),
    ]
    if profile is not None:
        found += _profile(ctx, profile)
    return sorted(found, key=lambda d: (d.line, d.column, d.code, d.message))


@dataclass(frozen=True)
class _Context:
    ast: GrammarAST
    rules: dict[str, Rule]
    nullable: set[str]
    mins: dict[str, int | None]
    complete: bool  # every reference resolves
    whitespace: set[str]  # rules that match only whitespace
    texts: set[str]  # rules that can match a non-empty string

    @classmethod
    def of(cls, ast: GrammarAST) -> _Context:
        rules = ast.rule_map()
        refs = [name for rule in ast.rules for name in _rule_refs(rule)]
        return cls(
            ast,
            rules,
            nullable_rules(ast),
            min_lengths(ast),
            all(name in rules for name in refs) and ast.root in rules,
            _whitespace_rules(ast),
            least_rules(ast, lambda rule, found: _has_text(rule.body, found)),
        )

    def exprs(self) -> Iterator[tuple[Rule, Expr]]:
        """Every rule's body and lookahead, each with its rule."""
        for rule in self.ast.rules:
            yield rule, rule.body
            if rule.lookahead is not None:
                yield rule, rule.lookahead


def _rule_refs(rule: Rule) -> list[str]:
    names = references(rule.body)
    return names + references(rule.lookahead) if rule.lookahead is not None else names


def _name_span(rule: Rule) -> Span | None:
    """Just the rule's name: a caret under the whole rule would underline its body."""
    if rule.span is None:
        return None
    return rule.span._replace(
        end_line=rule.span.line,
        end_column=rule.span.column + len(rule.name),
        end_offset=rule.span.offset + len(rule.name),
    )


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


# --------------------------------------------------------------------------- W1xx


def _rule_usage(ctx: _Context) -> Iterator[Diagnostic]:
    root = ctx.ast.root
    if root not in ctx.rules:
        return
    reachable = reachable_rules(ctx.ast)
    users: dict[str, list[str]] = {name: [] for name in ctx.rules}
    for name, refs in rule_references(ctx.ast).items():
        for target in refs:
            if target in users and target != name and name not in users[target]:
                users[target].append(name)
    for rule in ctx.ast.rules:
        if rule.name in reachable:
            continue
        if not users[rule.name]:
            yield Diagnostic.at(
                "W101",
                "warning",
                f'rule "{rule.name}" is never used',
                _name_span(rule),
                rule=rule.name,
                hint=f'remove it, or refer to it from a rule that "{root}" reaches',
            )
        else:
            yield Diagnostic.at(
                "W102",
                "warning",
                f'rule "{rule.name}" is unreachable from "{root}": only unreachable '
                f"rules use it ({_quoted(users[rule.name])})",
                _name_span(rule),
                rule=rule.name,
                hint=f'remove it with the rules that use it, or refer to one of them from "{root}"',
            )


# --------------------------------------------------------------------------- W2xx


def _productivity(ctx: _Context) -> Iterator[Diagnostic]:
    if not ctx.complete:
        return
    recursive = recursive_rules(ctx.ast)
    root = ctx.rules[ctx.ast.root]
    for rule in ctx.ast.rules:
        if ctx.mins[rule.name] is not None:
            continue
        if rule.name in recursive:
            hint = "add an alternative that does not refer back to it (a base case)"
        else:
            hint = "each alternative uses something that matches nothing; fix that first"
        if rule is root:
            yield Diagnostic.at(
                "W202",
                "warning",
                f'the grammar accepts no string: root rule "{rule.name}" cannot match '
                "any finite string",
                _name_span(rule),
                rule=rule.name,
                hint=hint,
            )
        elif rule.name == root.name:
            continue  # a duplicate definition: the parser reports it
        else:
            yield Diagnostic.at(
                "W201",
                "warning",
                f'rule "{rule.name}" cannot match any finite string',
                _name_span(rule),
                rule=rule.name,
                hint=hint,
            )
    if root.name in ctx.nullable:
        yield Diagnostic.at(
            "W203",
            "warning",
            f'root rule "{root.name}" matches the empty string, so an empty answer is accepted',
            _name_span(root),
            rule=root.name,
            hint="require at least one element (e.g. + instead of *) if empty is not an answer",
        )


# --------------------------------------------------------------------------- expressions


def _expressions(ctx: _Context) -> Iterator[Diagnostic]:
    for rule, top in ctx.exprs():
        yield from _huge_repetitions(rule, top)
        for node in walk(top):
            if isinstance(node, CharClass) and class_size(node) == 0:
                yield Diagnostic.at(
                    "W204",
                    "warning",
                    f"character class {render_expr(node)} matches no character",
                    node.span,
                    rule=rule.name,
                    hint="add the characters it should match, or remove it",
                )
            elif isinstance(node, Repeat):
                yield from _repetition(ctx, rule, node)
            elif isinstance(node, Choice):
                yield from _alternatives(rule, node)


def _repetition(ctx: _Context, rule: Rule, node: Repeat) -> Iterator[Diagnostic]:
    if node.max is not None:
        return
    if is_nullable(node.item, ctx.nullable):
        yield Diagnostic.at(
            "W205",
            "warning",
            f"{render_expr(node)} repeats an item that can match the empty string",
            node.span,
            rule=rule.name,
            hint='make the repeated item non-empty, e.g. ("a")* rather than ("a"?)*',
        )
    if _whitespace_only(node.item, ctx.whitespace) and _has_text(node.item, ctx.texts):
        bounded = render_expr(Repeat(node.item, node.min, max(node.min, 4)))
        yield Diagnostic.at(
            "W301",
            "warning",
            f"{render_expr(node)} allows unbounded whitespace: a model can emit whitespace forever",
            node.span,
            rule=rule.name,
            hint=f'bound it, e.g. {bounded}, or use a single optional space " "?',
        )


def _whitespace_only(expr: Expr, rules: set[str]) -> bool:
    """Whether every string ``expr`` matches is whitespace (or empty); ``rules`` are such."""

    def combine(node: Expr, kids: list[bool]) -> bool:
        if isinstance(node, Literal):
            return all(ch.isspace() for ch in node.value)
        if isinstance(node, CharClass):
            return is_whitespace_class(node)
        if isinstance(node, RuleRef):
            return node.name in rules
        if isinstance(node, MacroCall):
            return False
        return all(kids)

    return fold(expr, combine)


def _has_text(expr: Expr, rules: set[str]) -> bool:
    """Whether ``expr`` can match some non-empty string (productivity aside)."""

    def combine(node: Expr, kids: list[bool]) -> bool:
        if isinstance(node, Literal):
            return node.value != ""
        if isinstance(node, CharClass):
            return class_size(node) > 0
        if isinstance(node, RuleRef):
            return node.name in rules
        if isinstance(node, Repeat) and node.max == 0:
            return False
        if isinstance(node, MacroCall):
            return True
        return any(kids)

    return fold(expr, combine)


def _whitespace_rules(ast: GrammarAST) -> set[str]:
    """Rules that match only whitespace; a cycle adds nothing its other alternatives do not."""
    rules = ast.rule_map()
    found: set[str] = set()
    for component in rule_components(ast):
        candidates = {name for name in component if name in rules}
        while candidates:  # the greatest set consistent with itself
            assumed = found | candidates
            bad = {n for n in candidates if not _whitespace_only(rules[n].body, assumed)}
            if not bad:
                break
            candidates -= bad
        found |= candidates
    return found


def _alternatives(rule: Rule, node: Choice) -> Iterator[Diagnostic]:
    # Rendered text is the structural key (hashing a deep node would recurse), and
    # only alternatives that already share a cheap key are rendered.
    shallow = [(type(a), getattr(a, "value", getattr(a, "name", None))) for a in node.alternatives]
    clash = (
        {k for k in shallow if shallow.count(k) > 1} if len(set(shallow)) < len(shallow) else set()
    )
    seen: set[str] = set()
    for alt, cheap in zip(node.alternatives, shallow, strict=True):
        if cheap not in clash:
            continue
        key = render_expr(alt)
        if key in seen:
            yield Diagnostic.at(
                "W303",
                "warning",
                f"alternative {render_expr(alt)} appears more than once in this choice",
                alt.span,
                rule=rule.name,
                hint="remove the repeated alternative",
            )
        seen.add(key)
    literals = [alt for alt in node.alternatives if isinstance(alt, Literal) and alt.value]
    for short in literals:
        for long in literals:
            if len(long.value) > len(short.value) and long.value.startswith(short.value):
                yield Diagnostic.at(
                    "W302",
                    "warning",
                    f"alternative {render_string(short.value)} is a prefix of alternative "
                    f"{render_string(long.value)}: a model can stop after "
                    f"{render_string(short.value)}",
                    short.span,
                    rule=rule.name,
                    hint="make no alternative a prefix of another, e.g. end each with the "
                    "same delimiter",
                )


def _huge_repetitions(rule: Rule, top: Expr) -> Iterator[Diagnostic]:
    """W401 for one rule: XGrammar expands bounded repetitions into copies, per rule."""
    stack: list[tuple[Expr, int]] = [(top, 1)]
    while stack:
        expr, outer = stack.pop()
        if not isinstance(expr, Repeat):
            stack.extend((child, outer) for child in reversed(children(expr)))
            continue
        bound = expr.min if expr.max is None else expr.max
        copies = outer * max(bound, 1)
        if bound > MAX_BOUND:
            yield Diagnostic.at(
                "W401",
                "warning",
                f"repetition bound {bound} is above {MAX_BOUND}: the compiled grammar gets "
                "large and slow to build",
                expr.span,
                rule=rule.name,
                hint="use a smaller bound, or * / + with the length capped by max_tokens",
            )
        elif copies > MAX_NESTED_COPIES >= outer:
            yield Diagnostic.at(
                "W401",
                "warning",
                f"nested repetitions multiply to {copies} copies (above "
                f"{MAX_NESTED_COPIES}): the compiled grammar gets large and slow to build",
                expr.span,
                rule=rule.name,
                hint="use smaller bounds, or move the inner part into its own rule",
            )
        stack.append((expr.item, copies))


# --------------------------------------------------------------------------- W5xx


def _profile(ctx: _Context, profile: str) -> list[Diagnostic]:
    allowed = PROFILES[profile]
    found: list[Diagnostic] = []

    def warn(feature: str, what: str, span: Span | None, rule: Rule) -> None:
        if feature in allowed:
            return
        # the first XGrammar profile that has it (gbnf's text macros are only expansions)
        newer = next(
            name
            for name, features in PROFILES.items()
            if feature in features and name.startswith("xgrammar")
        )
        found.append(
            Diagnostic.at(
                "W501",
                "warning",
                f'{what} is not in profile "{profile}"',
                span,
                rule=rule.name,
                hint=f'{_FEATURE_HINTS[feature]}, or target profile "{newer}" if the server has it',
            )
        )

    for rule in ctx.ast.rules:
        for option in rule.options:
            warn("rule-options", f'rule option "{option.name}"', option.span, rule)
        if rule.lookahead is not None:
            warn("lookahead", "lookahead assertion (= ...)", rule.lookahead.span, rule)
    for rule, top in ctx.exprs():
        for node in walk(top):
            if isinstance(node, Repeat) and (node.min, node.max) not in _OPERATORS:
                warn("repetition-range", f"repetition range {_range(node)}", node.span, rule)
            elif isinstance(node, MacroCall):
                kind = "text-macros" if node.name in TEXT_MACROS else "macros"
                warn(kind, f"macro {node.name}(...)", node.span, rule)
    return found


#: ``?``, ``*`` and ``+``: repetitions every dialect has.
_OPERATORS = {(0, 1), (0, None), (1, None)}


def _range(node: Repeat) -> str:
    if node.max is None:
        return f"{{{node.min},}}"
    return f"{{{node.min}}}" if node.min == node.max else f"{{{node.min},{node.max}}}"
