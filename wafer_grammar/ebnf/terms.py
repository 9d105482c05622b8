"""The terminals of the exact recognizer: each lists *every* end of a match.

Single characters, whole literals, automata over regular sub-expressions, and
the two scanners of ``TagDispatch`` (free text, and free text up to a tag).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from wafer_grammar.ebnf.automaton import Automaton
from wafer_grammar.ebnf.charclass import positive_ranges
from wafer_grammar.ebnf.render import render_expr, render_string
from wafer_grammar.ebnf.syntax import CharClass, Expr


class Term:
    """A terminal: ``ends(text, i)`` lists every position a match from ``i`` can end at."""

    def ends(self, text: str, i: int) -> Iterable[int]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(eq=False)
class LitTerm(Term):
    value: str

    def ends(self, text: str, i: int) -> Iterable[int]:
        return (i + len(self.value),) if text.startswith(self.value, i) else ()

    def describe(self) -> str:
        return render_string(self.value)


@dataclass(eq=False)
class ClassTerm(Term):
    source: CharClass
    ranges: tuple[tuple[int, int], ...] = ()
    _starts: tuple[int, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.ranges = positive_ranges(self.source)
        self._starts = tuple(lo for lo, _ in self.ranges)

    def matches(self, ch: str) -> bool:
        cp = ord(ch)
        i = bisect_right(self._starts, cp) - 1
        return i >= 0 and cp <= self.ranges[i][1]

    def ends(self, text: str, i: int) -> Iterable[int]:
        return (i + 1,) if i < len(text) and self.matches(text[i]) else ()

    def describe(self) -> str:
        from wafer_grammar.ebnf.render import render_class

        return render_class(self.source)


@dataclass(eq=False)
class AutoTerm(Term):
    """A regular sub-expression matched by an automaton: every end, in linear time."""

    source: Expr
    automaton: Automaton

    def ends(self, text: str, i: int) -> Iterable[int]:
        return self.automaton.ends(text, i)

    def describe(self) -> str:
        shown = render_expr(self.source)
        return shown if len(shown) <= 40 else shown[:37] + "..."


@dataclass(eq=False)
class Dispatch:
    """One ``TagDispatch`` call: its tags, excluded strings and looping."""

    tags: tuple[str, ...]
    excludes: tuple[str, ...]
    loop: bool

    @property
    def longest(self) -> int:
        """The length of the longest tag or excluded string (0: none)."""
        return max(map(len, self.tags + self.excludes), default=0)

    def first_hit(self, text: str, i: int) -> tuple[int, str] | None:
        """The earliest end ``p`` of a tag or excluded string starting at or after ``i``,
        and the longest such word ending there (XGrammar prefers the longest tag)."""
        best: int | None = None
        for word in self.tags + self.excludes:
            at = text.find(word, i)
            if at >= 0 and (best is None or at + len(word) < best):
                best = at + len(word)
        if best is None:
            return None
        word = max(
            (
                w
                for w in self.tags + self.excludes
                if best - len(w) >= i and text.endswith(w, 0, best)
            ),
            key=len,
        )
        return best, word


@dataclass(eq=False)
class FreeTerm(Term):
    """TagDispatch free text: any run containing no tag and no excluded string."""

    dispatch: Dispatch

    def ends(self, text: str, i: int) -> Iterable[int]:
        return self.ends_given(self.dispatch.first_hit(text, i), i, len(text))

    def ends_given(self, hit: tuple[int, str] | None, i: int, n: int) -> Sequence[int]:
        """The ends from ``i`` in a text of length ``n`` whose first hit from ``i`` is ``hit``."""
        return range(i, n + 1 if hit is None else hit[0])

    def describe(self) -> str:
        return "free text"


@dataclass(eq=False)
class TagTerm(Term):
    """Free text followed by the first tag occurrence, when that tag is ``tag``."""

    dispatch: Dispatch
    tag: str

    def ends(self, text: str, i: int) -> Iterable[int]:
        return self.ends_given(self.dispatch.first_hit(text, i), i, len(text))

    def ends_given(self, hit: tuple[int, str] | None, i: int, n: int) -> Sequence[int]:
        """As for :class:`FreeTerm`: the hit's end, when the word there is this tag."""
        if hit is not None and hit[1] == self.tag and self.tag in self.dispatch.tags:
            return (hit[0],)
        return ()

    def describe(self) -> str:
        return render_string(self.tag)
