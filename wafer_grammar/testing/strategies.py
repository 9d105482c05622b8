"""``strings(grammar)``: a hypothesis strategy of the grammar's members.

Derived from the grammar itself, character by character (see
:mod:`wafer_grammar.testing.generate`), and every value is checked with
``grammar.accepts`` before it is handed out, so a generated member can never
disagree with the acceptor: where generation is inexact (a ``lazy`` rule cut
short in an unusual context, text around ``TagDispatch`` forming a tag) the
value is filtered out instead of reported.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar

from hypothesis import strategies as st

from wafer_grammar.grammar import Grammar
from wafer_grammar.testing.generate import Bounds, Generator, Node, RandomChooser
from wafer_grammar.testing.plan import Plan, make_plan

T = TypeVar("T")


class DrawChooser:
    """Decisions drawn by hypothesis: each is an integer that shrinks toward ``lo``."""

    def __init__(self, draw: Callable[[st.SearchStrategy[int]], int]) -> None:
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))


def as_grammar(grammar: Grammar | str) -> Grammar:
    """A :class:`Grammar` as is, or EBNF text parsed into one."""
    return grammar if isinstance(grammar, Grammar) else Grammar.from_ebnf(grammar)


@st.composite
def derivations(draw: st.DrawFn, plan: Plan, bounds: Bounds) -> Node:
    """Derivation trees of members (not yet checked with ``accepts``)."""
    return Generator(plan, DrawChooser(draw), bounds).member()


def strings(
    grammar: Grammar | str,
    *,
    max_depth: int = 5,
    max_repeat: int = 4,
    max_size: int = 200,
) -> st.SearchStrategy[str]:
    """A hypothesis strategy of strings ``grammar`` accepts.

    Shrinks toward short, simple members: the shortest alternative, the fewest
    repetitions, ``a``/``0`` before other characters.

    Parameters:
        grammar: a :class:`Grammar`, or EBNF text.
        max_depth: how deep a recursive rule may nest before it is written as
            its shortest string.
        max_repeat: at most this many copies beyond a repetition's minimum.
        max_size: past this many characters, every further rule is written as
            its shortest string.

    Raises:
        TextUnjudgeable: the grammar uses token-level macros (``Token`` ...).
        EmptyLanguage: the root rule matches no string.
    """
    g = as_grammar(grammar)
    plan = make_plan(g)
    bounds = Bounds(max_depth=max_depth, max_repeat=max_repeat, max_size=max_size)
    return derivations(plan, bounds).map(Node.flatten).filter(g.accepts)


def sample_members(
    grammar: Grammar,
    n: int,
    *,
    seed: int | None = None,
    bounds: Bounds | None = None,
    plan: Plan | None = None,
) -> list[Node]:
    """Up to ``n`` distinct members as derivation trees, without hypothesis.

    Fewer come back when the language has fewer members than ``n`` (or they are
    hard to hit at random: it stops after ``20 * n`` tries).
    """
    plan = plan or make_plan(grammar)
    gen = Generator(plan, RandomChooser(random.Random(seed)), bounds or Bounds())
    out: dict[str, Node] = {}
    for _ in range(20 * n):
        if len(out) >= n:
            break
        tree = gen.member()
        text = tree.flatten()
        if text not in out and grammar.accepts(text):
            out[text] = tree
    return list(out.values())
