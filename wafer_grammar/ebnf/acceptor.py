"""Is a text in the grammar's language, or a prefix of a member? Exactly, LALR-fast when it is safe.

Which path answers:

1. Grammars whose reachable rules use ``lazy``, ``max_chars`` or ``TagDispatch``
   (no exact lark form): always the exact recognizer
   (:mod:`wafer_grammar.ebnf.recognizer`).
2. A regular root (the whole language is one regular expression): an automaton
   (:mod:`wafer_grammar.ebnf.automaton`), linear in the text, for ``accepts`` and
   ``is_prefix``. Never Python's backtracking ``re``: ``("a" | "a" | "aa")*``
   would take it exponential time to reject ``"a"*21 + "b"``.
3. Otherwise, when the grammar has an exact LR table (step 4), its LR run answers
   everything: about as fast as lark's own parse, and it stops at the first
   character that leaves the language.
4. The exact LR run: lark's LALR(1) table for the grammar's acceptance form
   (:mod:`wafer_grammar.ebnf.to_lark`; built only where step 5's conditions
   hold), when lark's strict analysis finds no
   conflict and every symbol is productive, driven by
   :class:`~wafer_grammar.ebnf.lr_run.LRRun` with *every* tokenization instead of
   lark's longest-match lexer (every terminal with an action, every end of each
   match). The table is deterministic on each token sequence and fails exactly
   on those that no sentence starts with, so the run is exact both ways: a member
   iff some tokenization ends accepting, a viable prefix iff some tokenization
   (possibly inside a token whose automaton can still finish it) is alive.
   Linear in the text times the live tokenizations; past ``lr_run.LIMIT`` of
   them, lark then Earley as in step 5.
5. Otherwise lark LALR with the contextual lexer, but only when every lark
   terminal is one ``re`` runs in linear time (:mod:`wafer_grammar.ebnf.backtracking`),
   no repetition bound is huge (lark would spell the copies out) and the grammar is
   shallow enough for lark's translation. An LALR *accept* is a real derivation,
   so it is trusted; an LALR *reject* (its longest-match lexer can miss a valid
   split), a prefix check, or a grammar LALR cannot build goes to step 6.
6. Otherwise the exact recognizer.

The exact recognizer is Earley over single characters, literals and automaton
terms, with counted repetitions built by doubling: polynomial in the text and
logarithmic in the bounds. Token-level macros (``Token``, ``ExcludeToken``,
``TokenTagDispatch``) raise :class:`~wafer_grammar.errors.TextUnjudgeable` on
first use.
"""

from __future__ import annotations

import math
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import GrammarError as LarkGrammarError
from lark.exceptions import LarkError, UnexpectedInput

from wafer_grammar.ebnf.analysis import strongly_connected_components
from wafer_grammar.ebnf.automaton import Automaton, build_automaton
from wafer_grammar.ebnf.backtracking import linear_time
from wafer_grammar.ebnf.derivation import ParseTree, build_tree, merge_text
from wafer_grammar.ebnf.desugar import check_text_judgeable, desugar, regular_rules
from wafer_grammar.ebnf.lr_run import LRRun, Overflow
from wafer_grammar.ebnf.lr_table import Tables, build_tables
from wafer_grammar.ebnf.recognizer import Recognizer, compile_grammar
from wafer_grammar.ebnf.render import render_string
from wafer_grammar.ebnf.syntax import (
    Choice,
    Expr,
    GrammarAST,
    MacroCall,
    Repeat,
    RuleRef,
    Sequence,
    depth,
    fold,
    references,
    walk,
)
from wafer_grammar.ebnf.to_lark import ANON, LarkGrammar, to_lark
from wafer_grammar.errors import OutputMismatch

