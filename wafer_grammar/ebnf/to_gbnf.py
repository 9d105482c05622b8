"""AST -> GBNF, the grammar dialect of llama.cpp's ``llama-server`` (its ``grammar`` field).

GBNF has XGrammar's core: rules, literals, classes (negated too), groups,
alternation and ``* + ? {m} {m,} {m,n}`` (bounded repetition since 2024). It has no
lookahead assertions, no rule options (``max_chars``, ``lazy``, ...) and no macros.
``Regex`` and ``Substring`` are plain languages and are expanded first; whatever
else GBNF cannot say is refused with :class:`GBNFUnsupported`, one diagnostic per
place, never dropped silently (a dropped constraint would make the server accept
outputs the grammar forbids).

Differences handled here: GBNF rule names are ``[A-Za-z0-9-]+`` (``_`` becomes
``-``, renamed apart on a clash), and its escapes are ``\\xHH \\uHHHH \\UHHHHHHHH
\\t \\n \\r \\\\ \\" \\[ \\]`` (every other special character is written in hex).
"""

from __future__ import annotations

import re

from wafer_grammar.ebnf.desugar import desugar
from wafer_grammar.ebnf.diagnostics import Diagnostic
from wafer_grammar.ebnf.syntax import (
    CharClass,
    Choice,
    Expr,
    GrammarAST,
    Literal,
    MacroCall,
    Repeat,
    Rule,
    RuleRef,
    Sequence,
)
from wafer_grammar.errors import GBNFUnsupported

_HINT = (
    "GBNF (llama.cpp) has no lookahead, rule options or macros: rewrite without it, "
    "or send it to an XGrammar server (profiles wafer, sglang, vllm)"
)
_STRING_SAFE = re.compile(r"[ !#-\[\]-~]")  # printable ASCII but " and \
_CLASS_SAFE = re.compile(r"[ !#-,.-Z_-~]")  # also not - [ \ ] ^


def _hex(cp: int) -> str:
    if cp < 0x100:
        return f"\\x{cp:02X}"
    if cp < 0x10000:
        return f"\\u{cp:04X}"
    return f"\\U{cp:08X}"


def _char(cp: int, safe: re.Pattern[str]) -> str:
    ch = chr(cp)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", '"': '\\"'}
    if ch in named:
        return named[ch]
    if safe.fullmatch(ch) or (cp > 0x7F and ch.isprintable() and not 0xD800 <= cp <= 0xDFFF):
        return ch
    return _hex(cp)


def _names(ast: GrammarAST) -> dict[str, str]:
    """Each rule's GBNF name: ``_`` -> ``-``, with a numeric suffix where two would clash."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for rule in ast.rules:
        base = rule.name.replace("_", "-")
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        out[rule.name] = name
        taken.add(name)
    return out


def _expr(node: Expr, names: dict[str, str], rule: str, problems: list[Diagnostic]) -> str:
    if isinstance(node, Literal):
        return '"' + "".join(_char(ord(ch), _STRING_SAFE) for ch in node.value) + '"'
    if isinstance(node, CharClass):
        parts = [
            _char(lo, _CLASS_SAFE) + ("" if lo == hi else "-" + _char(hi, _CLASS_SAFE))
            for lo, hi in node.ranges
        ]
        return "[" + ("^" if node.negated else "") + "".join(parts) + "]"
    if isinstance(node, RuleRef):
        return names[node.name]
    if isinstance(node, Choice):
        return " | ".join(_expr(alt, names, rule, problems) for alt in node.alternatives)
    if isinstance(node, Sequence):
        return " ".join(
            f"({_expr(item, names, rule, problems)})"
            if isinstance(item, (Choice, Sequence))
            else _expr(item, names, rule, problems)
            for item in node.items
        )
    if isinstance(node, Repeat):
        inner = _expr(node.item, names, rule, problems)
        if isinstance(node.item, (Choice, Sequence, Repeat)):
            inner = f"({inner})"
        lo, hi = node.min, node.max
        suffix = {(0, 1): "?", (0, None): "*", (1, None): "+"}.get((lo, hi))
        if suffix is None:
            suffix = f"{{{lo},}}" if hi is None else f"{{{lo}}}" if lo == hi else f"{{{lo},{hi}}}"
        return inner + suffix
    assert isinstance(node, MacroCall)
    problems.append(
        Diagnostic.at(
            "E401",
            "error",
            f"GBNF cannot express the macro {node.name}()",
            node.span,
            rule=rule,
            hint=_HINT,
        )
    )
    return '""'


def _rule(rule: Rule, names: dict[str, str], problems: list[Diagnostic]) -> str:
    for option in rule.options:
        problems.append(
            Diagnostic.at(
                "E402",
                "error",
                f"GBNF has no rule options: {option.name} on rule {rule.name}",
                option.span or rule.span,
                rule=rule.name,
                hint=_HINT,
            )
        )
    if rule.lookahead is not None:
        problems.append(
            Diagnostic.at(
                "E403",
                "error",
                f"GBNF has no lookahead assertions: the (= ...) of rule {rule.name}",
                rule.lookahead.span or rule.span,
                rule=rule.name,
                hint=_HINT,
            )
        )
    return f"{names[rule.name]} ::= {_expr(rule.body, names, rule.name, problems)}"


def render_gbnf(ast: GrammarAST, *, source: str | None = None) -> str:
    """The GBNF text of ``ast``, its root rule named ``root`` as llama.cpp requires.

    Raises:
        GBNFUnsupported: lookahead, rule options or macros (other than ``Regex`` and
            ``Substring``, which are expanded); ``.diagnostics`` lists each place.
    """
    plain = desugar(ast)
    names = _names(plain)
    if plain.root != "root":
        # llama.cpp starts at "root": give the entry rule that name, and move a rule
        # already called root aside.
        clash = [old for old, new in names.items() if new == "root"]
        for old in clash:
            names[old] = "root-" + str(len(names))
        names[plain.root] = "root"
    problems: list[Diagnostic] = []
    lines = [_rule(rule, names, problems) for rule in plain.rules]
    if problems:
        raise GBNFUnsupported(problems, source)
    return "".join(line + "\n" for line in lines)
