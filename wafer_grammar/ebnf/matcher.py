"""An incremental matcher: feed a stream chunk by chunk, know at once when it leaves the language.

Which engine runs (the acceptor's choice, each exact):

1. a regular root: its automaton, one state set carried across chunks;
2. a grammar with a conflict-free LALR(1) table: :class:`~.lr_run.LRRun`, whose
   configurations carry a token in progress across chunks;
3. otherwise (and from the chunk where an LR run meets more tokenizations than
   it keeps): the exact Earley recognizer, fed incrementally
   (:class:`~.earley_run.EarleyRun`: the chart is kept, a terminal cut by the end
   of a chunk resumes where it stopped, TagDispatch's included).

Each reads every character once: a stream costs about one check of its whole text.
"""

from __future__ import annotations

from wafer_grammar.ebnf.acceptor import Acceptor
from wafer_grammar.ebnf.automaton import Automaton
from wafer_grammar.ebnf.earley_run import EarleyRun
from wafer_grammar.ebnf.lr_run import LRRun, Overflow, describe_ranges
from wafer_grammar.ebnf.render import render_string
from wafer_grammar.errors import OutputMismatch

#: Automaton states, an LR run, or the incremental Earley chart.
_State = frozenset[int] | LRRun | EarleyRun


class Matcher:
    """Membership of a growing text (made by :meth:`wafer_grammar.Grammar.matcher`).

    ``feed(chunk)`` returns False as soon as no continuation of the text can be
    a member; the matcher then stays failed, ``position`` is the length of the
    longest viable prefix and :meth:`mismatch` says where and what was expected.
    """

    def __init__(self, acceptor: Acceptor) -> None:
        acceptor.plan()  # raises TextUnjudgeable for token-level macros
        self._acceptor = acceptor
        self._automaton: Automaton | None = acceptor.automaton
        self._state: _State
        if self._automaton is not None:
            self._state = self._automaton.start
        else:
            self._state = acceptor.lr_run() or self._earley("")
        self._chunks: list[str] = []
        self._length = 0  # characters of the viable prefix read so far
        self._failed = False
        self._expected_at_failure: list[str] = []
        self._offending = ""  # the character that left the language ("": end of text)

    # -- reading -------------------------------------------------------------------

    def feed(self, chunk: str) -> bool:
        """Read ``chunk``; whether the text so far is still a viable prefix."""
        state = self._state
        if type(state) is LRRun and not self._failed:
            try:
                if state.feed(chunk):  # the common case, kept short: a stream calls it often
                    self._chunks.append(chunk)
                    self._length += len(chunk)
                    return True
            except Overflow:  # too ambiguous for the LR run: the Earley chart from here on
                self._state = self._earley(self.text)
        if self._failed:
            return False
        if not chunk:
            return True
        if self._step(chunk):
            self._chunks.append(chunk)
            self._length += len(chunk)
            return True
        self._failed = True
        return False

    def _step(self, chunk: str) -> bool:
        state = self._state
        if isinstance(state, frozenset):
            assert self._automaton is not None
            step = self._automaton.step
            for k, ch in enumerate(chunk):
                nxt = step(state, ch)
                if not nxt:
                    self._stop(
                        chunk,
                        k,
                        describe_ranges(
                            self._automaton.next_ranges(state), end=self._automaton.accepting(state)
                        ),
                    )
                    return False
                state = nxt
            self._state = state
            return True
        if isinstance(state, LRRun):
            try:
                if state.feed(chunk):
                    return True
                # Which character left the language: feed the chunk again, one at a time.
                for k, ch in enumerate(chunk):
                    if not state.feed(ch):
                        self._stop(chunk, k, state.expected())
                        return False
            except Overflow:
                # Too ambiguous for the LR run: the Earley chart from here on.
                state = self._state = self._earley(self.text)
        if state.feed(chunk):
            return True
        text = self.text + chunk
        mismatch = self._acceptor.mismatch(text)
        at = max(len(self.text), min(mismatch.offset, len(text) - 1))
        self._stop(chunk, at - len(self.text), mismatch.expected)
        return False

    def _earley(self, text: str) -> EarleyRun:
        """The incremental Earley chart after ``text``."""
        run = EarleyRun(self._acceptor.recognizer().g)
        run.feed(text)
        return run

    def _stop(self, chunk: str, k: int, expected: list[str]) -> None:
        """The text left the language at ``chunk[k]``: keep what came before it."""
        self._chunks.append(chunk[:k])
        self._length += k
        self._offending = chunk[k]
        self._expected_at_failure = expected

    # -- state ---------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The viable prefix read so far."""
        if len(self._chunks) > 1:
            self._chunks = ["".join(self._chunks)]
        return self._chunks[0] if self._chunks else ""

    @property
    def position(self) -> int:
        """How many characters were read while the text stayed a viable prefix."""
        return self._length

    @property
    def failed(self) -> bool:
        """Whether a chunk took the text out of the language (the matcher then stays failed)."""
        return self._failed

    @property
    def is_complete(self) -> bool:
        """Whether the text so far is a member (False once failed)."""
        if self._failed:
            return False
        state = self._state
        if isinstance(state, frozenset):
            assert self._automaton is not None
            return self._automaton.accepting(state)
        if isinstance(state, LRRun):
            return state.complete()
        return state.accepted

    def expected(self) -> list[str]:
        """What may come next (at the failure, once failed), as :class:`OutputMismatch` lists it."""
        if self._failed:
            return list(self._expected_at_failure)
        return self._expected()

    def _expected(self) -> list[str]:
        state = self._state
        if isinstance(state, frozenset):
            assert self._automaton is not None
            ranges = self._automaton.next_ranges(state)
            return describe_ranges(ranges, end=self._automaton.accepting(state))
        if isinstance(state, LRRun):
            return state.expected()
        return self._acceptor.expected_after(self.text)

    def mismatch(self) -> OutputMismatch | None:
        """Where the text left the language, with a caret (None while it has not)."""
        if not self._failed:
            return None
        return OutputMismatch(
            f"unexpected {render_string(self._offending)}",
            text=self.text + self._offending,
            offset=self._length,
            expected=self._expected_at_failure,
        )

    # -- forks ---------------------------------------------------------------------

    def copy(self) -> Matcher:
        """An independent matcher in the same state (cheap: shares what never changes)."""
        other = Matcher.__new__(Matcher)
        other.__dict__.update(self.__dict__)
        other._chunks = list(self._chunks)
        other._expected_at_failure = list(self._expected_at_failure)
        if isinstance(self._state, LRRun):
            other._state = self._state.copy()
        elif isinstance(self._state, EarleyRun) and not self._failed:
            other._state = self._earley(self.text)  # a chart is rebuilt, not shared
        return other

    def snapshot(self) -> Matcher:
        """A saved state for :meth:`restore` (a copy)."""
        return self.copy()

    def restore(self, snapshot: Matcher) -> None:
        """Go back to a state saved with :meth:`snapshot` (it stays usable)."""
        saved = snapshot.copy()
        self.__dict__.update(saved.__dict__)