#: lark's translation recurses over expressions: deeper grammars skip lark.
_LARK_MAX_DEPTH = 100
#: lark spells ``x~n`` out as copies: larger bounds skip lark.
_LARK_MAX_BOUND = 1000
#: lark spells optional parts out as alternatives; past this many, LALR tables
#: take too long to build and the recognizer is the faster judge.
_LARK_MAX_EXPANSIONS = 200

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
        self._plain: GrammarAST | None = None
        self._regular: frozenset[str] = frozenset()
        self._exact = False
        self._lark_ok = False
        self._automaton: Automaton | None = None
        self._lark_grammar: LarkGrammar | None = None
        self._lalr: Any = None
        self._fast_lalr: Any = None
        self._fast_lg: LarkGrammar | None = None
        self._tables: Tables | object | None = None
        self._recognizer: Recognizer | None = None
        self._diagnostic: Recognizer | None = None

    # -- building (lazily) ---------------------------------------------------------

    def _plan(self) -> GrammarAST:
        """Desugar once and choose the paths (raises ``TextUnjudgeable`` for token macros)."""
        if self._plain is None:
            check_text_judgeable(self.ast)
            plain = desugar(self.ast)
            rules = plain.rule_map()
            self._regular = frozenset(regular_rules(plain))
            nodes = [node for rule in plain.rules for node in walk(rule.body)]
            self._exact = not any(
                rule.option("lazy") is not None or rule.option("max_chars") is not None
                for rule in plain.rules
            ) and not any(isinstance(node, MacroCall) for node in nodes)
            if self._exact and plain.root in self._regular:
                bodies = {name: rules[name].body for name in self._regular}
                self._automaton = build_automaton(rules[plain.root].body, bodies)
            self._lark_ok = (
                self._exact
                and plain.root not in self._regular  # an automaton, or Earley, is exact
                and _regular_nesting(plain, self._regular) <= _LARK_MAX_DEPTH
                and all(depth(rule.body) <= _LARK_MAX_DEPTH for rule in plain.rules)
                and sum(_expansions(rule.body) for rule in plain.rules) <= _LARK_MAX_EXPANSIONS
                and not any(
                    isinstance(node, Repeat) and max(node.min, node.max or 0) > _LARK_MAX_BOUND
                    for node in nodes
                )
            )
            self._plain = plain
        return self._plain

    def plan(self) -> GrammarAST:
        """The desugared grammar (raises ``TextUnjudgeable`` for token-level macros)."""
        return self._plan()

    @property
    def automaton(self) -> Automaton | None:
        """The whole language as one automaton, when the root is regular."""
        self._plan()
        return self._automaton

    def lark_grammar(self) -> LarkGrammar:
        """The translation to lark (raises ``TextUnjudgeable`` for token-level macros)."""
        if self._lark_grammar is None:
            plain = self._plan()
            lg = self._lark_grammar = to_lark(plain)
            rules = plain.rule_map()
            bodies = {name: rules[name].body for name in lg.regular_rules}
            if not all(linear_time(expr, bodies) for expr in lg.terminal_exprs):
                self._lark_ok = False  # a terminal Python's re could backtrack on
        return self._lark_grammar

    def _lalr_parser(self) -> Lark | None:
        """The faithful LALR parser (trees keep every regular rule's name)."""
        if self._lalr is None:
            self._lalr = _UNAVAILABLE
            if self._plan() is not None and self._lark_ok:
                lg = self.lark_grammar()
                if self._lark_ok:
                    self._lalr = _build_lalr(lg, keep_all_tokens=True)
        return None if self._lalr is _UNAVAILABLE else self._lalr

    def _fast_parser(self) -> Lark | None:
        """The acceptance-only LALR parser (regular runs folded into single tokens)."""
        if self._fast_lalr is None:
            self._fast_lalr = _UNAVAILABLE
            if self._plan() is not None and self._lark_ok and self._lalr_parser() is not None:
                fast = to_lark(self._plan(), merge_regular=True)
                rules = self._plan().rule_map()
                bodies = {name: rules[name].body for name in fast.regular_rules}
                if all(linear_time(expr, bodies) for expr in fast.terminal_exprs):
                    self._fast_lalr = _build_lalr(fast, keep_all_tokens=False)
                    self._fast_lg = fast
                if self._fast_lalr is _UNAVAILABLE:  # merging can add conflicts
                    self._fast_lalr = self._lalr_parser() or _UNAVAILABLE
                    self._fast_lg = self.lark_grammar()
        return None if self._fast_lalr is _UNAVAILABLE else self._fast_lalr

    def lr_tables(self) -> Tables | None:
        """The exact LR tables (:mod:`.lr_table`), or None when this grammar has none."""
        if self._tables is None:
            self._tables = _UNAVAILABLE
            parser = self._fast_parser()
            if parser is not None and self._fast_lg is not None:
                rules = self._plan().rule_map()
                bodies = {name: rules[name].body for name in self._fast_lg.regular_rules}
                self._tables = build_tables(parser, self._fast_lg, bodies) or _UNAVAILABLE
        return self._tables if isinstance(self._tables, Tables) else None

    def lr_run(self, text: str = "") -> LRRun | None:
        """An exact LR run (:mod:`.lr_run`) after ``text``; None: no tables, or too ambiguous."""
        tables = self.lr_tables()
        if tables is None:
            return None
        run = LRRun(tables)
        try:
            if not run.feed(text):
                run.bounds, run.partials = [], []  # dead: no configuration is left
        except Overflow:
            return None
        return run

    def recognizer(self) -> Recognizer:
        """The exact character-level recognizer (built on first use)."""
        if self._recognizer is None:
            plain = self._plan()
            self._recognizer = Recognizer(compile_grammar(plain, self._regular))
        return self._recognizer

    def _diagnoser(self) -> Recognizer:
        if self._diagnostic is None:
            plain = self._plan()
            self._diagnostic = Recognizer(compile_grammar(plain, self._regular, fold_regular=False))
        return self._diagnostic

    # -- the API -------------------------------------------------------------------

    def to_lark(self) -> str:
        """The lark grammar text (the acceptance grammar of the LALR fast path)."""
        return self.lark_grammar().text

    def accepts(self, text: str) -> bool:
        """Whether ``text`` is a complete member of the language (XGrammar's verdict)."""
        self._plan()
        if self._automaton is not None:
            return self._automaton.fullmatch(text)
        run = self.lr_run(text)
        if run is not None:
            return run.complete()
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
        self._plan()
        if self._automaton is not None:
            return self._automaton.viable(text)
        run = self.lr_run(text)
        if run is not None:
            return run.alive
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
        parser = self._lalr_parser()
        if parser is not None:
            try:
                return self._rename(parser.parse(text), self.lark_grammar())
            except UnexpectedInput:
                pass  # maybe a split the lexer missed: ask the exact recognizer
        rec = self.recognizer()
        chart = rec.run(text)
        if chart.accepted:
            return build_tree(rec.g, chart)
        raise self.mismatch(text)

    def mismatch(self, text: str) -> OutputMismatch:
        """Where a non-member ``text`` goes wrong and what was expected there.

        An unfolded recognizer says exactly where (the end of the longest viable
        prefix, or the end of the text) and what could have come next.
        """
        rec = self._diagnoser()
        chart = rec.run(text)
        at = max(chart.furthest, chart.partial_at)
        message = (
            "unexpected end of text" if at >= len(text) else f"unexpected {render_string(text[at])}"
        )
        return OutputMismatch(message, text=text, offset=at, expected=rec.expected(chart, at))

    def expected_after(self, text: str) -> list[str]:
        """What may follow the viable prefix ``text`` (exact recognizer; for diagnostics)."""
        rec = self._diagnoser()
        return rec.expected(rec.run(text), len(text))

    def _rename(self, tree: Tree[Token], lg: LarkGrammar) -> Tree[Token]:
        """lark names -> EBNF names; anonymous text merged, as the exact path does.

        Bottom-up with an explicit stack: list rules make trees as deep as the text.
        """
        built: dict[int, Tree[Token]] = {}
        stack: list[tuple[Tree[Token], bool]] = [(tree, False)]
        while stack:
            node, ready = stack.pop()
            if not ready:
                stack.append((node, True))
                stack.extend((c, False) for c in node.children if isinstance(c, Tree))
                continue
            kids: list[Tree[Token] | Token] = []
            for child in node.children:
                if isinstance(child, Tree):
                    kids.append(built.pop(id(child)))
                else:
                    assert isinstance(child, Token)
                    kind = lg.terminal_names.get(child.type, ANON)
                    kids.append(Token(kind, child.value, start_pos=child.start_pos))
            name = lg.rule_names.get(str(node.data), str(node.data))
            built[id(node)] = ParseTree(name, merge_text(kids))
        return built[id(tree)]


