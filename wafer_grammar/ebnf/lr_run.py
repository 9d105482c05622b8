"""An exact, incremental LR recognizer: lark's LALR(1) table driven with every tokenization.

Why it is exact. lark's own lexer picks one split of the text (the longest
match of one terminal), so an LALR *reject* can be a missed split. Here a
*configuration* is a parser stack plus, optionally, a token in progress
(its terminal and DFA state). At a token boundary every terminal the stack's
state has an action for is tried, and *every* end of a match of it (each
scanner yields all of them) forks a configuration; a conflict-free LALR(1)
table (checked in :mod:`.lr_table`) then follows each token sequence
deterministically and fails exactly on the token sequences that are not
prefixes of a sentence. So the configurations alive after a text are exactly
the tokenizations of it that some member continues:

- a text is a **member** iff some configuration at its end accepts end of input;
- a text is a **viable prefix** iff some configuration is alive at its end:
  every stack reached by shifts is a viable prefix of the (all-productive)
  grammar, and a token in progress is kept only while its DFA state (trimmed
  to states that reach acceptance) can still complete the token and its
  terminal has already been shifted onto the stack;
- an end of a match is dropped early only when the next character cannot begin
  any terminal that may follow that one (that configuration would die at the
  next step anyway).

Cost: linear in the text times the number of live configurations; identical
configurations are merged, and past :data:`LIMIT` of them :class:`Overflow` is
raised so callers fall back to the exact Earley recognizer (``root ::= w w``,
``w ::= [a-z]+`` keeps one configuration per split). Feeding chunk by chunk costs
the same as feeding the whole text once: a token in progress keeps its DFA state,
so no character is read twice.
"""

from __future__ import annotations

from heapq import heappop, heappush

from wafer_grammar.ebnf.lr_table import Scanner, Tables
from wafer_grammar.ebnf.render import render_class, render_string
from wafer_grammar.ebnf.syntax import CharClass

#: The most configurations kept at one position before giving up to Earley.
LIMIT = 64

Partial = tuple[list[int], Scanner, int]  # stack with the token shifted, its scanner, DFA state


class Overflow(Exception):
    """More than :data:`LIMIT` live tokenizations: the caller falls back to Earley."""


