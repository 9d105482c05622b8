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
  satisfiable. :func:`length_range` treats them as bounds; :func:`finite_language`
  gives up (returns ``None``) on lookahead, ``lazy``, ``Regex``, ``TagDispatch``
  and token-level macros rather than risk a wrong answer.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable

from wafer_grammar.ebnf.charclass import class_members, class_size
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
    macro_rule_refs,
    references,
)

#: ``finite_language`` stops after this many string concatenations and answers
#: ``None``: a finite but pathological grammar must not hang a lint run.
_WORK_BUDGET = 2_000_000


# --------------------------------------------------------------------------- macros


def regex_nullable(pattern: str) -> bool | None:
    """Whether ``pattern`` matches ``""``; ``None`` when Python's ``re`` cannot read it."""
    try:
        with warnings.catch_warnings():
            # A FutureWarning about nested sets must not become an error under pytest.
            warnings.simplefilter("ignore")
            return re.fullmatch(pattern, "") is not None
    except (re.error, RecursionError, OverflowError):
        return None


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


def rule_references(ast: GrammarAST) -> dict[str, list[str]]:
    """Each rule's referenced names (body, lookahead and macro targets), first use first."""
    out: dict[str, list[str]] = {}
    for rule in ast.rules:
        names = references(rule.body)
        if rule.lookahead is not None:
            names += references(rule.lookahead)
        out.setdefault(rule.name, [])
        out[rule.name] += [n for n in dict.fromkeys(names) if n not in out[rule.name]]
    return out


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


