"""Language facts about a grammar: nullable, productive, reachable, recursive, finite.

Every function here is pure over a :class:`GrammarAST` and never raises on a
grammar that XGrammar would refuse: a reference to an undefined rule matches
nothing, an unknown macro matches nothing.

What the answers mean where the dialect goes beyond plain EBNF:

- ``Regex(p)`` is nullable when Python's ``re`` finds ``p`` matches ``""``
  (XGrammar's regex syntax is close to Python's; a pattern Python cannot read
  counts as not nullable); ``Substring`` and ``TagDispatch`` are nullable;
  token-level macros (``Token`` ...) are not: they always consume a token.
- ``max_chars=N`` limits a rule to strings of at most N code points, ``lazy``
  keeps only the shortest completions, a lookahead consumes nothing but must be
  satisfiable. :func:`length_range` treats them as bounds;
  :func:`~wafer_grammar.ebnf.finite.finite_language`
  gives up (returns ``None``) on lookahead, ``lazy``, ``Regex``, ``TagDispatch``
  and token-level macros rather than risk a wrong answer.
"""

from __future__ import annotations

import math
from collections import abc
from collections.abc import Callable, Iterable, Mapping

from wafer_grammar.ebnf.charclass import class_size
from wafer_grammar.ebnf.syntax import (
    TOKEN_LEVEL_MACROS,
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    MacroCall,
    MacroString,
    Repeat,
    Rule,
    RuleRef,
    Sequence,
    fold,
    macro_rule_refs,
    references,
)

# --------------------------------------------------------------------------- macros


def regex_nullable(pattern: str) -> bool | None:
    """Whether XGrammar regex ``pattern`` matches ``""``; ``None`` when it cannot be read."""
    from wafer_grammar.ebnf.regex import RegexError, regex_to_expr

    try:
        expr = regex_to_expr(pattern)
    except RegexError:
        return None
    return is_nullable(expr, set())


def _macro_strings(call: MacroCall) -> list[str] | None:
    values = [arg.value for arg in call.args if isinstance(arg, MacroString)]
    return values if len(values) == len(call.args) else None


def _regex_pattern(call: MacroCall) -> str | None:
    if call.args and isinstance(call.args[0], MacroString):
        return call.args[0].value
    return None


def _macro_nullable(call: MacroCall) -> bool:
    if call.name == "Regex":
        pattern = _regex_pattern(call)
        return pattern is not None and regex_nullable(pattern) is True
    return call.name in ("Substring", "TagDispatch")


# --------------------------------------------------------------------------- graph


def rule_references(ast: GrammarAST) -> Mapping[str, abc.Sequence[str]]:
    """Each rule's referenced names (body, lookahead and macro targets), first use first.

    Computed once per grammar and kept on the (immutable) AST: every analysis
    shares it, so it is read only.
    """
    found: dict[str, list[str]] | None = ast.derived.get("rule_references")
    if found is None:
        found = ast.derived["rule_references"] = {}
        for rule in ast.rules:
            names = references(rule.body)
            if rule.lookahead is not None:
                names += references(rule.lookahead)
            found.setdefault(rule.name, [])
            found[rule.name] += [n for n in dict.fromkeys(names) if n not in found[rule.name]]
    return found


def rule_components(ast: GrammarAST) -> abc.Sequence[abc.Sequence[str]]:
    """:func:`strongly_connected_components` of :func:`rule_references`, kept the same way."""
    found: list[list[str]] | None = ast.derived.get("rule_components")
    if found is None:
        found = ast.derived["rule_components"] = strongly_connected_components(rule_references(ast))
    return found


def reachable_rules(ast: GrammarAST, start: str | None = None) -> set[str]:
    """Defined rules reachable from ``start`` (default: the root), ``start`` included."""
    graph = rule_references(ast)
    first = ast.root if start is None else start
    if first not in graph:
        return set()
    seen = {first}
    stack = [first]
    while stack:
        for name in graph[stack.pop()]:
            if name in graph and name not in seen:
                seen.add(name)
                stack.append(name)
    return seen


