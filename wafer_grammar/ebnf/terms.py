"""The terminals of the exact recognizer: each lists *every* end of a match.

Single characters, whole literals, automata over regular sub-expressions, and
the two scanners of ``TagDispatch`` (free text, and free text up to a tag).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
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


#: Characters whose move is remembered per node of a TagDispatch automaton.
MOVES_PER_NODE = 4096


@dataclass(eq=False)
class Dispatch:
    """One ``TagDispatch`` call: its tags, excluded strings and looping, and the
    automaton XGrammar reads its free text with.

    The automaton is Aho-Corasick's over the tags and excluded strings, read as
    XGrammar 0.2.8 reads it (pinned against its matcher): a node *is* a word only
    when its path is that word (a word that is merely a suffix of the path, as
    ``x>`` in ``<x>``, is not seen); free text may stop at any node that is not a
    word; at a tag's node the tag may be dispatched, and the text may also go on
    along the node's children (``<`` then ``<x>``) but not past it otherwise; an
    excluded string's node only goes on along its children. From any other node
    a character without a child follows failure links as usual.
    """

    tags: tuple[str, ...]
    excludes: tuple[str, ...]
    loop: bool
    children: list[dict[str, int]] = field(init=False, repr=False)
    fail: list[int] = field(init=False, repr=False)
    word: list[bool] = field(init=False, repr=False)  # the path is a tag or excluded string
    #: Per node, where a match may end: free text (key None) off the words, a tag at its own.
    ends_at: dict[str | None, list[bool]] = field(init=False, repr=False)
    _moves: list[dict[str, int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.children, self.word = [{}], [False]
        tag_nodes: dict[str, int] = {}
        for text in self.tags + self.excludes:
            node = 0
            for ch in text:
                nxt = self.children[node].get(ch)
                if nxt is None:
                    nxt = self.children[node][ch] = len(self.children)
                    self.children.append({})
                    self.word.append(False)
                node = nxt
            self.word[node] = True
            if text in self.tags:
                tag_nodes[text] = node
        self.ends_at = {None: [not w for w in self.word]}
        for tag, at in tag_nodes.items():
            self.ends_at[tag] = [node == at for node in range(len(self.word))]
        # Failure links, breadth first: the longest proper suffix of a node's path in the trie.
        self.fail = [0] * len(self.children)
        queue = list(self.children[0].values())
        for node in queue:
            for ch, child in self.children[node].items():
                self.fail[child] = 0 if node == 0 else self._goto(self.fail[node], ch)
                queue.append(child)
        self._moves = [{} for _ in self.children]

    def _goto(self, node: int, ch: str) -> int:
        """Aho-Corasick's completed goto: a child, else the failure chain's, else the root."""
        while True:
            found = self.children[node].get(ch)
            if found is not None:
                return found
            if node == 0:
                return 0
            node = self.fail[node]

    def step(self, node: int, ch: str) -> int:
        """The node after ``ch`` (-1: the text cannot go on as free text here)."""
        moves = self._moves[node]
        found = moves.get(ch)
        if found is None:
            child = self.children[node].get(ch)
            if child is not None:
                found = child
            elif self.word[node]:
                found = -1  # a tag must be dispatched here, an excluded string ends it all
            else:
                found = self._goto(self.fail[node], ch)  # the root fails to itself
            if len(moves) < MOVES_PER_NODE:  # free text may use any of 1.1M code points
                moves[ch] = found
        return found

    def read(self, text: str, i: int, node: int, tag: str | None) -> tuple[list[int], int]:
        """Read ``text[i:]`` from ``node``: where free text may stop (``tag`` None) or
        ``tag`` may be dispatched, after at least one character, and the node at the
        end (-1: the text cannot go on)."""
        ends, step, marks = list[int](), self.step, self.ends_at[tag]
        for p in range(i, len(text)):
            node = step(node, text[p])
            if node < 0:
                return ends, -1
            if marks[node]:
                ends.append(p + 1)
        return ends, node


@dataclass(eq=False)
class FreeTerm(Term):
    """TagDispatch free text: it may stop wherever the automaton is not on a word."""

    dispatch: Dispatch

    def ends(self, text: str, i: int) -> Iterable[int]:
        return [i, *self.resume(text, i, 0)[0]]

    def resume(self, text: str, i: int, node: int) -> tuple[list[int], int]:
        """:meth:`Dispatch.read` for free text."""
        return self.dispatch.read(text, i, node, None)

    def describe(self) -> str:
        return "free text"


@dataclass(eq=False)
class TagTerm(Term):
    """Free text followed by the tag ``tag``, dispatched where the automaton reaches it."""

    dispatch: Dispatch
    tag: str

    def ends(self, text: str, i: int) -> Iterable[int]:
        return self.resume(text, i, 0)[0]

    def resume(self, text: str, i: int, node: int) -> tuple[list[int], int]:
        """:meth:`Dispatch.read` for this tag."""
        return self.dispatch.read(text, i, node, self.tag)

    def describe(self) -> str:
        return render_string(self.tag)