class LRRun:
    """The live configurations after the text fed so far (stacks are never mutated)."""

    __slots__ = ("bounds", "partials", "position", "tables")

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.bounds: list[list[int]] = [[tables.start]]  # stacks at a token boundary
        self.partials: list[Partial] = []  # configurations inside a token
        self.position = 0

    def copy(self) -> LRRun:
        """An independent run in the same state (cheap: stacks are shared, never mutated)."""
        other = LRRun.__new__(LRRun)
        other.tables = self.tables
        other.bounds = list(self.bounds)
        other.partials = list(self.partials)
        other.position = self.position
        return other

    @property
    def alive(self) -> bool:
        """Whether the text so far is a viable prefix."""
        return bool(self.bounds or self.partials)

    def complete(self) -> bool:
        """Whether the text so far is a member."""
        return any(self.tables.accepts(stack) for stack in self._boundaries())

    def _boundaries(self) -> list[list[int]]:
        """Stacks at a token boundary at the end: a token in progress may end here too."""
        return self.bounds + [s for s, sc, state in self.partials if sc.accepting[state]]

    def feed(self, chunk: str) -> bool:
        """Read ``chunk``; whether the text is still a viable prefix.

        A chunk that leaves the language leaves the run as it was (False);
        :class:`Overflow` is raised when too many tokenizations stay alive.
        """
        partials = self.partials
        if len(partials) == 1 and not self.bounds and chunk:
            # Inside one token (most chunks of a stream): only its DFA moves.
            stack, sc, state = partials[0]
            if sc.closed[state]:  # the token ended with the last chunk: lex on from here
                return self._commit(chunk, [(0, stack)], [])
            if not sc.accepting[state] or not sc.may_follow(chunk[0]):
                ends, final = sc.resume(chunk, state)
                if not ends:  # still inside the token, or dead with no end before it
                    if final < 0:
                        return False
                    self.partials = [(stack, sc, final)]
                    self.position += len(chunk)
                    return True
                # The token may end inside the chunk: lex on from there.
                return self._commit(
                    chunk, [(e, stack) for e in ends], [(stack, sc, final)] if final >= 0 else []
                )
        if not chunk or not (self.bounds or partials):
            return self.alive
        return self._commit(chunk, *self._resume(chunk))

    def _resume(self, chunk: str) -> tuple[list[tuple[int, list[int]]], list[Partial]]:
        """Tokens in progress read on: the token boundaries inside ``chunk``, the partials."""
        first = chunk[0]
        # Each end inside the chunk is a token boundary. A token reaching the end of
        # the chunk stays a partial (in an accepting state when it may end there).
        partials: list[Partial] = []
        work: list[tuple[int, list[int]]] = [(0, stack) for stack in self.bounds]
        for stack, sc, state in self.partials:
            ends, final = sc.resume(chunk, state)
            if sc.accepting[state] and sc.may_follow(first):
                work.append((0, stack))
            work.extend((e, stack) for e in ends)
            if final >= 0:
                partials.append((stack, sc, final))
        return work, partials

    def _commit(
        self, chunk: str, work: list[tuple[int, list[int]]], partials: list[Partial]
    ) -> bool:
        """Lex on from the boundaries in ``work``; keep the partials at the chunk's end."""
        if len(work) == 1:
            work = self._follow(chunk, work[0][0], work[0][1], partials)
        if work:
            self._spread(chunk, work, partials)
        if len(partials) > 1:
            partials = list({(tuple(p[0]), p[1].name, p[2]): p for p in partials}.values())
            if len(partials) > LIMIT:
                raise Overflow
        if not partials:
            return False
        self.bounds, self.partials = [], partials
        self.position += len(chunk)
        return True

    def _lex(
        self, chunk: str, at: int, stack: list[int], partials: list[Partial]
    ) -> list[tuple[int, list[int]]]:
        """Every token from boundary ``at``: the boundaries after them (partials appended)."""
        t = self.tables
        out: list[tuple[int, list[int]]] = []
        for sc in t.starts(stack[-1], chunk[at]):
            ends, final = sc.tokens(chunk, at)
            if not ends and final < 0:
                continue
            shifted = stack[:]
            if not t.shift(shifted, sc.name):
                continue
            out.extend((e, shifted) for e in ends)
            if final >= 0:
                partials.append((shifted, sc, final))
        return out

    def _follow(
        self, chunk: str, at: int, stack: list[int], partials: list[Partial]
    ) -> list[tuple[int, list[int]]]:
        """Token after token while there is one tokenization; the boundaries where it forks."""
        while True:
            out = self._lex(chunk, at, stack, partials)
            if len(out) != 1:
                return out
            at, stack = out[0]

    def _spread(
        self, chunk: str, work: list[tuple[int, list[int]]], partials: list[Partial]
    ) -> None:
        """Several tokenizations: position by position, identical configurations merged."""
        pending: dict[int, list[list[int]]] = {}
        heap: list[int] = []
        for at, stack in work:
            _put(pending, heap, at, stack)
        while heap:
            at = heappop(heap)
            stacks = pending.pop(at)
            for stack in _unique(stacks) if len(stacks) > 1 else stacks:
                for e, shifted in self._lex(chunk, at, stack, partials):
                    _put(pending, heap, e, shifted)

    def expected(self) -> list[str]:
        """What may come next: character literals and classes, and "end of text"."""
        t = self.tables
        ranges: list[tuple[int, int]] = []
        for stack in self._boundaries():
            for sc in t.candidates[stack[-1]]:
                if t.shift(stack[:], sc.name):
                    ranges.extend(sc.automaton.next_ranges(sc.sets[sc.start]))
        for _stack, sc, state in self.partials:
            ranges.extend(sc.automaton.next_ranges(sc.sets[state]))
        return describe_ranges(ranges, end=self.complete())


def _put(pending: dict[int, list[list[int]]], heap: list[int], pos: int, stack: list[int]) -> None:
    found = pending.get(pos)
    if found is None:
        pending[pos] = [stack]
        heappush(heap, pos)
    else:
        found.append(stack)


def _unique(stacks: list[list[int]]) -> list[list[int]]:
    if len(stacks) > LIMIT * 4:
        raise Overflow
    merged = list({tuple(s): s for s in stacks}.values())
    if len(merged) > LIMIT:
        raise Overflow
    return merged


def describe_ranges(ranges: list[tuple[int, int]], *, end: bool) -> list[str]:
    """Next characters as EBNF literals and classes (merged, sorted), and "end of text"."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    out = {
        render_string(chr(lo)) if lo == hi else render_class(CharClass(((lo, hi),)))
        for lo, hi in merged
    }
    return sorted(out) + (["end of text"] if end else [])
