"""Macros that are plain languages (``Regex``, ``Substring``) -> ordinary AST nodes.

After this pass the only macros left in a grammar are ``TagDispatch`` (handled by
the exact recognizer) and the token-level ones (which no text acceptor can
judge). Everything downstream then deals with one small set of node types.
"""

from __future__ import annotations

from dataclasses import replace

from wafer_grammar.ebnf.analysis import strongly_connected_components
from wafer_grammar.ebnf.regex import RegexError, regex_to_expr
from wafer_grammar.ebnf.syntax import (
    TOKEN_LEVEL_MACROS,
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    MacroCall,
    MacroName,
    MacroString,
    Repeat,
    Sequence,
    rebuild,
    references,
    walk,
)
from wafer_grammar.ebnf.validity import compiled_rules, regex_diagnostic
from wafer_grammar.errors import GrammarError, TextUnjudgeable


def substring_expr(chunks: list[str]) -> Expr:
    """Any contiguous run of whole chunks, including none: ``c_i c_i+1 ... c_j`` or ``""``.

    Written as ``"" | c1 (c2 (c3)?)? | c2 (c3)? | c3`` so its size is quadratic
    only in nesting depth, not in the number of runs spelled out.
    """
    alts: list[Expr] = [Literal("")]
    for start in range(len(chunks)):
        tail: Expr | None = None
        for chunk in reversed(chunks[start:]):
            # A chunk holding a surrogate (or a code point past U+10FFFF) is never text.
            lit: Expr = (
                CharClass(()) if any("\ud800" <= c <= "\udfff" for c in chunk) else Literal(chunk)
            )
            tail = lit if tail is None else Sequence((lit, Repeat(tail, 0, 1)))
        assert tail is not None
        alts.append(tail)
    return alts[0] if len(alts) == 1 else Choice(tuple(alts))


def _bool(value: object) -> bool:
    return isinstance(value, MacroName) and value.name == "true"


def _desugar_macro(expr: Expr, rule: str) -> Expr:
    if isinstance(expr, MacroCall) and expr.name == "Regex":
        pattern = expr.args[0]
        flags = expr.kwarg("flags")
        assert isinstance(pattern, MacroString)
        try:
            return regex_to_expr(
                pattern.value,
                flags=flags.value if isinstance(flags, MacroString) else None,
                json_string=_bool(expr.kwarg("json_string")),
            )
        except RegexError as exc:
            # Parsed grammars were checked already; a built AST is checked here.
            raise GrammarError([regex_diagnostic(rule, expr, exc)]) from exc
    if isinstance(expr, MacroCall) and expr.name == "Substring":
        chunks = [a.value for a in expr.args if isinstance(a, MacroString)]
        return substring_expr(chunks)
    return expr


def _zero(expr: Expr) -> bool:
    return isinstance(expr, Repeat) and expr.max == 0


def _desugar(expr: Expr, rule: str) -> Expr:
    # What {0} repeats is dropped, not compiled, as XGrammar does.
    return rebuild(
        expr, lambda leaf: Literal("") if _zero(leaf) else _desugar_macro(leaf, rule), _zero
    )


def desugar(ast: GrammarAST) -> GrammarAST:
    """The rules the root reaches, ``Regex``/``Substring`` calls replaced by plain expressions.

    Unreachable rules are dropped: XGrammar never compiles them, so a pattern
    there that it cannot compile must not make the grammar unusable.
    """
    live = compiled_rules(ast)
    rules = tuple(replace(r, body=_desugar(r.body, r.name)) for r in ast.rules if r.name in live)
    return GrammarAST(rules, ast.root)


def reachable(ast: GrammarAST) -> list[str]:
    """Rule names reachable from the root, in discovery order."""
    rules = ast.rule_map()
    seen: list[str] = []
    found: set[str] = set()
    stack = [ast.root]
    while stack:
        name = stack.pop()
        if name in found or name not in rules:
            continue
        found.add(name)
        seen.append(name)
        stack.extend(reversed(references(rules[name].body)))
    return seen


def regular_rules(ast: GrammarAST) -> set[str]:
    """Reachable rules whose language is one regular expression.

    No recursion through them, no macro in their body, and every rule they use
    regular too. Settled dependencies first (strongly connected components), so
    a 50,000-rule chain costs one pass.
    """
    rules = ast.rule_map()
    live = reachable(ast)
    graph = {name: list(dict.fromkeys(references(rules[name].body))) for name in live}
    regular: set[str] = set()
    for component in strongly_connected_components(graph):
        if len(component) > 1:
            continue
        name = component[0]
        body = rules[name].body
        if name in graph[name] or any(isinstance(n, MacroCall) for n in walk(body)):
            continue
        if all(ref in regular for ref in graph[name]):
            regular.add(name)
    return regular


def check_text_judgeable(ast: GrammarAST) -> None:
    """Raise :class:`TextUnjudgeable` if a reachable rule uses a token-level macro."""
    rules = ast.rule_map()
    for name in reachable(ast):
        for node in walk(rules[name].body):
            if isinstance(node, MacroCall) and node.name in TOKEN_LEVEL_MACROS:
                raise TextUnjudgeable(
                    f"rule {name!r} uses {node.name}(...), which matches model token IDs, "
                    "not text: this grammar's outputs cannot be judged on text alone; "
                    "check them with the engine (XGrammar) on token IDs instead"
                )
