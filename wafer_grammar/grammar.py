"""The :class:`Grammar` users hold: parsed, checked, rendered and able to judge text.

It sits on top of the grammar stack: it calls down into :mod:`wafer_grammar.ebnf`
(parse, render, lint, accept) and :mod:`wafer_grammar.convert` (labels, regexes,
JSON Schemas, models), and neither of those imports it.
"""

from __future__ import annotations

import re
from functools import cached_property
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from wafer_grammar.ebnf.parser import parse_ebnf
from wafer_grammar.ebnf.render import render_ebnf
from wafer_grammar.ebnf.syntax import GrammarAST, Rule

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from lark import Token, Tree

    from wafer_grammar.convert.schema_coverage import Coverage
    from wafer_grammar.ebnf.acceptor import Acceptor
    from wafer_grammar.ebnf.diagnostics import Diagnostic
    from wafer_grammar.ebnf.matcher import Matcher


_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]\d+(?:\s*,\s*[A-Z]\d+)*))?")


class Grammar:
    """An XGrammar-dialect EBNF grammar that XGrammar would accept.

    Build one with :meth:`from_ebnf`, :meth:`from_file`, :meth:`from_ast`, a
    converter classmethod (:meth:`choice`, :meth:`from_regex`,
    :meth:`from_json_schema`, :meth:`from_model`) or the builder in
    :mod:`wafer_grammar.builder`. Grammars compare by structure and metadata: two
    texts that differ only in layout, comments or escape spelling are equal.

    Metadata (keyword-only, part of equality):
        labels: for a choice grammar (:meth:`choice`), its labels in order; else None.
        case_sensitive: for a choice grammar, whether labels match case exactly.
        coverage: for grammars converted from a JSON Schema or model, which
            keyword is enforced, checked after decoding or ignored; else None.
    """

    def __init__(
        self,
        ast: GrammarAST,
        *,
        source: str | None = None,
        path: str | None = None,
        labels: tuple[str, ...] | None = None,
        case_sensitive: bool = True,
        coverage: Coverage | None = None,
    ) -> None:
        self.ast = ast
        self.source = source
        self.path = path
        self.labels = labels
        self.case_sensitive = case_sensitive
        self.coverage = coverage

    # -- construction ----------------------------------------------------------
    @classmethod
    def from_ebnf(cls, text: str, *, root: str = "root") -> Grammar:
        """Parse EBNF text.

        Raises:
            GrammarSyntaxError: the text does not parse; ``.diagnostics`` lists every error.
            GrammarError: it parses but XGrammar would refuse it (undefined or
                duplicate rules, missing root, bad options or macro arguments).
        """
        return cls(parse_ebnf(text, root=root), source=text)

    @classmethod
    def from_file(cls, path: str | PathLike[str], *, root: str = "root") -> Grammar:
        """Read and parse a grammar file (UTF-8; a leading byte-order mark is dropped).

        A BOM is how some editors mark a UTF-8 file, not grammar text. XGrammar
        refuses U+FEFF in the text itself, so :meth:`from_ebnf` reports it (E101)
        and the text sent to the server (:meth:`to_ebnf`) never has one.
        """
        text = Path(path).read_text(encoding="utf-8-sig")
        return cls(parse_ebnf(text, root=root), source=text, path=str(path))

    @classmethod
    def from_ast(
        cls,
        ast: GrammarAST,
        *,
        labels: tuple[str, ...] | None = None,
        case_sensitive: bool = True,
        coverage: Coverage | None = None,
    ) -> Grammar:
        """A grammar of ``ast``, re-read from its canonical text.

        Re-reading gives every node a source span, so ``check()`` diagnostics
        point at real lines and columns of ``to_ebnf()``; it also runs every
        check :meth:`from_ebnf` runs.
        """
        text = render_ebnf(ast)
        return cls(
            parse_ebnf(text, root=ast.root),
            source=text,
            labels=labels,
            case_sensitive=case_sensitive,
            coverage=coverage,
        )

    @classmethod
    def choice(cls, labels: Iterable[str], *, case_sensitive: bool = True) -> Grammar:
        """Exactly one of ``labels``; ``check()`` warns (W302) when one is a prefix of another.

        With ``case_sensitive=False`` each letter also matches its other cases
        (simple case folding, as ``re.IGNORECASE``). The result's ``labels`` and
        ``case_sensitive`` say what it was built from.

        Raises:
            InvalidLabels: no labels, an empty or non-string label, or two labels
                that are equal (equal ignoring case, when ``case_sensitive=False``).
        """
        from wafer_grammar.convert.choice import choice_ast

        ast, names = choice_ast(labels, case_sensitive=case_sensitive)
        return cls.from_ast(ast, labels=names, case_sensitive=case_sensitive)

    @classmethod
    def from_regex(cls, pattern: str, flags: int = 0) -> Grammar:
        """Exactly the strings ``re.fullmatch(pattern, s, flags)`` matches (Python ``re`` syntax).

        Raises:
            RegexUnsupported: a construct no grammar can express (backreferences,
                lookaround, ``\\b`` ...) or a malformed pattern; names it and its position.
        """
        from wafer_grammar.convert.regex import regex_ast

        return cls.from_ast(regex_ast(pattern, flags))

    @classmethod
    def from_json_schema(
        cls,
        schema: Mapping[str, object] | bool | str,
        *,
        strict: bool = True,
        whitespace: str = "compact",
        closed: bool = True,
    ) -> Grammar:
        """Every output ``json.loads`` and validates against ``schema``; see ``.coverage``.

        Parameters:
            schema: a JSON Schema (a dict, ``True``/``False``, or its JSON text).
            strict: raise on any keyword the grammar cannot enforce (default). With
                ``strict=False`` the grammar leaves such keywords out and
                ``grammar.coverage`` lists every keyword as ``enforced``,
                ``checked-after-decoding`` or ``ignored``.
            whitespace: ``"compact"`` (no whitespace, as ``json.dumps(v,
                separators=(",", ":"))``) or ``"pretty"`` (``json.dumps(v, indent=2)``
                layout, with each line's indentation bounded to 0..32 spaces).
            closed: read an absent ``additionalProperties`` as false, an absent
                ``items`` after ``prefixItems`` as false, and write properties in
                declared order (default, as OpenAI's and XGrammar's strict modes do).
                ``closed=False`` is the specification's reading: other properties and
                items are then any value, up to six declared properties come in any
                order (each at most once), and an integer may be written ``1.0``.

        Raises:
            UnsupportedSchema: (``strict=True``) a keyword that cannot be enforced,
                naming the keyword and the JSON pointer of its schema (``.keyword``,
                ``.pointer``); in any mode, a schema that admits no value or a
                ``$ref`` that cannot be followed.
        """
        from wafer_grammar.convert.json_schema import json_schema_ast

        ast, coverage = json_schema_ast(schema, strict=strict, whitespace=whitespace, closed=closed)
        return cls.from_ast(ast, coverage=coverage)

    @classmethod
    def from_model(
        cls, model: object, *, strict: bool = True, whitespace: str = "compact"
    ) -> Grammar:
        """The grammar of a pydantic v2 model's ``model_json_schema()``.

        ``model`` is a pydantic v2 ``BaseModel`` subclass (or anything with
        ``model_json_schema()``, such as a ``TypeAdapter``).

        Raises:
            TypeError: ``model`` has no ``model_json_schema()`` (pydantic v1 models, instances).
            UnsupportedSchema: as :meth:`from_json_schema`.
        """
        from wafer_grammar.convert.pydantic import model_schema

        return cls.from_json_schema(model_schema(model), strict=strict, whitespace=whitespace)

    # -- views -----------------------------------------------------------------
    @property
    def root(self) -> str:
        """The name of the entry rule."""
        return self.ast.root

    @property
    def rules(self) -> dict[str, Rule]:
        """Rules by name, in source order."""
        return self.ast.rule_map()

    def to_ebnf(self) -> str:
        """Canonical text: the same grammar always gives the same bytes."""
        return render_ebnf(self.ast)

    def to_gbnf(self) -> str:
        """The grammar in GBNF, llama.cpp's dialect (``Regex`` and ``Substring`` expanded).

        Raises:
            GBNFUnsupported: lookahead, rule options or other macros, each placed.
        """
        from wafer_grammar.ebnf.to_gbnf import render_gbnf

        return render_gbnf(self.ast, source=self.source)

    def __str__(self) -> str:
        return self.to_ebnf()

    def __repr__(self) -> str:
        names = ", ".join(rule.name for rule in self.ast.rules[:5])
        more = ", ..." if len(self.ast.rules) > 5 else ""
        return f"<Grammar root={self.root!r} rules=[{names}{more}]>"

    def _key(self) -> tuple[object, ...]:
        return (self.ast, self.labels, self.case_sensitive, self.coverage)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Grammar) and self._key() == other._key()

    def __hash__(self) -> int:
        # coverage is a mutable report: equal grammars still hash equal without it
        return hash((self.ast, self.labels, self.case_sensitive))

    # -- analysis --------------------------------------------------------------
    def check(self, *, profile: str | None = None) -> list[Diagnostic]:
        """Semantic lint beyond XGrammar's own errors (unused rules, traps, ...).

        ``profile`` ("gbnf", "xgrammar-0.1", "xgrammar-0.2") also warns about
        features a server with that dialect version would refuse. A comment
        ``# noqa: W301`` (or a bare ``# noqa``) silences those warnings on its line.
        """
        from wafer_grammar.ebnf.lint import lint

        found = lint(self.ast, profile=profile)
        if self.labels is not None and not self.case_sensitive:
            # caseless alternatives are classes, not literals: lint's own W302 cannot see them
            from wafer_grammar.convert.choice import caseless_prefix_warnings

            found = sorted(
                [*found, *caseless_prefix_warnings(self.ast, self.labels)],
                key=lambda d: (d.line, d.column, d.code, d.message),
            )
        if not self.source or "noqa" not in self.source:
            return found
        from wafer_grammar.ebnf.lexer import Lexer

        lexer = Lexer(self.source)
        lexer.tokenize()
        # line -> the codes silenced there; an empty set silences every code.
        silenced: dict[int, frozenset[str]] = {}
        for line, comment in lexer.comments:
            match = _NOQA.search(comment)
            if match:
                silenced[line] = frozenset(re.findall(r"[A-Z]\d+", match.group("codes") or ""))
        return [
            d
            for d in found
            if d.line not in silenced or (silenced[d.line] and d.code not in silenced[d.line])
        ]

    def finite_language(self, limit: int = 10_000) -> list[str] | None:
        """Every string of the language, sorted, when it is finite and at most ``limit``."""
        from wafer_grammar.ebnf.finite import finite_language

        return finite_language(self.ast, limit=limit)

    # -- acceptance ------------------------------------------------------------
    @cached_property
    def _acceptor(self) -> Acceptor:
        from wafer_grammar.ebnf.acceptor import Acceptor

        return Acceptor(self.ast)

    def accepts(self, text: str) -> bool:
        """Whether ``text`` is a complete member of the language.

        Raises:
            TextUnjudgeable: the grammar uses token-level macros (``Token`` ...).
        """
        return self._acceptor.accepts(text)

    def parse(self, text: str) -> Tree[Token]:
        """A lark parse tree of ``text``.

        Raises:
            OutputMismatch: ``text`` is not in the language (with offset,
                line/column, a caret and what was expected).
            TextUnjudgeable: the grammar uses token-level macros.
        """
        return self._acceptor.parse(text)

    def is_prefix(self, text: str) -> bool:
        """Whether ``text`` can be extended to a member of the language."""
        return self._acceptor.is_prefix(text)

    def matcher(self) -> Matcher:
        """An incremental matcher for a text that arrives in chunks.

        ``m.feed(chunk)`` is False as soon as no continuation can be a member;
        ``m.is_complete``, ``m.position``, ``m.expected()``, ``m.copy()`` and
        ``m.snapshot()`` / ``m.restore(s)`` as documented on
        :class:`~wafer_grammar.ebnf.matcher.Matcher`. Each character is read once
        (an automaton, the exact LR run, or the incremental Earley chart), so a
        stream costs about one check of its whole text.

        Raises:
            TextUnjudgeable: the grammar uses token-level macros.
        """
        from wafer_grammar.ebnf.matcher import Matcher

        return Matcher(self._acceptor)

    def to_lark(self) -> str:
        """The lark grammar used for acceptance."""
        return self._acceptor.to_lark()
