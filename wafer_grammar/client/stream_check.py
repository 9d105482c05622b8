"""A streamed answer checked against the request's grammar as its chunks land.

Each choice gets its own incremental matcher (:meth:`wafer_grammar.Grammar.matcher`):
every character is read once, so checking a stream costs about one ``accepts()``
of the whole answer. The first chunk that takes a choice out of the language
raises :class:`~wafer_grammar.errors.ConstraintViolation` (offset, line, column,
caret); the stream that raised it then closes its connection, so no more tokens
are paid for. Only the prefix is judged here: whether the answer is *complete*
is checked on the folded answer, as for a non-streamed one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wafer_grammar.errors import ConstraintViolation, TextUnjudgeable

if TYPE_CHECKING:
    from wafer_grammar.ebnf.matcher import Matcher
    from wafer_grammar.grammar import Grammar


class StreamGuard:
    """One matcher per choice index; :meth:`feed` raises at the first text outside."""

    def __init__(self, grammar: Grammar | str) -> None:
        from wafer_grammar.grammar import Grammar

        self.grammar = Grammar.from_ebnf(grammar) if isinstance(grammar, str) else grammar
        self.matchers: dict[int, Matcher] = {}
        self.judgeable = True  # False for token-level macros: no text check exists

    def feed(self, index: int, text: str) -> None:
        """Check the text choice ``index`` adds.

        Raises:
            ConstraintViolation: the choice's text so far is no prefix of any member.
        """
        if not text or not self.judgeable:
            return
        matcher = self.matchers.get(index)
        if matcher is None:
            try:
                matcher = self.matchers[index] = self.grammar.matcher()
            except TextUnjudgeable:
                self.judgeable = False
                return
        if not matcher.feed(text):
            mismatch = matcher.mismatch()
            assert mismatch is not None
            raise ConstraintViolation(mismatch)