def strongly_connected_components(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's SCCs of ``graph`` (edges to unknown nodes ignored).

    Components come dependencies first (a component only points at earlier ones);
    names inside a component are in ``graph``'s order. Iterative: deep grammars
    must not hit Python's recursion limit.
    """
    order = {name: i for i, name in enumerate(graph)}
    known = {name: [e for e in edges if e in graph] for name, edges in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            edges = known[node]
            if i < len(edges):
                work.append((node, i + 1))
                nxt = edges[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                comp: list[str] = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                out.append(sorted(comp, key=order.__getitem__))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def recursive_rules(ast: GrammarAST) -> set[str]:
    """Rules that can refer back to themselves, directly or through others."""
    graph = rule_references(ast)
    out: set[str] = set()
    for comp in rule_components(ast):
        if len(comp) > 1 or comp[0] in graph[comp[0]]:
            out.update(comp)
    return out


# --------------------------------------------------------------------------- nullable


def is_nullable(expr: Expr, nullable: set[str]) -> bool:
    """Whether ``expr`` matches ``""``, given the set of nullable rule names."""

    def combine(node: Expr, kids: list[bool]) -> bool:
        if isinstance(node, Literal):
            return node.value == ""
        if isinstance(node, CharClass):
            return False
        if isinstance(node, RuleRef):
            return node.name in nullable
        if isinstance(node, Sequence):
            return all(kids)
        if isinstance(node, Choice):
            return any(kids)
        if isinstance(node, Repeat):
            return node.min == 0 or node.max == 0 or kids[0]
        return _macro_nullable(node)

    return fold(expr, combine)


def least_rules(ast: GrammarAST, holds: Callable[[Rule, set[str]], bool]) -> set[str]:
    """The least set of rules where ``holds(rule, set so far)``, in dependency order.

    Components of the reference graph are settled dependencies first, so a
    50,000-rule chain takes one pass instead of one pass per link.
    """
    rules = ast.rule_map()
    found: set[str] = set()
    graph = rule_references(ast)
    for component in rule_components(ast):
        members = [ast_rule for name in component if (ast_rule := rules.get(name)) is not None]
        changed = True
        while changed:
            changed = False
            for rule in members:
                if rule.name not in found and holds(rule, found):
                    found.add(rule.name)
                    changed = len(members) > 1 or rule.name in graph[rule.name]
    if len(rules) < len(ast.rules):
        # A name defined twice: the later definition can add what the first lacks.
        for rule in ast.rules:
            if rule.name not in found and holds(rule, found):
                found.add(rule.name)
    return found


def nullable_rules(ast: GrammarAST) -> set[str]:
    """Rules that match the empty string (a lookahead is not consulted)."""
    return least_rules(ast, lambda rule, found: is_nullable(rule.body, found))


# --------------------------------------------------------------------------- lengths


def _min_of(node: Expr, kids: list[int | None], mins: dict[str, int | None]) -> int | None:
    if isinstance(node, Literal):
        return len(node.value)
    if isinstance(node, CharClass):
        return 1 if class_size(node) else None
    if isinstance(node, RuleRef):
        return mins.get(node.name)
    if isinstance(node, Sequence):
        return None if any(n is None for n in kids) else sum(n for n in kids if n is not None)
    if isinstance(node, Choice):
        return min((n for n in kids if n is not None), default=None)
    if isinstance(node, Repeat):
        if node.max == 0:
            return 0
        if kids[0] is None:
            return 0 if node.min == 0 else None
        return kids[0] * node.min
    if node.name in TOKEN_LEVEL_MACROS:
        return 1
    if node.name in ("Regex", "Substring", "TagDispatch"):
        return 0 if node.name != "Regex" or _macro_nullable(node) else 1
    return None


def expr_min_length(expr: Expr, mins: dict[str, int | None]) -> int | None:
    """The length of ``expr``'s shortest string, ``None`` if it matches nothing.

    ``mins`` gives each rule's shortest length (see :func:`min_lengths`). For
    ``Regex`` this is a lower bound (0 or 1).
    """
    return fold(expr, lambda node, kids: _min_of(node, kids, mins))


def node_min_lengths(expr: Expr, mins: dict[str, int | None]) -> dict[int, int | None]:
    """:func:`expr_min_length` of every node under ``expr``, by ``id``, in one pass."""
    out: dict[int, int | None] = {}

    def combine(node: Expr, kids: list[int | None]) -> int | None:
        out[id(node)] = value = _min_of(node, kids, mins)
        return value

    fold(expr, combine)
    return out


def _rule_min(rule: Rule, mins: dict[str, int | None]) -> int | None:
    n = expr_min_length(rule.body, mins)
    if n is None:
        return None
    if rule.lookahead is not None and expr_min_length(rule.lookahead, mins) is None:
        return None
    limit = _max_chars(rule)
    if limit is not None and n > limit:
        return None
    return n


def _max_chars(rule: Rule) -> int | None:
    opt = rule.option("max_chars")
    if opt is not None and isinstance(opt.value, int) and not isinstance(opt.value, bool):
        return opt.value
    return None


def min_lengths(ast: GrammarAST) -> dict[str, int | None]:
    """Each rule's shortest string length; ``None`` for a rule that derives no string."""
    mins: dict[str, int | None] = {rule.name: None for rule in ast.rules}
    rules = ast.rule_map()
    # Components come dependencies first, so each is settled before any rule that
    # uses it; inside a (recursive) component, Bellman-Ford style rounds: a
    # shortest derivation never nests a rule in itself, values only go down.
    for component in rule_components(ast):
        members = [rules[name] for name in component if name in rules]
        if not members:
            continue
        recursive = len(members) > 1 or members[0].name in references(members[0].body)
        changed = True
        while changed:
            changed = False
            for rule in members:
                n = _rule_min(rule, mins)
                old = mins[rule.name]
                if n is not None and (old is None or n < old):
                    mins[rule.name] = n
                    changed = recursive
    return mins


def productive_rules(ast: GrammarAST) -> set[str]:
    """Rules that derive at least one finite string."""
    return {name for name, n in min_lengths(ast).items() if n is not None}


def _node_nonempty(
    expr: Expr, node_mins: dict[int, int | None], nonempty: set[str]
) -> dict[int, bool]:
    """Whether each node derives some non-empty string (macros: yes unless known empty)."""
    out: dict[int, bool] = {}

    def combine(node: Expr, kids: list[bool]) -> bool:
        if isinstance(node, Literal):
            value = node.value != ""
        elif isinstance(node, CharClass):
            value = class_size(node) > 0
        elif isinstance(node, RuleRef):
            value = node.name in nonempty
        elif isinstance(node, Sequence):
            value = all(node_mins[id(i)] is not None for i in node.items) and any(kids)
        elif isinstance(node, Choice):
            value = any(kids)
        elif isinstance(node, Repeat):
            value = node.max != 0 and kids[0]
        elif node.name == "Substring":
            value = any(_macro_strings(node) or [])
        else:
            value = node_mins[id(node)] is not None
        out[id(node)] = value
        return value

    fold(expr, combine)
    return out


def _nonempty(expr: Expr, mins: dict[str, int | None], nonempty: set[str]) -> bool:
    """Whether ``expr`` derives some non-empty string (macros: yes unless known empty)."""
    return _node_nonempty(expr, node_min_lengths(expr, mins), nonempty)[id(expr)]


def _nonempty_rules(ast: GrammarAST, mins: dict[str, int | None]) -> set[str]:
    return least_rules(
        ast,
        lambda rule, found: (
            mins[rule.name] is not None
            and _max_chars(rule) != 0
            and _nonempty(rule.body, mins, found)
        ),
    )


def _length_graph(
    ast: GrammarAST, mins: dict[str, int | None], nonempty: set[str]
) -> dict[str, list[tuple[str, bool]]]:
    """Edges ``rule -> (used rule, pumps)`` for uses that can take part in a derivation.

    A use *pumps* when the text around it in the same derivation can be non-empty
    (a non-empty sibling in a sequence, another copy under ``*`` or ``{2,}``): a
    cycle through a pumping use makes the language infinite, unless the cycle
    passes through a rule with ``max_chars``, which is bounded whatever its body.
    """
    rules = ast.rule_map()
    graph: dict[str, list[tuple[str, bool]]] = {}
    for rule in ast.rules:
        edges: list[tuple[str, bool]] = []
        if mins[rule.name] is not None:
            node_mins = node_min_lengths(rule.body, mins)
            filled = _node_nonempty(rule.body, node_mins, nonempty)
            stack: list[tuple[Expr, bool]] = [(rule.body, False)]
            while stack:
                expr, pump = stack.pop()
                if isinstance(expr, RuleRef):
                    if expr.name in rules and mins[expr.name] is not None:
                        edges.append((expr.name, pump))
                elif isinstance(expr, Sequence):
                    if any(node_mins[id(item)] is None for item in expr.items):
                        continue
                    flags = [filled[id(item)] for item in expr.items]
                    count = sum(flags)
                    for item, flag in zip(expr.items, flags, strict=True):
                        stack.append((item, pump or count - flag > 0))
                elif isinstance(expr, Choice):
                    stack.extend((alt, pump) for alt in expr.alternatives)
                elif isinstance(expr, Repeat):
                    if expr.max != 0 and node_mins[id(expr.item)] is not None:
                        many = expr.max is None or expr.max >= 2
                        stack.append((expr.item, pump or (many and filled[id(expr.item)])))
                elif isinstance(expr, MacroCall):
                    # TagDispatch targets sit between stretches of free text.
                    for name in macro_rule_refs(expr):
                        if name.name in rules and mins[name.name] is not None:
                            edges.append((name.name, True))
        graph.setdefault(rule.name, []).extend(edges)
    return graph


def _expr_max(expr: Expr, mins: dict[str, int | None], maxes: dict[str, float]) -> float:
    """Upper bound of ``expr``'s string lengths (``inf``: unbounded); ``-inf``: no string."""
    node_mins = node_min_lengths(expr, mins)

    def combine(node: Expr, kids: list[float]) -> float:
        if node_mins[id(node)] is None:
            return -math.inf
        if isinstance(node, Literal):
            return len(node.value)
        if isinstance(node, CharClass):
            return 1
        if isinstance(node, RuleRef):
            return maxes.get(node.name, 0)
        if isinstance(node, Sequence):
            return sum(kids)
        if isinstance(node, Choice):
            return max(kids)
        if isinstance(node, Repeat):
            if node.max == 0 or kids[0] <= 0:
                return 0
            return math.inf if node.max is None else kids[0] * node.max
        if node.name == "Substring":
            return sum(len(s) for s in _macro_strings(node) or [])
        return math.inf

    return fold(expr, combine)


def _max_lengths(ast: GrammarAST) -> dict[str, float]:
    """Each productive rule's longest string length as an upper bound (``inf``: unbounded)."""
    mins = min_lengths(ast)
    nonempty = _nonempty_rules(ast, mins)
    graph = _length_graph(ast, mins, nonempty)
    rules = ast.rule_map()
    maxes: dict[str, float] = {}
    full = {name: [target for target, _ in edges] for name, edges in graph.items()}
    for comp in strongly_connected_components(full):
        members = set(comp)
        live = [name for name in comp if mins[name] is not None]
        # A pumping cycle makes its rules infinite unless a max_chars rule is on it:
        # look for cycles with the edges into max_chars rules cut.
        inner = {
            name: [t for t in full[name] if t in members and _max_chars(rules[t]) is None]
            for name in comp
        }
        pumped: set[str] = set()
        for sub in strongly_connected_components(inner):
            if any(pump and t in inner[n] and t in sub for n in sub for t, pump in graph[n]):
                pumped.update(sub)
        for name in live:
            maxes[name] = math.inf if name in pumped else 0
        # What is left adds text only through max_chars caps, so the values settle;
        # the round cap keeps a huge cap from costing that many rounds.
        caps = sum(_max_chars(rules[name]) or 0 for name in comp)
        for _ in range(len(comp) + 2 + min(caps, 1000)):
            changed = False
            for name in live:
                value = _expr_max(rules[name].body, mins, maxes)
                limit = _max_chars(rules[name])
                value = value if limit is None else min(value, limit)
                if value > maxes[name]:
                    maxes[name] = value
                    changed = True
            if not changed:
                break
        else:
            for name in live:
                limit = _max_chars(rules[name])
                maxes[name] = math.inf if limit is None else limit
    return maxes


def length_range(ast: GrammarAST, rule: str | None = None) -> tuple[int, int | None] | None:
    """``(shortest, longest)`` string length of ``rule`` (default: the root).

    ``longest`` is ``None`` when the language is infinite or the length is not
    known (``Regex``, ``TagDispatch``, token-level macros); with ``lazy`` it is an
    upper bound. Returns ``None`` when the rule derives no string or is undefined.
    """
    name = ast.root if rule is None else rule
    shortest = min_lengths(ast).get(name)
    if shortest is None:
        return None
    longest = _max_lengths(ast).get(name, math.inf)
    return shortest, None if math.isinf(longest) else int(longest)
