"""The exact reference: a character-level Earley recognizer over the grammar AST.

Why our own and not lark's Earley: lark's ``dynamic_complete`` lexer finds the
shorter matches of a regex terminal by re-matching it on truncated text, which
only finds every split when Python's leftmost-first regex match is also the
longest one. ``t ::= ("a" | "ab") ("bc")?`` on "abbc" is a counterexample (the
match "abbc" is never produced: lark rejects a member). Here terminals
(:mod:`wafer_grammar.ebnf.terms`) are single characters, whole literals,
automata over regular sub-expressions, or the TagDispatch scanners, each of
which yields *every* end, so the recognizer decides membership exactly. It
also implements what lark cannot express: ``lazy`` (an occurrence ends at its
earliest completion), ``max_chars`` (an occurrence spans at most N code points)
and ``TagDispatch``. The grammar it runs on comes from :mod:`.compiler`.

Lookahead assertions ``(= ...)`` are deliberately ignored: XGrammar 0.2.8's
matcher accepts the same strings with or without them (pinned by the labelled
cases in tests/data/xgrammar_semantics.jsonl).
"""

from __future__ import annotations

__all__ = [
    "AutoTerm",
    "Chart",
    "ClassTerm",
    "CompiledGrammar",
    "Dispatch",
    "FreeTerm",
    "LitTerm",
    "NonTerminal",
    "Recognizer",
    "Symbol",
    "TagTerm",
    "Term",
    "compile_grammar",
]

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from wafer_grammar.ebnf.compiler import CompiledGrammar, NonTerminal, Symbol, compile_grammar
from wafer_grammar.ebnf.terms import (
    AutoTerm,
    ClassTerm,
    Dispatch,
    FreeTerm,
    LitTerm,
    TagTerm,
    Term,
)

Item = tuple[int, int, int]  # production, dot, origin


def _common_prefix(text: str, at: int, literal: str) -> int:
    k = 0
    while k < len(literal) and at + k < len(text) and text[at + k] == literal[k]:
        k += 1
    return k


@dataclass
class Chart:
    """The result of one recognition run.

    ``sets[j]`` maps each item processed at position ``j`` to the order it was
    processed in there: derivations read it to never build a node from itself.
    """

    text: str
    sets: list[dict[Item, int]]
    done: list[dict[int, set[int]]]  # per end: nonterminal -> origins it completed from
    furthest: int  # the last position any item reached
    accepted: bool
    alive_at_end: bool  # the text can still be extended to a member (a viable prefix)
    partial_at: int = -1  # furthest position a literal matched part-way to, past ``furthest``
    partial_expected: frozenset[str] = frozenset()


