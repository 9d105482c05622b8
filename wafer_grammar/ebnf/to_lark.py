"""Grammar AST -> lark grammar text, with regular parts folded into regex terminals.

- A *regular rule* (no recursion through it, every rule it references regular,
  no TagDispatch) becomes one named regex terminal. lark terminals cannot match
  the empty string, so a nullable regular rule becomes a terminal for its
  non-empty strings, written ``TERM?`` at each use.
- Inside the remaining (recursive) rules, every maximal sub-expression made
  only of literals and classes (``"[" [0-9]+``, a run of them in a sequence)
  also becomes one anonymous terminal; rule references stay visible.
- ``Regex`` and ``Substring`` were desugared into plain expressions first;
  lookahead assertions do not change XGrammar 0.2.8's language and are dropped.
- ``lazy``, ``max_chars`` and ``TagDispatch`` have no exact lark form. The text is
  still produced (those constraints left out, TagDispatch's free text as a
  lookahead regex) with a comment saying so, and ``exact`` is False: the
  acceptor then answers with its own recognizer, never with lark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wafer_grammar.ebnf.analysis import (
    is_nullable,
    nullable_rules,
    strongly_connected_components,
)
from wafer_grammar.ebnf.desugar import reachable, regular_rules
from wafer_grammar.ebnf.pyregex import NOTHING, escape_char, expr_pattern
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    MacroCall,
    MacroName,
    MacroString,
    MacroTuple,
    Repeat,
    RuleRef,
    Sequence,
    references,
    walk,
)

ANON = "TEXT"  # token type of anonymous text in parse trees


@dataclass(frozen=True)
class LarkGrammar:
    """A lark grammar for an EBNF grammar and how to read its trees back."""

    text: str
    start: str
    rule_names: dict[str, str]  # lark rule name -> EBNF rule name
    terminal_names: dict[str, str]  # lark terminal name -> EBNF rule name, or ANON
    regular_rules: frozenset[str]
    root_pattern: str | None  # the whole language as one regex, when root is regular
    exact: bool  # False: lazy / max_chars / TagDispatch are reachable
    inexact_reasons: tuple[str, ...] = field(default=())
    #: What each terminal matches (regular rules referenced by name): the acceptor
    #: trusts lark's backtracking ``re`` only when all of them are linear-time.
    terminal_exprs: tuple[Expr, ...] = field(default=())
    #: Each terminal by lark name: its regex and the expression it matches (regular
    #: rules referenced by name), for the exact LR matcher's scanners.
    terminal_defs: dict[str, tuple[str, Expr]] = field(default_factory=dict)


def _lark_name(name: str, taken: set[str], upper: bool) -> str:
    base = re.sub(r"[^a-z0-9_]", "_", name.lower()).lstrip("_") or "r"
    if base[0].isdigit():
        base = "r" + base
    if upper:
        base = base.upper()
    cand, n = base, 1
    while cand in taken or cand.lower() in ("start",):
        n += 1
        cand = f"{base}{'_' if not base.endswith('_') else ''}{n}"
    taken.add(cand)
    return cand


def _anonymous(expr: Expr) -> bool:
    return all(isinstance(n, (Literal, CharClass, Sequence, Choice, Repeat)) for n in walk(expr))


def nonempty(expr: Expr, null: set[str], inline: dict[str, Expr]) -> Expr | None:
    """An expression for ``L(expr)`` minus the empty string (None when that is empty).

    Referenced regular rules are inlined from ``inline`` (their bodies) when
    nullable, since the empty string must be removed inside them.
    """
    if not is_nullable(expr, null):
        return expr  # already never empty (nullable parts inside are fine in a regex)
    if isinstance(expr, Literal):
        return None
    if isinstance(expr, RuleRef):
        if expr.name not in null:
            return expr
        return nonempty(inline[expr.name], null, inline)
    if isinstance(expr, Choice):
        alts = [a for a in (nonempty(x, null, inline) for x in expr.alternatives) if a is not None]
        return None if not alts else alts[0] if len(alts) == 1 else Choice(tuple(alts))
    if isinstance(expr, Sequence):
        # ne(X1..Xn) = ne(X1) X2..Xn | [X1 nullable] ne(X2..Xn)
        head, rest = expr.items[0], expr.items[1:]
        tail: Expr = rest[0] if len(rest) == 1 else Sequence(rest)
        options: list[Expr] = []
        ne_head = nonempty(head, null, inline)
        if ne_head is not None:
            options.append(Sequence((ne_head, tail)))
        if is_nullable(head, null):
            ne_tail = nonempty(tail, null, inline)
            if ne_tail is not None:
                options.append(ne_tail)
        return None if not options else options[0] if len(options) == 1 else Choice(tuple(options))
    if isinstance(expr, Repeat):
        if expr.max == 0:
            return None
        ne_item = nonempty(expr.item, null, inline)
        if ne_item is None:
            return None
        if is_nullable(expr.item, null) or expr.min == 0:
            return Repeat(ne_item, 1, expr.max)
        return Repeat(ne_item if ne_item == expr.item else expr.item, expr.min, expr.max)
    return None


class _Builder:
    def __init__(self, ast: GrammarAST, merge_regular: bool) -> None:
        self.ast = ast
        self.merge_regular = merge_regular
        self.rules = ast.rule_map()
        self.live = reachable(ast)
        self.reasons: list[str] = []
        for name in self.live:
            rule = self.rules[name]
            for opt in ("lazy", "max_chars"):
                if rule.option(opt) is not None:
                    self.reasons.append(f"rule {name!r} has option {opt}")
            for node in walk(rule.body):
                if isinstance(node, MacroCall):
                    self.reasons.append(f"rule {name!r} uses {node.name}()")
        self.null = nullable_rules(ast)
        self.regular = regular_rules(ast)
        # Patterns of regular rules, dependencies first: each one then finds the
        # patterns it refers to ready, and a long chain of rules is a loop.
        self.patterns: dict[str, str] = {}
        graph = {
            n: [r for r in references(self.rules[n].body) if r in self.regular]
            for n in self.regular
        }
        for component in strongly_connected_components(graph):
            for name in component:
                self.pattern(name)
        self.taken: set[str] = set()
        self.rule_lark = {
            n: _lark_name(n, self.taken, False) for n in self.live if n not in self.regular
        }
        self.term_lark: dict[str, str] = {}
        self.terminal_names: dict[str, str] = {}
        self.anon_terms: dict[str, str] = {}  # pattern -> terminal name
        self.term_lines: list[str] = []
        self.term_exprs: list[Expr] = []
        self.term_defs: dict[str, tuple[str, Expr]] = {}

    def pattern(self, name: str) -> str:
        if name not in self.patterns:
            self.patterns[name] = expr_pattern(self.rules[name].body, self.pattern)
        return self.patterns[name]

    def rule_terminal(self, name: str) -> str:
        if name not in self.term_lark:
            term = _lark_name(name, self.taken, True)
            self.term_lark[name] = term
            self.terminal_names[term] = name
            ne = nonempty(
                self.rules[name].body, self.null, {n: self.rules[n].body for n in self.regular}
            )
            pat = NOTHING if ne is None else expr_pattern(ne, self.pattern)
            self.term_exprs.append(ne if ne is not None else CharClass(()))
            self.term_defs[term] = (pat, ne if ne is not None else CharClass(()))
            self.term_lines.append(f"{term}: /{pat}/")
        return self.term_lark[name]

    def emit(self, expr: Expr) -> str:
        if _anonymous(expr):
            return self.anon_terminal(expr)
        if isinstance(expr, RuleRef):
            if expr.name in self.regular:
                term = self.rule_terminal(expr.name)
                return f"{term}?" if expr.name in self.null else term
            return self.rule_lark[expr.name]
        if isinstance(expr, Sequence):
            parts: list[str] = []
            run: list[Expr] = []
            for item in (*expr.items, None):
                if item is not None and self.mergeable(item):
                    run.append(item)
                    continue
                if run:
                    parts.append(
                        self.anon_terminal(run[0] if len(run) == 1 else Sequence(tuple(run)))
                    )
                    run = []
                if item is not None:
                    parts.append(self.emit(item))
            return " ".join(p for p in parts if p)
        if isinstance(expr, Choice):
            return "(" + " | ".join(self.emit(a) for a in expr.alternatives) + ")"
        if isinstance(expr, Repeat):
            inner = self.emit(expr.item)
            if not inner or expr.max == 0:
                return ""
            bare = re.fullmatch(r"\w+", inner) or isinstance(expr.item, Choice)
            atom = inner if bare else f"({inner})"
            lo, hi = expr.min, expr.max
            if hi is None:
                return {0: f"{atom}*", 1: f"{atom}+"}.get(lo, f"{atom}~{lo} {atom}*")
            if lo == hi:
                return f"{atom}~{lo}" if lo > 1 else atom
            if lo == 0:
                return f"{atom}?" if hi == 1 else f"({atom}~1..{hi})?"
            return f"{atom}~{lo}..{hi}"
        assert isinstance(expr, MacroCall)
        return self.emit_dispatch(expr)

    def mergeable(self, expr: Expr) -> bool:
        if _anonymous(expr):
            return True
        # The fast variant also folds regular rule references into the run, so
        # `ws "," ws` is one token: fewer tokens through the LALR loop. Their names
        # are lost from trees, which is why parse() uses the faithful variant.
        return self.merge_regular and all(
            not isinstance(n, MacroCall) and (not isinstance(n, RuleRef) or n.name in self.regular)
            for n in walk(expr)
        )

    def anon_terminal(self, expr: Expr) -> str:
        inline = {n: self.rules[n].body for n in self.regular}
        ne = nonempty(expr, self.null, inline)
        if ne is None:
            return ""
        pat = expr_pattern(ne, self.pattern)
        self.term_exprs.append(ne)
        if pat not in self.anon_terms:
            term = _lark_name(f"t{len(self.anon_terms)}", self.taken, True)
            self.anon_terms[pat] = term
            self.terminal_names[term] = ANON
            self.term_defs[term] = (pat, ne)
            self.term_lines.append(f"{term}: /{pat}/")
        term = self.anon_terms[pat]
        return f"{term}?" if is_nullable(expr, self.null) else term

    def emit_dispatch(self, call: MacroCall) -> str:
        """Approximate TagDispatch (free text via negative lookahead; never used to judge)."""
        pairs = [a.items for a in call.args if isinstance(a, MacroTuple)]
        excl = call.kwarg("excludes")
        words = [p[0].value for p in pairs if isinstance(p[0], MacroString)]
        if isinstance(excl, MacroTuple):
            words += [v.value for v in excl.items if isinstance(v, MacroString)]
        stop = "|".join("".join(escape_char(c) for c in w) for w in words) or NOTHING
        free_pat = f"(?:(?!{stop})[\\x00-\\U0010FFFF])+"
        free = self.anon_terms.setdefault(free_pat, _lark_name("free", self.taken, True))
        if free not in self.terminal_names:
            self.terminal_names[free] = ANON
            self.term_lines.append(f"{free}: /{free_pat}/")
        arms = []
        for tag, target in (p for p in pairs if len(p) == 2):
            if isinstance(tag, MacroString) and isinstance(target, MacroName):
                arms.append(
                    f"{self.anon_terminal(Literal(tag.value))} {self.emit(RuleRef(target.name))}"
                )
        loop = call.kwarg("loop_after_dispatch")
        once = not (isinstance(loop, MacroName) and loop.name == "false")
        body = f"{free}? (({' | '.join(arms)}) {free}?)" + ("*" if once else "?")
        return f"({body})" if arms else f"{free}?"

    def build(self) -> LarkGrammar:
        root = self.ast.root
        lines: list[str] = []
        if self.reasons:
            lines.append("// approximate, not used for acceptance: " + "; ".join(self.reasons))
        if root in self.regular:
            start = _lark_name(root, self.taken, False)
            self.rule_lark[root] = start
            term = self.rule_terminal(root)
            lines.append(f"{start}: {term}" + (" |" if root in self.null else ""))
        else:
            start = self.rule_lark[root]
            for name in self.live:
                if name in self.regular:
                    continue
                body = self.rules[name].body
                alts = body.alternatives if isinstance(body, Choice) else (body,)
                lines.append(
                    f"{self.rule_lark[name]}: " + "\n    | ".join(self.emit(a) for a in alts)
                )
        lines.append("")
        lines.extend(self.term_lines)
        return LarkGrammar(
            text="\n".join(lines) + "\n",
            start=start,
            rule_names={v: k for k, v in self.rule_lark.items()},
            terminal_names=self.terminal_names,
            regular_rules=frozenset(self.regular),
            root_pattern=self.pattern(root) if root in self.regular else None,
            exact=not self.reasons,
            inexact_reasons=tuple(self.reasons),
            terminal_exprs=tuple(self.term_exprs),
            terminal_defs=self.term_defs,
        )


def to_lark(ast: GrammarAST, *, merge_regular: bool = False) -> LarkGrammar:
    """Translate a desugared grammar (see :func:`wafer_grammar.ebnf.desugar.desugar`).

    ``merge_regular=True`` gives the faster acceptance-only variant, where runs
    of regular rule references fold into anonymous terminals too.
    """
    return _Builder(ast, merge_regular).build()
