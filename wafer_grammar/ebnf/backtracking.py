"""Which regular expressions Python's backtracking ``re`` runs in linear time.

lark's lexer matches terminals with ``re``. A pattern where the next character
always decides the next step (a *deterministic*, or one-unambiguous,
expression in the sense of Brüggemann-Klein and Wood) never makes ``re`` try
two ways to read the same text, so a match costs time linear in its length.
``("a" | "aa")*`` is not deterministic (an ``a`` may start either branch) and
is exactly the shape that backtracks exponentially. The acceptor sends a
grammar through lark only when every terminal passes :func:`linear_time`;
otherwise the exact recognizer judges it.

The test is Glushkov's: number every character position of the expression,
compute which positions may follow which, and require that positions competing
for the same next character never overlap. Determinism alone does not stop a
backtracking engine from trying two *bracketings* of the same positions
(``(a+)+``, ``(a?)*``, ``(a{2,3})*``), so on top of it no repetition may hold
another open-ended one, and no repeated item may match the empty string.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

from wafer_grammar.ebnf.charclass import Ranges, positive_ranges
from wafer_grammar.ebnf.syntax import CharClass, Choice, Expr, Literal, Repeat, RuleRef, Sequence

#: Larger expressions are not analysed (and so not trusted to ``re``).
MAX_POSITIONS = 4_000
MAX_FOLLOW = 200_000


class _Unsure(Exception):
    """Too large to analyse, or not a plain regular expression."""


# A fragment: (nullable, first positions, last positions, holds an open-ended repetition).
_Frag = tuple[bool, frozenset[int], frozenset[int], bool]
_EMPTY: _Frag = (True, frozenset(), frozenset(), False)


class _Glushkov:
    def __init__(self, rules: Mapping[str, Expr]) -> None:
        self.rules = rules
        self.chars: list[Ranges] = []
        self.follow: list[set[int]] = []
        self.edges = 0

    def position(self, ranges: Ranges) -> _Frag:
        if len(self.chars) >= MAX_POSITIONS:
            raise _Unsure
        self.chars.append(ranges)
        self.follow.append(set())
        p = frozenset({len(self.chars) - 1})
        return False, p, p, False

    def link(self, sources: frozenset[int], targets: frozenset[int]) -> None:
        for p in sources:
            self.follow[p] |= targets
        self.edges += len(sources) * len(targets)
        if self.edges > MAX_FOLLOW:
            raise _Unsure

    def concat(self, a: _Frag, b: _Frag) -> _Frag:
        self.link(a[2], b[1])
        first = a[1] | b[1] if a[0] else a[1]
        last = b[2] | a[2] if b[0] else b[2]
        return a[0] and b[0], first, last, a[3] or b[3]

    def fragment(self, expr: Expr) -> _Frag:
        """Positions and follow links of ``expr``, bottom-up over an explicit stack."""
        # Tasks: (expr, None) expands; (expr, n) combines the last n fragments.
        tasks: list[tuple[Expr, int | None]] = [(expr, None)]
        out: list[_Frag] = []
        expansions = 0
        while tasks:
            node, count = tasks.pop()
            if count is None:
                if isinstance(node, Literal):
                    frag = _EMPTY
                    for ch in node.value:
                        frag = self.concat(frag, self.position(((ord(ch), ord(ch)),)))
                    out.append(frag)
                elif isinstance(node, CharClass):
                    out.append(self.position(positive_ranges(node)))
                elif isinstance(node, RuleRef):
                    expansions += 1
                    if node.name not in self.rules or expansions > MAX_POSITIONS:
                        raise _Unsure
                    tasks.append((self.rules[node.name], None))
                elif isinstance(node, (Sequence, Choice)):
                    kids = node.items if isinstance(node, Sequence) else node.alternatives
                    tasks.append((node, len(kids)))
                    tasks.extend((kid, None) for kid in reversed(kids))
                elif isinstance(node, Repeat):
                    copies = _copies(node)
                    if copies > MAX_POSITIONS:
                        raise _Unsure
                    tasks.append((node, copies))
                    tasks.extend((node.item, None) for _ in range(copies))
                else:
                    raise _Unsure
                continue
            parts = out[len(out) - count :]
            del out[len(out) - count :]
            if isinstance(node, Sequence):
                frag = parts[0]
                for part in parts[1:]:
                    frag = self.concat(frag, part)
            elif isinstance(node, Choice):
                frag = (
                    any(p[0] for p in parts),
                    frozenset().union(*(p[1] for p in parts)),
                    frozenset().union(*(p[2] for p in parts)),
                    any(p[3] for p in parts),
                )
            else:
                assert isinstance(node, Repeat)
                frag = self.repeat(node, parts)
            out.append(frag)
        return out[0]

    def repeat(self, node: Repeat, parts: list[_Frag]) -> _Frag:
        """Copies spelled out (counters are exact); only ``*`` and ``+`` loop."""
        if not parts:
            return _EMPTY
        if node.max is None:
            *exact, loop = parts
            if loop[0] or loop[3]:
                raise _Unsure  # (a?)* or (a+)+: two bracketings of the same text
            self.link(loop[2], loop[1])
            looped: _Frag = (loop[0] or node.min == 0, loop[1], loop[2], True)
            frag = _EMPTY
            for part in [*exact, looped]:
                frag = self.concat(frag, part)
            return frag
        frag = _EMPTY
        for i, part in enumerate(parts):
            optional = i >= node.min
            frag = self.concat(frag, (part[0] or optional, part[1], part[2], part[3]))
        return frag

    def disjoint(self, positions: set[int] | frozenset[int]) -> bool:
        ranges = sorted(r for p in positions for r in self.chars[p])
        return all(a[1] < b[0] for a, b in pairwise(ranges))


def _copies(node: Repeat) -> int:
    if node.max == 0:
        return 0
    if node.max is None:
        return max(node.min - 1, 0) + 1  # x{n,} is x{n-1} x+
    return node.max


def linear_time(expr: Expr, rules: Mapping[str, Expr] | None = None) -> bool:
    """Whether ``re`` matches ``expr``'s pattern without trying two readings of any text.

    ``rules`` gives the bodies of referenced (regular) rules. False also when
    the expression is too large to analyse or is not a plain regular expression.
    """
    g = _Glushkov(rules or {})
    try:
        first = g.fragment(expr)[1]
    except _Unsure:
        return False
    return g.disjoint(first) and all(g.disjoint(f) for f in g.follow)
