"""Object keys as regular languages: ``patternProperties``, ``propertyNames``, and the keys
no declared name or pattern matches, all read off one automaton.

Each pattern (search semantics), the alternation of the declared names and each
``propertyNames`` constraint is an automaton over decoded characters; their product,
built state by state over the character intervals where they differ, knows for each
key which of them match. The keys whose match set is ``S`` (no declared name, every
name constraint, exactly the patterns in ``S``) are then a right-linear grammar: one
rule per product state, each interval written as JSON writes its characters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from wafer_grammar.convert.json_schema.numbers import alt, seq
from wafer_grammar.convert.json_schema.strings import encode_ranges
from wafer_grammar.ebnf.automaton import Automaton, build_automaton
from wafer_grammar.ebnf.syntax import Expr, Literal, RuleRef

#: At most this many product states (each becomes up to one rule per match set).
MAX_STATES = 300
_TOP = 0x10FFFF
_SURROGATES = (0xD800, 0xDFFF)

State = tuple[frozenset[int], ...]


class TooLarge(Exception):
    """The key automaton would need more states than :data:`MAX_STATES`."""


@dataclass
class KeySpace:
    """The product automaton of the declared names, the patterns and the name constraints."""

    automata: list[Automaton]
    declared: bool  # automata[0] is the declared names'
    patterns: int  # then this many patterns, then the name constraints
    states: list[State]
    moves: list[list[tuple[tuple[tuple[int, int], ...], int]]]

    def signature(self, i: int) -> tuple[bool, frozenset[int], bool] | None:
        """(a declared name?, the patterns that match, every name constraint holds?)."""
        state = self.states[i]
        offset = 1 if self.declared else 0
        hits = [a.accepting(s) for a, s in zip(self.automata, state, strict=True)]
        named = hits[0] if self.declared else False
        matched = frozenset(j for j in range(self.patterns) if hits[offset + j])
        return named, matched, all(hits[offset + self.patterns :])

    def matches(self, key: str) -> frozenset[int]:
        """The patterns that match ``key``."""
        offset = 1 if self.declared else 0
        return frozenset(
            j for j in range(self.patterns) if self.automata[offset + j].fullmatch(key)
        )

    def allowed(self, key: str) -> bool:
        """Whether ``key`` meets every name constraint."""
        offset = (1 if self.declared else 0) + self.patterns
        return all(a.fullmatch(key) for a in self.automata[offset:])

    def keys(
        self,
        matched: frozenset[int],
        reserve: Callable[[str], str],
        define: Callable[[str, Expr], object],
    ) -> Expr | None:
        """JSON texts of the undeclared, allowed keys matched by exactly ``matched``
        (``reserve(hint)`` names a new rule, ``define(name, body)`` gives its body)."""

        def wanted(i: int) -> bool:
            sig = self.signature(i)
            return sig is not None and not sig[0] and sig[1] == matched and sig[2]

        live = {i for i in range(len(self.states)) if wanted(i)}
        changed = True
        while changed:
            changed = False
            for i, moves in enumerate(self.moves):
                if i not in live and any(t in live for _, t in moves):
                    live.add(i)
                    changed = True
        if 0 not in live:
            return None
        tag = "-".join(str(j) for j in sorted(matched)) or "other"
        names = {i: reserve(f"key-{tag}-s{i}") for i in sorted(live)}
        for i in sorted(live):
            body = alt(
                Literal("") if wanted(i) else None,
                *(seq(encode_ranges(r), RuleRef(names[t])) for r, t in self.moves[i] if t in live),
            )
            assert body is not None
            define(names[i], body)
        return seq(Literal('"'), RuleRef(names[0]), Literal('"'))


def key_space(declared: list[str], patterns: list[Expr], constraints: list[Expr]) -> KeySpace:
    """The product automaton (``patterns`` and ``constraints`` as full-match expressions).

    Raises:
        TooLarge: more than :data:`MAX_STATES` states.
    """
    exprs: list[Expr] = []
    if declared:
        exprs.append(alt(*(Literal(n) for n in declared)) or Literal(""))
    exprs += patterns + constraints
    automata = []
    for expr in exprs:
        found = build_automaton(expr)
        if found is None:
            raise TooLarge
        automata.append(found)
    start: State = tuple(a.start for a in automata)
    index = {start: 0}
    states = [start]
    moves: list[list[tuple[tuple[tuple[int, int], ...], int]]] = []
    n_names = len(constraints)
    for state in states:  # grows while it is read
        cuts = {0, _TOP + 1, _SURROGATES[0], _SURROGATES[1] + 1}
        for a, s in zip(automata, state, strict=True):
            for lo, hi in a.next_ranges(s):
                cuts.update((lo, hi + 1))
        points = sorted(cuts)
        by_target: dict[int, list[tuple[int, int]]] = {}
        for lo, nxt in pairwise(points):
            if lo == _SURROGATES[0]:
                continue
            ch = chr(lo)
            target: State = tuple(a.step(s, ch) for a, s in zip(automata, state, strict=True))
            if n_names and any(not t for t in target[len(target) - n_names :]):
                continue  # a name constraint can no longer hold
            if target not in index:
                if len(states) >= MAX_STATES:
                    raise TooLarge
                index[target] = len(states)
                states.append(target)
            by_target.setdefault(index[target], []).append((lo, nxt - 1))
        moves.append([(tuple(r), t) for t, r in sorted(by_target.items())])
    return KeySpace(automata, bool(declared), len(patterns), states, moves)
