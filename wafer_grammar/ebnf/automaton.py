"""Regular expressions over the grammar AST as automata: matching in time linear in the text.

Python's ``re`` backtracks: ``("a" | "a" | "aa")*`` against ``"a"*21 + "b"``
tries every split, and ``(a*)*b`` never finishes on a few thousand ``a``. A
Thompson NFA simulated one set of states at a time cannot blow up that way; the
sets it meets are cached as DFA states (a *lazy* subset construction), so
repeated text runs at DFA speed while a hostile pattern only costs time
proportional to ``len(text) * states``.

Counted repetitions are unrolled, within :data:`STATE_BUDGET` states: a pattern
that would need more (``"a"{1000000000}``) gets no automaton
(:func:`build_automaton` returns ``None``) and is left to the Earley
recognizer, which counts with nonterminals instead of copies.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Mapping
from itertools import pairwise

from wafer_grammar.ebnf.charclass import positive_ranges
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    Literal,
    Repeat,
    RuleRef,
    Sequence,
)

#: Largest NFA built; past it a pattern is judged by the recognizer instead.
STATE_BUDGET = 20_000
#: Cached DFA states per automaton; past it, steps are computed without caching.
DFA_CACHE = 4_096


class _TooBig(Exception):
    """The automaton would exceed :data:`STATE_BUDGET`."""


class _Builder:
    """Thompson construction with an explicit work stack (expressions may nest deeply)."""

    def __init__(self, rules: Mapping[str, Expr], budget: int) -> None:
        self.rules = rules
        self.budget = budget
        self.eps: list[list[int]] = []
        # One character transition at most per state: (starts, ends, target).
        self.move: list[tuple[tuple[int, ...], tuple[int, ...], int] | None] = []

    def state(self) -> int:
        if len(self.eps) >= self.budget:
            raise _TooBig
        self.eps.append([])
        self.move.append(None)
        return len(self.eps) - 1

    def char(self, ranges: tuple[tuple[int, int], ...]) -> tuple[int, int]:
        start, end = self.state(), self.state()
        self.move[start] = (tuple(lo for lo, _ in ranges), tuple(hi for _, hi in ranges), end)
        return start, end

    def empty(self) -> tuple[int, int]:
        start = self.state()
        return start, start

    def build(self, expr: Expr) -> tuple[int, int]:
        # Tasks: ("x", expr) builds a fragment; ("seq"|"alt", n) or ("rep", lo, hi) combines
        # the last fragments built. Fragments are (start, end) state pairs.
        # A task is (kind, expr, count, lo, hi); only the fields its kind needs are set.
        tasks: list[tuple[str, Expr | None, int, int, int | None]] = [("x", expr, 0, 0, None)]
        out: list[tuple[int, int]] = []
        refs = 0
        while tasks:
            kind, node, count, lo, hi = tasks.pop()
            if kind == "x":
                if isinstance(node, Literal):
                    frags = [self.char(((ord(c), ord(c)),)) for c in node.value]
                    out.append(self.concat(frags) if frags else self.empty())
                elif isinstance(node, CharClass):
                    out.append(self.char(positive_ranges(node)))
                elif isinstance(node, RuleRef):
                    refs += 1
                    # Every expansion ends in states, so the budget bounds the work; the
                    # reference count only guards against a (never regular) cycle.
                    if node.name not in self.rules or refs > 64 * self.budget:
                        raise _TooBig
                    tasks.append(("x", self.rules[node.name], 0, 0, None))
                elif isinstance(node, (Sequence, Choice)):
                    kids = node.items if isinstance(node, Sequence) else node.alternatives
                    combine = "seq" if isinstance(node, Sequence) else "alt"
                    tasks.append((combine, None, len(kids), 0, None))
                    tasks.extend(("x", kid, 0, 0, None) for kid in reversed(kids))
                elif isinstance(node, Repeat):
                    copies = 0 if node.max == 0 else node.min + 1 if node.max is None else node.max
                    if copies > self.budget - len(self.eps):
                        raise _TooBig
                    tasks.append(("rep", None, copies, node.min, node.max))
                    tasks.extend(("x", node.item, 0, 0, None) for _ in range(copies))
                else:
                    raise _TooBig  # macros: not a plain regular expression
            elif kind == "seq":
                frags = out[len(out) - count :]
                del out[len(out) - count :]
                out.append(self.concat(frags))
            elif kind == "alt":
                frags = out[len(out) - count :]
                del out[len(out) - count :]
                start, end = self.state(), self.state()
                for s, e in frags:
                    self.eps[start].append(s)
                    self.eps[e].append(end)
                out.append((start, end))
            else:
                out.append(self.repeat(out, lo, hi, count))
        return out[0]

    def concat(self, frags: list[tuple[int, int]]) -> tuple[int, int]:
        for (_, e), (s, _) in pairwise(frags):
            self.eps[e].append(s)
        return frags[0][0], frags[-1][1]

    def repeat(
        self, out: list[tuple[int, int]], lo: int, hi: int | None, copies: int
    ) -> tuple[int, int]:
        if copies == 0:
            return self.empty()
        frags = out[len(out) - copies :]
        del out[len(out) - copies :]
        start, end = self.state(), self.state()
        self.eps[start].append(frags[0][0])
        self.concat(frags)
        if hi is None:
            # The last copy loops: x{lo,} is lo copies then x*.
            s, e = frags[-1]
            self.eps[e].append(s)
            self.eps[e].append(end)
            (self.eps[start] if lo == 0 else self.eps[frags[lo - 1][1]]).append(end)
        else:
            self.eps[frags[-1][1]].append(end)
            for i in range(lo, copies):  # after copy i (1-based), the rest is optional
                (self.eps[start] if i == 0 else self.eps[frags[i - 1][1]]).append(end)
        return start, end


class Automaton:
    """A compiled pattern: ``fullmatch``, every end of a match (``ends``) and ``viable``."""

    def __init__(self, builder: _Builder, start: int, accept: int) -> None:
        self._eps = builder.eps
        self._move = builder.move
        self._accept = accept
        self._productive = self._co_reachable(accept)
        self._cache: dict[frozenset[int], dict[str, frozenset[int]]] = {}
        self._distance: dict[int, int] | None = None
        self.start = self._close({start})
        self.states = len(self._eps)

    def _co_reachable(self, accept: int) -> frozenset[int]:
        """States from which the accepting state can still be reached."""
        back: list[list[int]] = [[] for _ in self._eps]
        for s, targets in enumerate(self._eps):
            for t in targets:
                back[t].append(s)
        for s, move in enumerate(self._move):
            if move is not None and move[0]:
                back[move[2]].append(s)
        seen = {accept}
        stack = [accept]
        while stack:
            for s in back[stack.pop()]:
                if s not in seen:
                    seen.add(s)
                    stack.append(s)
        return frozenset(seen)

    def _close(self, states: set[int]) -> frozenset[int]:
        stack = list(states)
        seen = set(states)
        eps = self._eps
        while stack:
            for t in eps[stack.pop()]:
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
        # Only states that can still reach the end matter: dropping the rest makes
        # dead sets empty (so matching stops early) and keeps cached sets small.
        return frozenset(seen & self._productive)

    def step(self, current: frozenset[int], ch: str) -> frozenset[int]:
        """The state set after reading ``ch``."""
        row = self._cache.get(current)
        if row is not None:
            nxt = row.get(ch)
            if nxt is not None:
                return nxt
        cp = ord(ch)
        moved: set[int] = set()
        for s in current:
            move = self._move[s]
            if move is not None:
                i = bisect_right(move[0], cp) - 1
                if i >= 0 and cp <= move[1][i]:
                    moved.add(move[2])
        nxt = self._close(moved)
        if row is None and len(self._cache) < DFA_CACHE:
            row = self._cache[current] = {}
        if row is not None:
            row[ch] = nxt
        return nxt

    def accepting(self, current: frozenset[int]) -> bool:
        return self._accept in current

    def fullmatch(self, text: str) -> bool:
        current = self.start
        for ch in text:
            current = self.step(current, ch)
            if not current:
                return False
        return self._accept in current

    def viable(self, text: str) -> bool:
        """Whether ``text`` can be extended (possibly by nothing) to a full match."""
        current = self.start
        for ch in text:
            current = self.step(current, ch)
            if not current:
                return False
        return bool(current)

    def _distances(self) -> dict[int, int]:
        """Fewest characters from each productive state to the accepting one (0-1 BFS)."""
        if self._distance is None:
            back: list[list[tuple[int, int]]] = [[] for _ in self._eps]
            for s, targets in enumerate(self._eps):
                for t in targets:
                    back[t].append((s, 0))
            for s, move in enumerate(self._move):
                if move is not None and move[0]:
                    back[move[2]].append((s, 1))
            dist = {self._accept: 0}
            queue: deque[int] = deque([self._accept])
            while queue:
                t = queue.popleft()
                for s, cost in back[t]:
                    d = dist[t] + cost
                    if d < dist.get(s, d + 1):
                        dist[s] = d
                        if cost:
                            queue.append(s)
                        else:
                            queue.appendleft(s)
            self._distance = dist
        return self._distance

    def min_length(self) -> int | None:
        """The length of the shortest match (None: nothing matches)."""
        dist = self._distances()
        found = [dist[s] for s in self.start if s in dist]
        return min(found) if found else None

    def distance(self, current: frozenset[int]) -> int | None:
        """The fewest characters more from ``current`` to a match (None: dead)."""
        dist = self._distances()
        found = [dist[s] for s in current if s in dist]
        return min(found) if found else None

    def remaining(self, text: str, i: int) -> int | None:
        """After reading all of ``text[i:]``: the fewest characters more to a match (None: dead)."""
        current = self.start
        for j in range(i, len(text)):
            current = self.step(current, text[j])
            if not current:
                return None
        dist = self._distances()
        found = [dist[s] for s in current if s in dist]
        return min(found) if found else None

    def next_ranges(self, current: frozenset[int]) -> list[tuple[int, int]]:
        """The code points that keep ``current`` alive, as sorted inclusive ranges."""
        out: list[tuple[int, int]] = []
        for s in current:
            move = self._move[s]
            if move is not None and move[2] in self._productive:
                out.extend(zip(move[0], move[1], strict=True))
        return sorted(out)

    def prefix_free(self, budget: int = 512) -> bool:
        """Whether no match is a proper prefix of another (False when unsure).

        Explores the state sets reachable from the start, one character per
        elementary range; a set holding the accepting state with a live move out
        of it reads a match that another match extends.
        """
        seen = {self.start}
        stack = [self.start]
        while stack:
            current = stack.pop()
            live = self.next_ranges(current)
            if self._accept in current and live:
                return False
            cuts = sorted({lo for lo, _ in live} | {hi + 1 for _, hi in live})
            for lo in cuts:
                nxt = self.step(current, chr(lo)) if lo <= 0x10FFFF else frozenset()
                if nxt and nxt not in seen:
                    if len(seen) >= budget:
                        return False
                    seen.add(nxt)
                    stack.append(nxt)
        return True

    def ends(self, text: str, i: int) -> list[int]:
        """Every ``j >= i`` such that ``text[i:j]`` matches, in increasing order."""
        out: list[int] = []
        current = self.start
        if self._accept in current:
            out.append(i)
        for j in range(i, len(text)):
            current = self.step(current, text[j])
            if not current:
                break
            if self._accept in current:
                out.append(j + 1)
        return out


def build_automaton(
    expr: Expr, rules: Mapping[str, Expr] | None = None, *, budget: int = STATE_BUDGET
) -> Automaton | None:
    """The automaton of ``expr`` (``rules`` gives the bodies of referenced rules).

    Returns ``None`` when it would need more than ``budget`` states, or when
    ``expr`` is not a plain regular expression (macros, undefined or recursive
    references).
    """
    builder = _Builder(rules or {}, budget)
    try:
        start, end = builder.build(expr)
    except _TooBig:
        return None
    return Automaton(builder, start, end)
