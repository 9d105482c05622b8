"""lark's LALR(1) table, when it is conflict-free, with an exact scanner per terminal.

The table comes from the acceptance grammar lark already built for the fast
path (:mod:`wafer_grammar.ebnf.to_lark`); :mod:`.lr_run` drives it with every
tokenization rather than lark's longest-match lexer. :func:`build_tables`
returns None, and the caller keeps the exact Earley recognizer, unless:

- lark's LALR analysis finds no conflict in strict mode (lark otherwise resolves
  shift/reduce conflicts as shift, silently pruning derivations);
- every symbol is productive (a terminal with an empty language counts as not):
  then every stack the parser reaches is a viable prefix that some member
  completes;
- every terminal has an automaton within budget.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lark import Lark
from lark.exceptions import GrammarError
from lark.parsers.lalr_analysis import LALR_Analyzer, Shift

from wafer_grammar.ebnf.automaton import Automaton, build_automaton
from wafer_grammar.ebnf.syntax import Expr
from wafer_grammar.ebnf.to_lark import LarkGrammar

END = "$END"

#: The longest chunk :meth:`Scanner.resume` remembers, and how many it keeps per DFA state.
RESUMED_CHUNK = 32
RESUMED_PER_STATE = 4096


class Scanner:
    """One terminal's matcher: an integer DFA over its automaton's state sets, built lazily.

    ``regex`` is set only when the terminal's language is prefix-free: a match
    of it at a position is then the one and only token of this terminal there,
    so Python's ``re`` (C speed; the pattern is linear-time, as the fast path
    already requires) may find it instead of the DFA.
    """

    def __init__(self, name: str, automaton: Automaton, pattern: str | None) -> None:
        self.name = name
        self.automaton = automaton
        self.regex: re.Pattern[str] | None = re.compile(pattern) if pattern is not None else None
        self._ids: dict[frozenset[int], int] = {}
        self.sets: list[frozenset[int]] = []
        self.trans: list[dict[str, int]] = []
        #: Per DFA state: a short chunk -> :meth:`scan` of it from that state (see :meth:`resume`).
        self.resumed: list[dict[str, tuple[tuple[int, ...], int]]] = []
        self.accepting: list[bool] = []
        self.closed: list[bool] = []  # no character can follow (a prefix-free match's end)
        self.start = self._id(automaton.start)
        #: The terminals that may follow this one, and a memo of which next characters
        #: can begin one of them (set by :func:`build_tables`).
        self.followers: tuple[Scanner, ...] = ()
        self.follow_ok: dict[str, bool] = {}

    def may_follow(self, ch: str) -> bool:
        """Whether some token that may follow this terminal can begin with ``ch``."""
        found = self.follow_ok.get(ch)
        if found is None:
            found = self.follow_ok[ch] = any(sc.step(sc.start, ch) >= 0 for sc in self.followers)
        return found

    def _id(self, states: frozenset[int]) -> int:
        found = self._ids.get(states)
        if found is None:
            found = self._ids[states] = len(self.sets)
            self.sets.append(states)
            self.trans.append({})
            self.resumed.append({})
            self.accepting.append(self.automaton.accepting(states))
            self.closed.append(not self.automaton.next_ranges(states))
        return found

    def step(self, state: int, ch: str) -> int:
        """The DFA state after ``ch`` (-1: dead)."""
        nxt = self.trans[state].get(ch)
        if nxt is None:
            moved = self.automaton.step(self.sets[state], ch)
            nxt = self._id(moved) if moved else -1
            self.trans[state][ch] = nxt
        return nxt

    def scan(self, text: str, i: int, state: int) -> tuple[list[int], int]:
        """Where a match from ``state`` over ``text[i:]`` may end, and the state at the end.

        An end is kept only inside ``text`` and before a character that may begin
        a following token (the next token would die at once otherwise); the state
        at the end of ``text`` is -1 when the match died, so a match reaching the
        end is that state, not an end.
        """
        trans, accepting, follow_ok = self.trans, self.accepting, self.follow_ok
        ends: list[int] = []
        n = len(text)
        while i < n:
            ch = text[i]
            nxt = trans[state].get(ch)
            if nxt is None:
                nxt = self.step(state, ch)
            if nxt < 0:
                return ends, -1
            state = nxt
            i += 1
            if accepting[state] and i < n:
                ok = follow_ok.get(text[i])
                if ok is None:
                    ok = self.may_follow(text[i])
                if ok:
                    ends.append(i)
        return ends, state

    def resume(self, chunk: str, state: int) -> tuple[tuple[int, ...], int]:
        """:meth:`scan` of a whole ``chunk`` from ``state``, remembered for short chunks.

        A stream's chunks are few distinct strings (a model's tokens, a document's
        indentation), read again and again from the same few states inside a token:
        the remembered answer turns reading one into a dictionary lookup. It is a
        pure function of the state and the chunk, so remembering it is exact;
        memory is bounded by :data:`RESUMED_CHUNK` and :data:`RESUMED_PER_STATE`.
        """
        memo = self.resumed[state]
        found = memo.get(chunk)
        if found is None:
            ends, final = self.scan(chunk, 0, state)
            found = (tuple(ends), final)
            if len(chunk) <= RESUMED_CHUNK and len(memo) < RESUMED_PER_STATE:
                memo[chunk] = found
        return found

    def tokens(self, text: str, i: int) -> tuple[list[int], int]:
        """:meth:`scan` from the start state, through ``re`` when that is exact."""
        if self.regex is not None:
            m = self.regex.match(text, i)
            if m is not None and m.end() < len(text):
                # prefix-free: nothing longer, nothing pending
                return ([m.end()] if self.may_follow(text[m.end()]) else []), -1
        return self.scan(text, i, self.start)


@dataclass
class Tables:
    """The LALR(1) table in integers: a shift is ``s >= 0``, a reduce of rule ``r`` is ``~r``."""

    actions: list[dict[str, int]]
    gotos: list[dict[str, int]]
    rule_lhs: list[str]
    rule_len: list[int]
    start: int
    end: int
    scanners: dict[str, Scanner]
    #: Per state: the scanners of the terminals it has an action for.
    candidates: list[tuple[Scanner, ...]]
    #: Per state: next character -> the candidates whose first character it can be.
    first: list[dict[str, tuple[Scanner, ...]]] = field(default_factory=list)

    def starts(self, state: int, ch: str) -> tuple[Scanner, ...]:
        row = self.first[state]
        found = row.get(ch)
        if found is None:
            found = row[ch] = tuple(
                sc for sc in self.candidates[state] if sc.step(sc.start, ch) >= 0
            )
        return found

    def shift(self, stack: list[int], term: str) -> bool:
        """Reduce as the table says, then shift ``term`` (in place; False: a syntax error)."""
        actions, gotos, lhs, size = self.actions, self.gotos, self.rule_lhs, self.rule_len
        while True:
            act = actions[stack[-1]].get(term)
            if act is None:
                return False
            if act >= 0:
                stack.append(act)
                return True
            rule = ~act
            k = size[rule]
            if k:
                del stack[-k:]
            stack.append(gotos[stack[-1]][lhs[rule]])

    def accepts(self, stack: list[int]) -> bool:
        """Whether the tokens on ``stack`` are a complete sentence (``stack`` is kept)."""
        work = stack[:]
        actions, gotos, lhs, size = self.actions, self.gotos, self.rule_lhs, self.rule_len
        while True:
            act = actions[work[-1]].get(END)
            if act is None or act >= 0:
                return False
            rule = ~act
            k = size[rule]
            if k:
                del work[-k:]
            work.append(gotos[work[-1]][lhs[rule]])
            if work[-1] == self.end:
                return True


def build_tables(parser: Lark, lg: LarkGrammar, bodies: Mapping[str, Expr]) -> Tables | None:
    """The exact tables for ``parser`` (lark LALR built from ``lg``), or None (see the module)."""
    conf: Any = parser.parser.parser_conf
    try:
        analyzer: Any = LALR_Analyzer(conf, strict=True)
        analyzer.compute_lalr()
    except GrammarError:
        return None
    table: Any = parser.parser.parser._parse_table
    start_name = conf.start[0]
    scanners: dict[str, Scanner] = {}
    for name, (pattern, expr) in lg.terminal_defs.items():
        automaton = build_automaton(expr, bodies)
        if automaton is None:
            return None
        scanners[name] = Scanner(name, automaton, pattern if automaton.prefix_free() else None)
    rules: list[Any] = list(conf.rules)
    if not _productive(rules, scanners):
        return None
    index = {id(rule): k for k, rule in enumerate(rules)}
    actions: list[dict[str, int]] = []
    gotos: list[dict[str, int]] = []
    states = sorted(table.states)
    if states != list(range(len(states))):
        return None
    for state in states:
        acts: dict[str, int] = {}
        goto: dict[str, int] = {}
        for sym, (kind, arg) in table.states[state].items():
            sym = str(sym)  # lark's names are Tokens, whose == is Python code
            if kind is Shift:
                (acts if sym == END or sym in scanners else goto)[sym] = arg
            else:
                if id(arg) not in index:
                    return None
                acts[sym] = ~index[id(arg)]
        if any(sym != END and sym not in scanners for sym in acts):
            return None  # a terminal without a definition (never for exact grammars)
        actions.append(acts)
        gotos.append(goto)
    candidates = [tuple(scanners[t] for t in acts if t != END) for acts in actions]
    follow: dict[str, set[str]] = {name: set() for name in scanners}
    for acts in actions:
        for sym, act in acts.items():
            if sym != END and act >= 0:
                follow[sym].update(t for t in actions[act] if t != END)
    for name, names in follow.items():
        scanners[name].followers = tuple(scanners[t] for t in sorted(names))
    return Tables(
        actions=actions,
        gotos=gotos,
        rule_lhs=[str(rule.origin.name) for rule in rules],
        rule_len=[len(rule.expansion) for rule in rules],
        start=table.start_states[start_name],
        end=table.end_states[start_name],
        scanners=scanners,
        candidates=candidates,
        first=[{} for _ in actions],
    )


def _productive(rules: list[Any], scanners: Mapping[str, Scanner]) -> bool:
    """Whether every rule's left side derives some text (each terminal matching something)."""
    good = {name for name, sc in scanners.items() if sc.automaton.min_length() is not None}
    changed = True
    while changed:
        changed = False
        for rule in rules:
            name = rule.origin.name
            if name not in good and all(sym.name in good for sym in rule.expansion):
                good.add(name)
                changed = True
    return all(rule.origin.name in good for rule in rules) and all(
        sym.name in good for rule in rules for sym in rule.expansion
    )