def strongly_connected_components(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's SCCs of ``graph`` (edges to unknown nodes ignored).

    Components come dependencies first (a component only points at earlier ones);
    names inside a component are in ``graph``'s order. Iterative: deep grammars
    must not hit Python's recursion limit.
    """
    order = {name: i for i, name in enumerate(graph)}
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
            edges = [e for e in graph[node] if e in graph]
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
    for comp in strongly_connected_components(graph):
        if len(comp) > 1 or comp[0] in graph[comp[0]]:
            out.update(comp)
    return out


# --------------------------------------------------------------------------- nullable


def is_nullable(expr: Expr, nullable: set[str]) -> bool:
    """Whether ``expr`` matches ``""``, given the set of nullable rule names."""
    if isinstance(expr, Literal):
        return expr.value == ""
    if isinstance(expr, CharClass):
        return False
    if isinstance(expr, RuleRef):
        return expr.name in nullable
    if isinstance(expr, Sequence):
        return all(is_nullable(item, nullable) for item in expr.items)
    if isinstance(expr, Choice):
        return any(is_nullable(alt, nullable) for alt in expr.alternatives)
    if isinstance(expr, Repeat):
        return expr.min == 0 or expr.max == 0 or is_nullable(expr.item, nullable)
    return _macro_nullable(expr)


def nullable_rules(ast: GrammarAST) -> set[str]:
    """Rules that match the empty string (a lookahead is not consulted)."""
    nullable: set[str] = set()
    changed = True
    while changed:
        changed = False
        for rule in ast.rules:
            if rule.name not in nullable and is_nullable(rule.body, nullable):
                nullable.add(rule.name)
                changed = True
    return nullable


# --------------------------------------------------------------------------- lengths


def expr_min_length(expr: Expr, mins: dict[str, int | None]) -> int | None:
    """The length of ``expr``'s shortest string, ``None`` if it matches nothing.

    ``mins`` gives each rule's shortest length (see :func:`min_lengths`). For
    ``Regex`` this is a lower bound (0 or 1).
    """
    if isinstance(expr, Literal):
        return len(expr.value)
    if isinstance(expr, CharClass):
        return 1 if class_size(expr) else None
    if isinstance(expr, RuleRef):
        return mins.get(expr.name)
    if isinstance(expr, Sequence):
        total = 0
        for item in expr.items:
            n = expr_min_length(item, mins)
            if n is None:
                return None
            total += n
        return total
    if isinstance(expr, Choice):
        found = [expr_min_length(alt, mins) for alt in expr.alternatives]
        return min((n for n in found if n is not None), default=None)
    if isinstance(expr, Repeat):
        if expr.max == 0:
            return 0
        n = expr_min_length(expr.item, mins)
        if n is None:
            return 0 if expr.min == 0 else None
        return n * expr.min
    if expr.name in TOKEN_LEVEL_MACROS:
        return 1
    if expr.name in ("Regex", "Substring", "TagDispatch"):
        return 0 if expr.name != "Regex" or _macro_nullable(expr) else 1
    return None


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
    for component in strongly_connected_components(rule_references(ast)):
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


def _nonempty(expr: Expr, mins: dict[str, int | None], nonempty: set[str]) -> bool:
    """Whether ``expr`` derives some non-empty string (macros: yes unless known empty)."""
    if isinstance(expr, Literal):
        return expr.value != ""
    if isinstance(expr, CharClass):
        return class_size(expr) > 0
    if isinstance(expr, RuleRef):
        return expr.name in nonempty
    if isinstance(expr, Sequence):
        return all(expr_min_length(i, mins) is not None for i in expr.items) and any(
            _nonempty(i, mins, nonempty) for i in expr.items
        )
    if isinstance(expr, Choice):
        return any(_nonempty(alt, mins, nonempty) for alt in expr.alternatives)
    if isinstance(expr, Repeat):
        return expr.max != 0 and _nonempty(expr.item, mins, nonempty)
    if expr.name == "Substring":
        return any(_macro_strings(expr) or [])
    return expr_min_length(expr, mins) is not None


def _nonempty_rules(ast: GrammarAST, mins: dict[str, int | None]) -> set[str]:
    out: set[str] = set()
    changed = True
    while changed:
        changed = False
        for rule in ast.rules:
            if rule.name in out or mins[rule.name] is None or _max_chars(rule) == 0:
                continue
            if _nonempty(rule.body, mins, out):
                out.add(rule.name)
                changed = True
    return out


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

    def visit(expr: Expr, pump: bool, out: list[tuple[str, bool]]) -> None:
        if isinstance(expr, RuleRef):
            if expr.name in rules and mins[expr.name] is not None:
                out.append((expr.name, pump))
        elif isinstance(expr, Sequence):
            if any(expr_min_length(item, mins) is None for item in expr.items):
                return
            flags = [_nonempty(item, mins, nonempty) for item in expr.items]
            for i, item in enumerate(expr.items):
                visit(item, pump or any(flags[:i] + flags[i + 1 :]), out)
        elif isinstance(expr, Choice):
            for alt in expr.alternatives:
                visit(alt, pump, out)
        elif isinstance(expr, Repeat):
            if expr.max != 0 and expr_min_length(expr.item, mins) is not None:
                many = expr.max is None or expr.max >= 2
                visit(expr.item, pump or (many and _nonempty(expr.item, mins, nonempty)), out)
        elif isinstance(expr, MacroCall):
            # TagDispatch targets sit between stretches of free text.
            for name in macro_rule_refs(expr):
                if name.name in rules and mins[name.name] is not None:
                    out.append((name.name, True))

    for rule in ast.rules:
        edges: list[tuple[str, bool]] = []
        if mins[rule.name] is not None:
            visit(rule.body, False, edges)
        graph.setdefault(rule.name, []).extend(edges)
    return graph


def _expr_max(expr: Expr, mins: dict[str, int | None], maxes: dict[str, float]) -> float:
    """Upper bound of ``expr``'s string lengths (``inf``: unbounded); ``-inf``: no string."""
    if expr_min_length(expr, mins) is None:
        return -math.inf
    if isinstance(expr, Literal):
        return len(expr.value)
    if isinstance(expr, CharClass):
        return 1
    if isinstance(expr, RuleRef):
        return maxes.get(expr.name, 0)
    if isinstance(expr, Sequence):
        return sum(_expr_max(item, mins, maxes) for item in expr.items)
    if isinstance(expr, Choice):
        return max(_expr_max(alt, mins, maxes) for alt in expr.alternatives)
    if isinstance(expr, Repeat):
        item = _expr_max(expr.item, mins, maxes)
        if expr.max == 0 or item <= 0:
            return 0
        return math.inf if expr.max is None else item * expr.max
    if expr.name == "Substring":
        return sum(len(s) for s in _macro_strings(expr) or [])
    return math.inf


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


# --------------------------------------------------------------------------- finite language


class _GiveUp(Exception):
    """The language is too large, unknown or too costly to list exactly."""


class _Enumerator:
    def __init__(self, ast: GrammarAST, limit: int) -> None:
        self.rules = ast.rule_map()
        self.limit = limit
        self.work = 0
        self.langs: dict[str, frozenset[str]] = {}

    def check(self, strings: set[str]) -> frozenset[str]:
        if len(strings) > self.limit:
            raise _GiveUp
        return frozenset(strings)

    def product(self, left: Iterable[str], right: frozenset[str]) -> frozenset[str]:
        out: set[str] = set()
        for a in left:
            self.work += len(right)
            if self.work > _WORK_BUDGET:
                raise _GiveUp
            out.update(a + b for b in right)
            if len(out) > self.limit:
                raise _GiveUp
        return frozenset(out)

    def power(self, base: frozenset[str], k: int) -> frozenset[str]:
        # Squaring keeps "a"{100000} from taking 100000 products.
        result: frozenset[str] = frozenset({""})
        while k:
            if k & 1:
                result = self.product(result, base)
            k >>= 1
            if k:
                base = self.product(base, base)
        return result

    def lang(self, expr: Expr) -> frozenset[str]:
        if isinstance(expr, Literal):
            return frozenset({expr.value})
        if isinstance(expr, CharClass):
            members = class_members(expr, self.limit)
            if members is None:
                raise _GiveUp
            return frozenset(members)
        if isinstance(expr, RuleRef):
            return self.langs.get(expr.name, frozenset())
        if isinstance(expr, Sequence):
            acc: frozenset[str] = frozenset({""})
            for item in expr.items:
                acc = self.product(acc, self.lang(item))
            return acc
        if isinstance(expr, Choice):
            union: set[str] = set()
            for alt in expr.alternatives:
                union |= self.lang(alt)
            return self.check(union)
        if isinstance(expr, Repeat):
            return self.repeat(expr)
        if expr.name == "Substring":
            chunks = _macro_strings(expr)
            if chunks is None:
                raise _GiveUp
            runs = {
                "".join(chunks[i:j])
                for i in range(len(chunks))
                for j in range(i + 1, len(chunks) + 1)
            }
            return self.check(runs | {""})
        raise _GiveUp

    def repeat(self, expr: Repeat) -> frozenset[str]:
        if expr.max == 0:
            return frozenset({""})
        base = self.lang(expr.item)
        if not base:
            return frozenset({""}) if expr.min == 0 else frozenset()
        if base == {""}:
            return base
        if expr.max is None:
            raise _GiveUp
        current = self.power(base, expr.min)
        out = set(current)
        for _ in range(expr.min, expr.max):
            current = self.product(current, base)
            out |= current
            if len(out) > self.limit:
                raise _GiveUp
        return frozenset(out)

    def rule_lang(self, rule: Rule) -> frozenset[str]:
        strings = self.lang(rule.body)
        limit = _max_chars(rule)
        if limit is not None:
            strings = frozenset(s for s in strings if len(s) <= limit)
        return strings


def finite_language(
    ast: GrammarAST, limit: int = 10000, *, rule: str | None = None
) -> list[str] | None:
    """Every string of ``rule``'s language (default: the root), sorted.

    Returns ``None`` when the language is infinite, has more than ``limit``
    strings, or cannot be listed exactly here (lookahead, ``lazy``, ``Regex``,
    ``TagDispatch``, token-level macros, undefined rules). An empty list means
    the rule matches nothing.
    """
    name = ast.root if rule is None else rule
    rules = ast.rule_map()
    if name not in rules:
        return None
    mins = min_lengths(ast)
    if mins[name] is None:
        return []
    if _max_lengths(ast).get(name, math.inf) == math.inf:
        return None
    used = reachable_rules(ast, name)
    for used_name in used:
        target = rules[used_name]
        if target.lookahead is not None or target.option("lazy") is not None:
            return None
        if any(ref not in rules for ref in references(target.body)):
            return None
    graph = {n: refs for n, refs in rule_references(ast).items() if n in used}
    enum = _Enumerator(ast, limit)
    try:
        for comp in strongly_connected_components(graph):
            # Cyclic but finite components (``a ::= a | "x"``) settle after a
            # few rounds: each round only adds strings and the total is bounded.
            for _ in range(limit + 2):
                before = {n: enum.langs.get(n) for n in comp}
                for member in comp:
                    enum.langs[member] = enum.rule_lang(rules[member])
                if all(enum.langs[n] == before[n] for n in comp):
                    break
            else:
                return None
    except _GiveUp:
        return None
    return sorted(enum.langs[name])
