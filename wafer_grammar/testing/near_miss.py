"""``near_misses(grammar)``: strings one small edit away from a member, that the grammar rejects.

(The module is ``near_miss``, singular, so that it does not shadow the function
``wafer_grammar.testing.near_misses`` once imported.)

Negative tests written by hand test the mistakes their author thought of.
These are the mistakes a model makes: a piece dropped or doubled, two pieces
swapped, one repetition too many or too few, the text cut short, a bad escape,
stray whitespace. Each candidate comes from a generated member (a derivation
tree, so "a piece" is a literal or a character and "a repetition" is one copy
under ``*``/``+``/``{m,n}``) and is kept only if ``grammar.accepts`` says no:
a near-miss is never a member.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import reject
from hypothesis import strategies as st

from wafer_grammar.ebnf.render import render_string
from wafer_grammar.grammar import Grammar
from wafer_grammar.testing.generate import Bounds, Chooser, Generator, Node, RandomChooser
from wafer_grammar.testing.plan import Plan, make_plan
from wafer_grammar.testing.strategies import DrawChooser, as_grammar

#: How many edits of one member are tried before another member is drawn.
TRIES = 12
_BAD_ESCAPES = "qx'z9"
_WHITESPACE = (" ", "\n", "\t")


@dataclass(frozen=True)
class NearMiss:
    """A rejected string, the member it came from, and the edit (in words)."""

    text: str
    member: str
    edit: str


def _pieces(tree: Node) -> list[tuple[int, str]]:
    """(offset, text) of every non-empty leaf, in order."""
    out: list[tuple[int, str]] = []
    at = 0
    for leaf in tree.leaves():
        out.append((at, leaf.text))
        at += len(leaf.text)
    return out


def _spans(tree: Node) -> list[tuple[Node, int, int]]:
    """(node, start, end) of every node, pre-order."""
    out: list[tuple[Node, int, int]] = []

    def visit(node: Node, start: int) -> int:
        entry = len(out)
        out.append((node, start, start))
        end = start + len(node.text) if not node.children else start
        for child in node.children:
            end = visit(child, end)
        out[entry] = (node, start, end)
        return end

    visit(tree, 0)
    return out


Edit = Callable[[Node, str, Chooser, Plan], "tuple[str, str] | None"]


def _drop(tree: Node, text: str, ch: Chooser, plan: Plan) -> tuple[str, str] | None:
    pieces = _pieces(tree)
    if not pieces:
        return None
    at, piece = pieces[ch.integer(0, len(pieces) - 1)]
    return text[:at] + text[at + len(piece) :], f"dropped {render_string(piece)} at offset {at}"


def _duplicate(tree: Node, text: str, ch: Chooser, plan: Plan) -> tuple[str, str] | None:
    pieces = _pieces(tree)
    if not pieces:
        return None
    at, piece = pieces[ch.integer(0, len(pieces) - 1)]
    return text[:at] + piece + text[at:], f"doubled {render_string(piece)} at offset {at}"


def _swap(tree: Node, text: str, ch: Chooser, plan: Plan) -> tuple[str, str] | None:
    pieces = _pieces(tree)
    if len(pieces) < 2:
        return None
    i = ch.integer(0, len(pieces) - 2)
    (at, a), (_, b) = pieces[i], pieces[i + 1]
    if a == b:
        return None
    swapped = text[:at] + b + a + text[at + len(a) + len(b) :]
    return swapped, f"swapped {render_string(a)} and {render_string(b)} at offset {at}"


def _repeat(tree: Node, text: str, ch: Chooser, plan: Plan) -> tuple[str, str] | None:
    reps = [(n, s, e) for n, s, e in _spans(tree) if n.kind == "rep" and n.item is not None]
    if not reps:
        return None
    node, start, end = reps[ch.integer(0, len(reps) - 1)]
    copies = [c.flatten() for c in node.children]
    if copies and ch.integer(0, 1) == 0:
        j = ch.integer(0, len(copies) - 1)
        new = copies[:j] + copies[j + 1 :]
        what = f"one repetition fewer ({len(copies)} -> {len(new)}) at offset {start}"
    else:
        assert node.item is not None
        extra = copies[ch.integer(0, len(copies) - 1)] if copies else plan.expr_witness(node.item)
        if not extra:
            return None
        new = [*copies, extra]
        what = f"one repetition more ({len(copies)} -> {len(new)}) at offset {start}"
    return text[:start] + "".join(new) + text[end:], what


def _truncate(tree: Node, text: str, ch: Chooser, plan: Plan) -> tuple[str, str] | None:
    if not text:
        return None
    cut = ch.integer(0, len(text) - 1)
    return text[:cut], f"cut short after {cut} of {len(text)} characters"


def _bad_escape(tree: Node, text: str, ch: Chooser, plan: Plan) -> tuple[str, str] | None:
    slashes = [i for i, c in enumerate(text) if c == "\\" and i + 1 < len(text)]
    if not slashes:
        return None
    at = slashes[ch.integer(0, len(slashes) - 1)]
    bad = _BAD_ESCAPES[ch.integer(0, len(_BAD_ESCAPES) - 1)]
    if text[at + 1] == bad:
        return None
    new = text[: at + 1] + bad + text[at + 2 :]
    return new, f"bad escape {render_string(new[at : at + 2])} at offset {at}"


def _whitespace(tree: Node, text: str, ch: Chooser, plan: Plan) -> tuple[str, str] | None:
    bounds = sorted({0, len(text), *(at for at, _ in _pieces(tree))})
    at = bounds[ch.integer(0, len(bounds) - 1)]
    space = _WHITESPACE[ch.integer(0, len(_WHITESPACE) - 1)]
    return text[:at] + space + text[at:], f"stray {render_string(space)} at offset {at}"


# Order matters for shrinking: hypothesis heads toward the first edit.
EDITS: tuple[Edit, ...] = (
    _drop,
    _duplicate,
    _swap,
    _repeat,
    _truncate,
    _bad_escape,
    _whitespace,
)


def edit_member(
    grammar: Grammar, plan: Plan, tree: Node, chooser: Chooser, tries: int = TRIES
) -> NearMiss | None:
    """One rejected edit of the member ``tree``, or None after ``tries`` accepted ones."""
    text = tree.flatten()
    for _ in range(tries):
        edit = EDITS[chooser.integer(0, len(EDITS) - 1)]
        found = edit(tree, text, chooser, plan)
        if found is not None and found[0] != text and not grammar.accepts(found[0]):
            return NearMiss(found[0], text, found[1])
    return None


@st.composite
def _near_misses(draw: st.DrawFn, grammar: Grammar, plan: Plan, bounds: Bounds) -> str:
    chooser = DrawChooser(draw)
    tree = Generator(plan, chooser, bounds).member()
    if not grammar.accepts(tree.flatten()):
        reject()
    found = edit_member(grammar, plan, tree, chooser)
    if found is None:
        reject()  # every edit tried is still a member: draw another member
    return found.text


def near_misses(
    grammar: Grammar | str,
    *,
    max_depth: int = 5,
    max_repeat: int = 4,
    max_size: int = 200,
) -> st.SearchStrategy[str]:
    """A hypothesis strategy of strings ``grammar`` rejects, each one small edit from a member.

    The edits: drop, double or swap a piece; one repetition more or fewer; cut
    the text short; a bad escape after a backslash; stray whitespace. A grammar
    whose every small edit is still a member (``root ::= [^]*``) has no
    near-misses: hypothesis then fails the test with its ``filter_too_much``
    health check (or ``Unsatisfiable``) rather than pass it vacuously.

    Parameters are those of :func:`~wafer_grammar.testing.strings`.

    Raises:
        TextUnjudgeable: the grammar uses token-level macros (``Token`` ...).
        EmptyLanguage: the root rule matches no string.
    """
    g = as_grammar(grammar)
    plan = make_plan(g)
    bounds = Bounds(max_depth=max_depth, max_repeat=max_repeat, max_size=max_size)
    return _near_misses(g, plan, bounds)


def sample_near_misses(
    grammar: Grammar,
    n: int,
    *,
    seed: int | None = None,
    bounds: Bounds | None = None,
    plan: Plan | None = None,
) -> list[NearMiss]:
    """Up to ``n`` distinct near-misses without hypothesis (stops after ``20 * n`` members)."""
    plan = plan or make_plan(grammar)
    chooser = RandomChooser(random.Random(seed))
    gen = Generator(plan, chooser, bounds or Bounds())
    out: dict[str, NearMiss] = {}
    for _ in range(20 * n):
        if len(out) >= n:
            break
        tree = gen.member()
        if not grammar.accepts(tree.flatten()):
            continue
        found = edit_member(grammar, plan, tree, chooser)
        if found is not None and found.text not in out:
            out[found.text] = found
    return list(out.values())
