"""Derive members of a grammar: one generator, driven by hypothesis or by ``random``.

Generation builds a small *derivation tree* (:class:`Node`), not just a
string: near-misses edit it (drop a piece, one repetition more or less), and
the string is its leaves joined. Every decision goes through a
:class:`Chooser`: hypothesis's draws in property tests (so shrinking works on
the decisions: index 0 is always the simplest option), a seeded
``random.Random`` for the CLI (fast and reproducible, no hypothesis engine).

Bounds: a recursive rule nested deeper than ``max_depth``, or any rule once the
text has grown past ``max_size``, is written as its witness (shortest string);
unbounded repetitions take at most ``max_repeat`` extra copies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Protocol

from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    Literal,
    MacroCall,
    Repeat,
    RuleRef,
    Sequence,
)
from wafer_grammar.testing.plan import ANY_CHAR, DispatchPlan, Plan


class Chooser(Protocol):
    """The source of every decision; ``integer`` returns a value in ``[lo, hi]``."""

    def integer(self, lo: int, hi: int) -> int: ...


class RandomChooser:
    """Decisions from a seeded ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)


@dataclass
class Node:
    """A derivation: ``text`` for a leaf, else ``children``.

    ``kind`` is "text" (a literal or character), "seq", "rule" (``name`` set),
    "rep" (each child one copy of ``item``) or "opaque" (a piece that must not
    be taken apart, like a lazy rule's cut text).
    """

    kind: str
    text: str = ""
    children: list[Node] = field(default_factory=list)
    name: str | None = None
    item: Expr | None = None

    def flatten(self) -> str:
        if not self.children:
            return self.text
        return "".join(child.flatten() for child in self.children)

    def leaves(self) -> list[Node]:
        if not self.children:
            return [self] if self.text else []
        return [leaf for child in self.children for leaf in child.leaves()]

    def nodes(self) -> list[Node]:
        return [self, *(n for child in self.children for n in child.nodes())]


@dataclass(frozen=True)
class Bounds:
    """Limits that keep generated members small and finite."""

    max_depth: int = 5
    max_repeat: int = 4
    max_size: int = 200


class Generator:
    """Generates one member per :meth:`member` call."""

    def __init__(self, plan: Plan, chooser: Chooser, bounds: Bounds) -> None:
        self.plan = plan
        self.chooser = chooser
        self.bounds = bounds
        self.depth = 0
        self.size = 0

    def member(self) -> Node:
        self.depth = self.size = 0
        return self.rule(self.plan.grammar.root, exhausted=False)

    def exhausted(self) -> bool:
        return self.size >= self.bounds.max_size

    # -- one node per expression kind ---------------------------------------------

    def expr(self, expr: Expr, exhausted: bool) -> Node:
        exhausted = exhausted or self.exhausted()
        if isinstance(expr, Literal):
            self.size += len(expr.value)
            return Node("text", expr.value)
        if isinstance(expr, CharClass):
            return self.char(expr, exhausted)
        if isinstance(expr, RuleRef):
            return self.rule(expr.name, exhausted)
        if isinstance(expr, Sequence):
            return Node("seq", children=[self.expr(i, exhausted) for i in expr.items])
        if isinstance(expr, Choice):
            viable = self.plan.choices[id(expr)]
            pick = 0 if exhausted or len(viable) == 1 else self.chooser.integer(0, len(viable) - 1)
            return self.expr(viable[pick], exhausted)
        if isinstance(expr, Repeat):
            return self.repeat(expr, exhausted)
        assert isinstance(expr, MacroCall) and expr.name == "TagDispatch"
        return self.tag_dispatch(self.plan.dispatches[id(expr)], exhausted)

    def char(self, cc: CharClass, exhausted: bool) -> Node:
        pool = self.plan.pool(cc)
        if exhausted:
            ch = pool.first
        else:
            # Simple ASCII (two chances in four, so most text stays readable), then
            # the BMP, then all of Unicode; index 0 (simple) is where shrinking heads.
            simple = 2 if pool.simple else 0
            tiers = simple + len(pool.tiers)
            tier = self.chooser.integer(0, tiers - 1) if tiers > 1 else 0
            if tier < simple:
                ch = pool.simple[self.chooser.integer(0, len(pool.simple) - 1)]
            else:
                t = tier - simple
                ch = pool.nth(t, self.chooser.integer(0, pool.size(t) - 1))
        assert ch is not None  # empty classes were pruned with their alternative
        self.size += 1
        return Node("text", ch)

    def rule(self, name: str, exhausted: bool) -> Node:
        plan = self.plan
        recursive = name in plan.recursive
        if exhausted or (recursive and self.depth >= self.bounds.max_depth):
            witness = plan.witness[name]
            assert witness is not None
            self.size += len(witness)
            return Node("rule", name=name, children=[Node("opaque", witness)])
        rule = plan.rules[name]
        self.depth += recursive
        start = self.size
        try:
            body = self.expr(rule.body, exhausted)
        finally:
            self.depth -= recursive
        limit = plan.max_chars(name)
        text = body.flatten()
        if limit is not None and len(text) > limit:
            # Too long for max_chars: the witness fits (it was chosen to).
            witness = plan.witness[name] or ""
            self.size = start + len(witness)
            return Node("rule", name=name, children=[Node("opaque", witness)])
        if rule.option("lazy") is not None:
            cut = plan.lazy_cut(name, text)
            if cut != text:
                self.size = start + len(cut)
                return Node("rule", name=name, children=[Node("opaque", cut)])
        return Node("rule", name=name, children=[body])

    def repeat(self, expr: Repeat, exhausted: bool) -> Node:
        low = expr.min
        if expr.max == 0 or (low == 0 and self.plan.expr_witness(expr.item) is None):
            return Node("rep", item=expr.item)
        high = low + self.bounds.max_repeat if expr.max is None else expr.max
        high = min(high, low + self.bounds.max_repeat)
        count = low if exhausted or high == low else self.chooser.integer(low, high)
        # Copies past max_repeat (a large exact count like {500}) take no decisions.
        copies = [
            self.expr(expr.item, exhausted or i >= self.bounds.max_repeat) for i in range(count)
        ]
        return Node("rep", children=copies, item=expr.item)

    def free_text(self, exhausted: bool) -> str:
        if exhausted:
            return ""
        length = self.chooser.integer(0, self.bounds.max_repeat)
        return "".join(self.char(ANY_CHAR, False).text for _ in range(length))

    def tag_dispatch(self, dp: DispatchPlan, exhausted: bool) -> Node:
        out: list[Node] = []
        loop = dp.dispatch.loop
        rounds = 0
        if dp.pairs and not exhausted:
            rounds = self.chooser.integer(0, 2 if loop else 1)
        for _ in range(rounds):
            tag, target = dp.pairs[self.chooser.integer(0, len(dp.pairs) - 1)]
            free = dp.clean_free(self.free_text(exhausted))
            if not dp.tag_ok(free, tag):
                free = ""  # viable alone, checked when the plan was made
            out.append(Node("opaque", free + tag))
            out.append(self.rule(target, exhausted or self.exhausted()))
        if loop or not rounds:  # without looping, the dispatched rule ends the text
            tail = self.free_text(exhausted or self.exhausted())
            out.append(Node("opaque", dp.clean_free(tail)))
        return Node("seq", children=out)