def _expansions(expr: Expr) -> int:
    """About how many BNF alternatives lark makes of ``expr``: it spells ``x?`` and
    ``x~n..m`` out as alternatives, so ``a? b? c?`` is 8 and nesting multiplies."""

    def combine(node: Expr, kids: list[tuple[int, bool]]) -> tuple[int, bool]:
        plain = not isinstance(node, RuleRef) and all(k[1] for k in kids)
        if plain or not kids:
            return 1, plain  # literals and classes fold into one regex terminal
        if isinstance(node, Sequence):
            return min(math.prod(k[0] for k in kids), _CAP), False
        if isinstance(node, Choice):
            return min(sum(k[0] for k in kids), _CAP), False
        assert isinstance(node, Repeat)
        # x~n is n copies side by side, each choosing an alternative: k**n of them;
        # x~n..m is all of those for each count; x{n,} is x~n then a rule of its own.
        k, top = kids[0][0], node.min if node.max is None else node.max
        total = 0
        for count in range(node.min, min(top, node.min + 64) + 1):
            total += min(k**count, _CAP) if k > 1 else 1
            if total >= _CAP:
                break
        return min(total, _CAP), False

    return fold(expr, combine)[0]


_CAP = 10**9


def _regular_nesting(ast: GrammarAST, regular: frozenset[str]) -> int:
    """How deeply regular rules refer to each other (their lark patterns nest that deep)."""
    rules = ast.rule_map()
    graph = {n: [r for r in references(rules[n].body) if r in regular] for n in regular}
    levels: dict[str, int] = {}
    for component in strongly_connected_components(graph):  # dependencies first
        for name in component:
            levels[name] = 1 + max((levels.get(r, 0) for r in graph[name]), default=0)
    return max(levels.values(), default=0)


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
