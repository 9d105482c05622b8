"""Is a text in the grammar's language? Fast with lark LALR, exact with our own Earley.

Which path answers:

1. Grammars whose reachable rules use ``lazy``, ``max_chars`` or ``TagDispatch``
   (no exact lark form): always the exact recognizer
   (:mod:`wafer_grammar.ebnf.recognizer`).
2. A regular root (the whole language is one regex): ``re.fullmatch``, exact
   because backtracking explores every split.
3. Otherwise lark LALR with the contextual lexer first. An LALR *accept* is a
   real derivation, so it is trusted; an LALR *reject* (its longest-match lexer
   can miss a valid split), or a grammar LALR cannot build (conflicts), goes to
   the exact recognizer.

Token-level macros (``Token``, ``ExcludeToken``, ``TokenTagDispatch``) raise
:class:`~wafer_grammar.errors.TextUnjudgeable` on first use.
"""

from __future__ import annotations

import re
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import GrammarError as LarkGrammarError
from lark.exceptions import LarkError, UnexpectedInput

from wafer_grammar.ebnf.derivation import build_tree, merge_text
from wafer_grammar.ebnf.desugar import check_text_judgeable, desugar
from wafer_grammar.ebnf.recognizer import Recognizer, compile_grammar
from wafer_grammar.ebnf.render import render_string
from wafer_grammar.ebnf.syntax import GrammarAST
from wafer_grammar.ebnf.to_lark import ANON, LarkGrammar, to_lark
from wafer_grammar.errors import OutputMismatch

_UNAVAILABLE = object()


class Acceptor:
    """Acceptance, parse trees and prefix checks for one grammar.

    Parsers are built on first use and cached on the instance.

    Parameters
    ----------
    ast:
        A valid grammar (as :func:`wafer_grammar.ebnf.parser.parse_ebnf` returns it).
    """

    def __init__(self, ast: GrammarAST) -> None:
        self.ast = ast
        self._lark_grammar: LarkGrammar | None = None
        self._lalr: Any = None
        self._fast_lalr: Any = None
        self._root_re: re.Pattern[str] | None = None
        self._recognizer: Recognizer | None = None

    # -- building (lazily) ---------------------------------------------------------

    def lark_grammar(self) -> LarkGrammar:
        """The translation to lark (raises ``TextUnjudgeable`` for token-level macros)."""
        if self._lark_grammar is None:
            check_text_judgeable(self.ast)
            self._lark_grammar = to_lark(desugar(self.ast))
            if self._lark_grammar.root_pattern is not None and self._lark_grammar.exact:
                self._root_re = re.compile(self._lark_grammar.root_pattern)
        return self._lark_grammar

    def _lalr_parser(self) -> Lark | None:
        """The faithful LALR parser (trees keep every regular rule's name)."""
        if self._lalr is None:
            self._lalr = _build_lalr(self.lark_grammar(), keep_all_tokens=True)
        return None if self._lalr is _UNAVAILABLE else self._lalr

    def _fast_parser(self) -> Lark | None:
        """The acceptance-only LALR parser (regular runs folded into single tokens)."""
        if self._fast_lalr is None:
            lg = self.lark_grammar()
            self._fast_lalr = _UNAVAILABLE
            if lg.exact:
                fast = to_lark(desugar(self.ast), merge_regular=True)
                self._fast_lalr = _build_lalr(fast, keep_all_tokens=False)
                if self._fast_lalr is _UNAVAILABLE:  # merging can add conflicts
                    self._fast_lalr = self._lalr_parser() or _UNAVAILABLE
        return None if self._fast_lalr is _UNAVAILABLE else self._fast_lalr

    def recognizer(self) -> Recognizer:
        """The exact character-level recognizer (built on first use)."""
        if self._recognizer is None:
            lg = self.lark_grammar()
            self._recognizer = Recognizer(compile_grammar(desugar(self.ast), lg.regular_rules))
        return self._recognizer

    # -- the API -------------------------------------------------------------------

    def to_lark(self) -> str:
        """The lark grammar text (the acceptance grammar of the LALR fast path)."""
        return self.lark_grammar().text

    def accepts(self, text: str) -> bool:
        """Whether ``text`` is a complete member of the language (XGrammar's verdict)."""
        lg = self.lark_grammar()
        if lg.exact:
            if self._root_re is not None:
                return self._root_re.fullmatch(text) is not None
            if self.accepts_lalr(text):
                return True
        return self.accepts_earley(text)

    def accepts_lalr(self, text: str) -> bool | None:
        """The LALR fast path alone: True is trustworthy, False may be a missed split.

        None when this grammar has no LALR parser (conflicts, or features lark
        cannot express exactly).
        """
        parser = self._fast_parser()
        if parser is None:
            return None
        try:
            parser.parse(text)
        except UnexpectedInput:
            return False
        return True

    def accepts_earley(self, text: str) -> bool:
        """The exact reference alone (character-level Earley over the grammar)."""
        return self.recognizer().run(text).accepted

    def is_prefix(self, text: str) -> bool:
        """Whether ``text`` can be extended (possibly by nothing) to a member."""
        return self.recognizer().run(text).alive_at_end

    def parse(self, text: str) -> Tree[Token]:
        """A parse tree for ``text``.

        Nodes are ``Tree(rule_name, children)`` for non-regular rules; a regular
        rule is one ``Token(rule_name, text)``; other text is ``Token("TEXT", ...)``.

        Raises
        ------
        OutputMismatch
            ``text`` is not in the language: where (offset, line, column) and
            what was expected there.
        """
        lg = self.lark_grammar()
        parser = self._lalr_parser()
        if parser is not None:
            try:
                return self._rename(parser.parse(text), lg)
            except UnexpectedInput:
                pass  # maybe a split the lexer missed: ask the exact recognizer
        rec = self.recognizer()
        chart = rec.run(text)
        if chart.accepted:
            return build_tree(rec.g, chart)
        at = max(chart.furthest, chart.partial_at)
        message = (
            "unexpected end of text" if at >= len(text) else f"unexpected {render_string(text[at])}"
        )
        raise OutputMismatch(message, text=text, offset=at, expected=rec.expected(chart, at))

    def _rename(self, tree: Tree[Token], lg: LarkGrammar) -> Tree[Token]:
        """lark names -> EBNF names; anonymous text merged, as the exact path does."""
        kids: list[Tree[Token] | Token] = []
        for child in tree.children:
            if isinstance(child, Tree):
                kids.append(self._rename(child, lg))
            else:
                assert isinstance(child, Token)
                kind = lg.terminal_names.get(child.type, ANON)
                kids.append(Token(kind, child.value, start_pos=child.start_pos))
        return Tree(lg.rule_names.get(str(tree.data), str(tree.data)), merge_text(kids))


def _build_lalr(lg: LarkGrammar, *, keep_all_tokens: bool) -> Any:
    if not lg.exact:
        return _UNAVAILABLE
    try:
        return Lark(
            lg.text,
            start=lg.start,
            parser="lalr",
            lexer="contextual",
            keep_all_tokens=keep_all_tokens,
        )
    except (LarkGrammarError, LarkError):
        return _UNAVAILABLE  # conflicts: this grammar is judged by the exact recognizer
