"""The exact Earley recognizer, fed chunk by chunk: the chart is kept, each character read once.

The same algorithm as :meth:`wafer_grammar.ebnf.recognizer.Recognizer.run`
(items, predictions, completions, ``lazy`` and ``max_chars`` in the same order),
made resumable: positions are processed left to right as text arrives, and a
terminal that runs into the end of the text (a literal part-way, an automaton
still alive, a class with no character yet) is kept as a *pending scan* with
its progress, resumed on the next chunk instead of re-read. Viability at the
end is the recognizer's own test over the kept chart.

TagDispatch's scanners resume too: a pending one keeps its node of the tags'
automaton (:class:`~wafer_grammar.ebnf.terms.Dispatch`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wafer_grammar.ebnf.compiler import CompiledGrammar
from wafer_grammar.ebnf.recognizer import Recognizer
from wafer_grammar.ebnf.terms import AutoTerm, ClassTerm, FreeTerm, LitTerm, TagTerm, Term

Item = tuple[int, int, int]  # production, dot, origin


@dataclass
class _Scan:
    """A terminal that reached the end of the text from ``start``, for these items."""

    start: int
    term: Term
    items: list[Item] = field(default_factory=list)
    got: int = 0  # a literal: characters matched so far
    state: frozenset[int] = frozenset()  # an automaton: its states at the end
    node: int = 0  # TagDispatch: the node of the tags' automaton at the end


class EarleyRun:
    """The chart after the text fed so far; :meth:`feed` extends it."""

    def __init__(self, grammar: CompiledGrammar) -> None:
        self.g = grammar
        self._viability = Recognizer(grammar)
        self.n = 0
        self.seen: list[set[Item]] = [set()]
        self.agendas: list[list[Item]] = [[]]
        self.done: list[dict[int, set[int]]] = [{}]
        self.waiting: list[dict[int, list[Item]]] = [{}]
        self.lazy_done: dict[tuple[int, int], int] = {}
        self.pending: list[_Scan] = []
        self.tail: list[Item] = []  # incomplete items processed at the end of the text
        for p in grammar.by_lhs[0]:
            self._add((p, 0, 0), 0)
        self._process(0, "", 0)

    def _add(self, item: Item, at: int) -> None:
        s = self.seen[at]
        if item not in s:
            s.add(item)
            self.agendas[at].append(item)

    # -- reading -------------------------------------------------------------------

    def feed(self, chunk: str) -> bool:
        """Read ``chunk``; whether the text so far is a viable prefix."""
        if not chunk:
            return self.alive
        base, n = self.n, self.n + len(chunk)
        for _ in range(len(chunk)):
            self.seen.append(set())
            self.agendas.append([])
            self.done.append({})
            self.waiting.append({})
        self.n = n
        pending, self.pending = self.pending, []
        for scan in pending:
            self._resume(scan, chunk, base)
        for j in range(base + 1, n + 1):
            self._process(j, chunk, base)
        return self.alive

    def _resume(self, scan: _Scan, chunk: str, base: int) -> None:
        term, ends = scan.term, list[int]()
        if isinstance(term, LitTerm):
            rest = term.value[scan.got :]
            if chunk.startswith(rest):
                ends.append(base + len(rest))
            elif rest.startswith(chunk):
                scan.got += len(chunk)
                self.pending.append(scan)
        elif isinstance(term, ClassTerm):
            if term.matches(chunk[0]):
                ends.append(base + 1)
        elif isinstance(term, AutoTerm):
            ends = self._auto(term, scan, chunk, 0, base)
        else:
            assert isinstance(term, (FreeTerm, TagTerm))
            ends = self._dispatch(term, scan, chunk, 0, base)
        for e in ends:
            for pid, dot, origin in scan.items:
                self._add((pid, dot + 1, origin), e)

    def _auto(self, term: AutoTerm, scan: _Scan, chunk: str, k: int, base: int) -> list[int]:
        """Run ``term``'s automaton from ``scan.state`` over ``chunk[k:]``: its ends."""
        automaton, current, ends = term.automaton, scan.state, list[int]()
        while k < len(chunk):
            current = automaton.step(current, chunk[k])
            k += 1
            if not current:
                return ends
            if automaton.accepting(current):
                ends.append(base + k)
        scan.state = current
        self.pending.append(scan)
        return ends

    def _dispatch(
        self, term: FreeTerm | TagTerm, scan: _Scan, chunk: str, k: int, base: int
    ) -> list[int]:
        """Run ``term``'s automaton from ``scan.node`` over ``chunk[k:]``: its ends;
        pending again while it can go on."""
        ends, scan.node = term.resume(chunk, k, scan.node)
        if scan.node >= 0:
            self.pending.append(scan)
        return [base + e for e in ends]

    def _scan(self, term: Term, j: int, chunk: str, base: int) -> tuple[list[int], _Scan | None]:
        """Where ``term`` ends from ``j`` in the text so far; its pending scan, if any."""
        k, n = j - base, self.n
        if isinstance(term, LitTerm):
            value = term.value
            if chunk.startswith(value, k):
                return [j + len(value)], None
            have = n - j
            if have < len(value) and chunk[k:] == value[:have]:
                scan = _Scan(j, term, got=have)
                self.pending.append(scan)
                return [], scan
            return [], None
        if isinstance(term, ClassTerm):
            if j < n:
                return ([j + 1] if term.matches(chunk[k]) else []), None
            scan = _Scan(j, term)
            self.pending.append(scan)
            return [], scan
        if isinstance(term, (FreeTerm, TagTerm)):
            scan = _Scan(j, term)
            ends = [j] if isinstance(term, FreeTerm) else []  # free text may be empty
            ends += self._dispatch(term, scan, chunk, k, base)
            return ends, (scan if scan.node >= 0 else None)
        assert isinstance(term, AutoTerm)
        scan = _Scan(j, term, state=term.automaton.start)
        ends = [j] if term.automaton.accepting(scan.state) else []
        before = len(self.pending)
        ends += self._auto(term, scan, chunk, k, base)
        return ends, (scan if len(self.pending) > before else None)

    def _process(self, j: int, chunk: str, base: int) -> None:
        """Recognizer.run's loop body at position ``j``."""
        g = self.g
        prods, by_lhs, nullable, nts = g.prods, g.by_lhs, g.nullable, g.nts
        agenda, done, waits, lazy_done = self.agendas[j], self.done, self.waiting[j], self.lazy_done
        predicted: set[int] = set()
        memo: dict[int, tuple[list[int], _Scan | None]] = {}
        at_end = j == self.n
        if at_end:
            self.tail = []
        k = 0
        while k < len(agenda):
            item = agenda[k]
            k += 1
            pid, dot, origin = item
            lhs, rhs = prods[pid]
            info = nts[lhs]
            if info.max_chars is not None and j - origin > info.max_chars:
                continue
            if info.lazy and lazy_done.get((lhs, origin), j) < j:
                continue
            if dot == len(rhs):
                if info.lazy:
                    lazy_done.setdefault((lhs, origin), j)
                origins = done[j].setdefault(lhs, set())
                if origin in origins:
                    continue
                origins.add(origin)
                for w in self.waiting[origin].get(lhs, ()):
                    self._add((w[0], w[1] + 1, w[2]), j)
                continue
            if at_end:
                self.tail.append(item)
            sym = rhs[dot]
            if isinstance(sym, int):
                waits.setdefault(sym, []).append(item)
                if sym not in predicted:
                    predicted.add(sym)
                    if nts[sym].lazy and nullable[sym]:
                        lazy_done.setdefault((sym, j), j)
                    for p in by_lhs[sym]:
                        self._add((p, 0, j), j)
                if nullable[sym] or j in done[j].get(sym, ()):
                    self._add((pid, dot + 1, origin), j)
                continue
            found = memo.get(id(sym))
            if found is None:
                found = memo[id(sym)] = self._scan(sym, j, chunk, base)
            ends, scan = found
            if scan is not None:
                scan.items.append(item)
            for e in ends:
                self._add((pid, dot + 1, origin), e)

    # -- verdicts ------------------------------------------------------------------

    @property
    def accepted(self) -> bool:
        """Whether the text so far is a member."""
        return 0 in self.done[self.n].get(0, set())

    @property
    def alive(self) -> bool:
        """Whether the text so far can still be extended to a member."""
        if self.accepted:
            return True
        frontier: list[tuple[Item, int]] = [(item, 0) for item in self.tail]
        for scan in self.pending:
            if scan.start == self.n:
                continue  # nothing read yet: its items are in the tail
            if isinstance(scan.term, LitTerm):
                need: int | None = len(scan.term.value) - scan.got
            elif isinstance(scan.term, AutoTerm):
                need = scan.term.automaton.distance(scan.state)
            else:
                need = None
            if need:
                frontier.extend((item, need) for item in scan.items)
        return self._viability._viable(frontier, self.waiting, self.lazy_done, self.n)