class Recognizer:
    """Runs Earley over a :class:`CompiledGrammar`."""

    def __init__(self, grammar: CompiledGrammar) -> None:
        self.g = grammar

    def run(self, text: str) -> Chart:
        g, n = self.g, len(text)
        prods, by_lhs, nullable, nts = g.prods, g.by_lhs, g.nullable, g.nts
        seen: list[set[Item]] = [set() for _ in range(n + 1)]
        sets: list[dict[Item, int]] = [{} for _ in range(n + 1)]
        agendas: list[list[Item]] = [[] for _ in range(n + 1)]
        done: list[dict[int, set[int]]] = [{} for _ in range(n + 1)]
        waiting: list[dict[int, list[Item]]] = [{} for _ in range(n + 1)]
        lazy_done: dict[tuple[int, int], int] = {}
        # Incomplete items at the end of the text, with how many characters they still need.
        frontier: list[tuple[Item, int]] = []
        partial_at, partial_expected = -1, set[str]()
        limits = [nt.max_chars for nt in nts]
        lazies = [nt.lazy for nt in nts]
        furthest = -1  # stays -1 when even the root has no usable production

        def add(item: Item, at: int) -> None:
            s = seen[at]
            if item not in s:
                s.add(item)
                agendas[at].append(item)

        for p in by_lhs[0]:
            add((p, 0, 0), 0)
        for j in range(n + 1):
            agenda = agendas[j]
            if not agenda:
                continue
            processed = sets[j]
            predicted: set[int] = set()
            waits = waiting[j]
            ends_memo: dict[int, Iterable[int]] = {}
            k = 0
            while k < len(agenda):
                item = agenda[k]
                k += 1
                pid, dot, origin = item
                lhs, rhs = prods[pid]
                limit = limits[lhs]
                if limit is not None and j - origin > limit:
                    continue
                if lazies[lhs] and lazy_done.get((lhs, origin), j) < j:
                    continue  # a lazy occurrence already ended earlier: it stops consuming
                processed[item] = len(processed)
                furthest = j
                if dot == len(rhs):
                    if lazies[lhs]:
                        lazy_done.setdefault((lhs, origin), j)
                    origins = done[j].setdefault(lhs, set())
                    if origin in origins:
                        continue
                    origins.add(origin)
                    for w in waiting[origin].get(lhs, ()):
                        add((w[0], w[1] + 1, w[2]), j)
                    continue
                if j == n:
                    frontier.append((item, 0))
                sym = rhs[dot]
                if isinstance(sym, int):
                    waits.setdefault(sym, []).append(item)
                    if sym not in predicted:
                        predicted.add(sym)
                        if lazies[sym] and nullable[sym]:
                            lazy_done.setdefault((sym, j), j)
                        for p in by_lhs[sym]:
                            add((p, 0, j), j)
                    if nullable[sym] or j in done[j].get(sym, ()):
                        add((pid, dot + 1, origin), j)
                else:
                    key = id(sym)
                    ends = ends_memo.get(key)
                    if ends is None:
                        ends = ends_memo[key] = tuple(sym.ends(text, j))
                    for e in ends:
                        add((pid, dot + 1, origin), e)
                    if isinstance(sym, (LitTerm, AutoTerm)) and j < n:
                        self._partial(sym, item, text, j, frontier)
                    if not ends and isinstance(sym, LitTerm) and j < n:
                        # Part of the literal matched: the error points past it.
                        got = _common_prefix(text, j, sym.value)
                        if got and j + got >= partial_at:
                            if j + got > partial_at:
                                partial_at, partial_expected = j + got, set()
                            partial_expected.add(sym.describe())
        accepted = 0 in done[n].get(0, set())
        return Chart(
            text=text,
            sets=sets,
            done=done,
            furthest=max(furthest, 0),
            accepted=accepted,
            alive_at_end=accepted or self._viable(frontier, waiting, lazy_done, n),
            partial_at=partial_at if partial_at > furthest else -1,
            partial_expected=frozenset(partial_expected),
        )

    @staticmethod
    def _partial(
        sym: LitTerm | AutoTerm, item: Item, text: str, j: int, frontier: list[tuple[Item, int]]
    ) -> None:
        """A terminal that runs out of text part-way still leaves a viable prefix."""
        if isinstance(sym, LitTerm):
            got = _common_prefix(text, j, sym.value)
            if j + got == len(text) and got < len(sym.value):
                frontier.append((item, len(sym.value) - got))
        else:
            need = sym.automaton.remaining(text, j)
            if need is not None and need > 0:
                frontier.append((item, need))

    def _viable(
        self,
        frontier: list[tuple[Item, int]],
        waiting: list[dict[int, list[Item]]],
        lazy_done: dict[tuple[int, int], int],
        n: int,
    ) -> bool:
        """Whether some item needing more text can still become part of a member.

        Dijkstra over rule occurrences ``(nonterminal, origin)``, upwards from
        the items at the end of the text, by the fewest characters still needed
        to complete them: an occurrence is out when its rule is lazy and already
        ended, or when even its shortest completion would pass its ``max_chars``.
        The text is viable when the root's own occurrence is reached.
        """
        g = self.g
        best: dict[tuple[int, int], int] = {}
        heap: list[tuple[int, int, int]] = []

        def rest(pid: int, dot: int) -> int | None:
            total = 0
            for sym in g.prods[pid][1][dot:]:
                m = g.symbol_min(sym)
                if m is None:
                    return None
                total += m
            return total

        for (pid, dot, origin), need_here in frontier:
            after = rest(pid, dot + 1)
            head = g.symbol_min(g.prods[pid][1][dot])
            if after is None or head is None:
                continue
            need = (need_here if need_here else max(head, 1)) + after
            heapq.heappush(heap, (need, g.prods[pid][0], origin))
        while heap:
            need, nt, origin = heapq.heappop(heap)
            key = (nt, origin)
            if key in best:
                continue
            info = g.nts[nt]
            if info.lazy and key in lazy_done:
                continue
            if info.max_chars is not None and n + need - origin > info.max_chars:
                continue
            best[key] = need
            if key == (0, 0):
                return True
            for wpid, wdot, worigin in waiting[origin].get(nt, ()):
                after = rest(wpid, wdot + 1)
                if after is not None:
                    heapq.heappush(heap, (need + after, g.prods[wpid][0], worigin))
        return False

    def expected(self, chart: Chart, at: int) -> list[str]:
        """Descriptions of what could come next at ``at`` (sorted, deduplicated)."""
        if at == chart.partial_at:
            return sorted(chart.partial_expected)
        out: set[str] = set()
        for pid, dot, _origin in chart.sets[at]:
            rhs = self.g.prods[pid][1]
            if dot < len(rhs) and not isinstance(rhs[dot], int):
                term = rhs[dot]
                assert isinstance(term, Term)
                out.add(term.describe())
        if 0 in chart.done[at].get(0, set()):
            out.add("end of text")
        return sorted(out)
