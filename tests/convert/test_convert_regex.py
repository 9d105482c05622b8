"""Grammar.from_regex: Python ``re`` patterns, exactly (differential against re.fullmatch)."""

from __future__ import annotations

import re

import pytest
from convert_support import mutated
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wafer_grammar import Grammar
from wafer_grammar.convert.regex import unicode_class
from wafer_grammar.errors import RegexUnsupported

PATTERNS: list[tuple[str, int]] = [
    (r"abc", 0),
    (r"a.c", 0),
    (r"a.c", re.DOTALL),
    (r"[a-z]+@[a-z]+\.(com|org)", 0),
    (r"\d{3}-\d{4}", 0),
    (r"\d+", re.ASCII),
    (r"\w+\s\W?", 0),
    (r"[^\d\s]{2,4}", 0),
    (r"(?:ab|cd)*e?", 0),
    (r"x{,3}y{2,}z{1}", 0),
    (r"a+?b*?c??d{2,3}?", 0),
    (r"^(foo|bar)$", 0),
    (r"\Aq\Z", 0),
    (r"(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])", 0),
    (r"[]a-]+", 0),
    (r"[\]\\^-]", 0),
    (r"\x41\u00e9\U0001F600\n\t\101\0", 0),
    (r"\N{EM DASH}|\.|\*|\?", 0),
    (r"(?i)straße|k", 0),
    (r"[a-z]+", re.IGNORECASE),
    (r"(?i:ab)c", 0),
    (r"(?s:.)(?#a comment).", 0),
    (r"a{", 0),
    (r"[^a]", re.IGNORECASE | re.ASCII),
    (r"(a|)+b", 0),
    (r"", 0),
]


def _ids(case: tuple[str, int]) -> str:
    return f"{case[0]!r}/{case[1]}"


@pytest.fixture(scope="module", params=PATTERNS, ids=_ids)
def case(request: pytest.FixtureRequest) -> tuple[str, int, Grammar]:
    pattern, flags = request.param
    return pattern, flags, Grammar.from_regex(pattern, flags)


@pytest.mark.parametrize("pattern,flags", PATTERNS, ids=[_ids(c) for c in PATTERNS])
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_strings_are_accepted(pattern: str, flags: int, data: st.DataObject) -> None:
    grammar = _grammar(pattern, flags)
    text = data.draw(st.from_regex(re.compile(pattern, flags), fullmatch=True))
    assume(not any("\ud800" <= ch <= "\udfff" for ch in text))  # not UTF-8 text: see below
    assert grammar.accepts(text), text


@pytest.mark.parametrize("pattern,flags", PATTERNS, ids=[_ids(c) for c in PATTERNS])
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_near_misses_agree_with_fullmatch(pattern: str, flags: int, data: st.DataObject) -> None:
    grammar = _grammar(pattern, flags)
    text = data.draw(mutated(st.from_regex(re.compile(pattern, flags), fullmatch=True)))
    # A lone surrogate is no UTF-8 text: no model can emit one, and grammars (ours and
    # XGrammar's, which reads bytes) never match it, where Python's re does.
    assume(not any("\ud800" <= ch <= "\udfff" for ch in text))
    assert grammar.accepts(text) is bool(re.fullmatch(pattern, text, flags)), text


_CACHE: dict[tuple[str, int], Grammar] = {}


def _grammar(pattern: str, flags: int) -> Grammar:
    if (pattern, flags) not in _CACHE:
        _CACHE[pattern, flags] = Grammar.from_regex(pattern, flags)
    return _CACHE[pattern, flags]


def test_a_grammar_is_regular_and_readable() -> None:
    grammar = Grammar.from_regex(r"^(yes|no)[!?]*$")
    assert grammar.to_ebnf() == 'root ::= ("yes" | "no") [!?]*\n'
    assert grammar.check() == []


def test_unicode_classes_are_what_re_means() -> None:
    for letter in "dws":
        ranges = unicode_class(letter)
        for cp in [0x30, 0x41, 0x5F, 0x20, 0x85, 0xA0, 0x660, 0x3000, 0x1D7CE, 0x2028, 0xE9]:
            inside = any(lo <= cp <= hi for lo, hi in ranges)
            assert inside is bool(re.fullmatch(rf"\{letter}", chr(cp))), (letter, hex(cp))


def test_ignorecase_folds_like_re() -> None:
    grammar = Grammar.from_regex("k+s", re.IGNORECASE)
    for text in ["kKs", "\u212aS", "k\u017f", "ks"]:  # Kelvin sign, long s
        assert grammar.accepts(text) is bool(re.fullmatch("k+s", text, re.I))


UNSUPPORTED = [
    (
        r"(a)\1",
        "backreference \\1 at position 3 is not regular: no grammar can express it\n  (a)\\\\1\n     ^",
    ),
    (
        r"(?P<x>a)(?P=x)",
        "backreference (?P=...) at position 8 is not regular: no grammar can express it\n  (?P<x>a)(?P=x)\n          ^",
    ),
    (
        r"a(?=b)",
        "lookahead (?=...) at position 1 is not supported: a grammar cannot look ahead\n  a(?=b)\n   ^",
    ),
    (
        r"a(?!b)",
        "negative lookahead (?!...) at position 1 is not supported: a grammar cannot look ahead\n  a(?!b)\n   ^",
    ),
    (
        r"(?<=a)b",
        "lookbehind (?<=...) at position 0 is not supported: a grammar cannot look behind\n  (?<=a)b\n  ^",
    ),
    (
        r"(?<!a)b",
        "negative lookbehind (?<!...) at position 0 is not supported: a grammar cannot look behind\n  (?<!a)b\n  ^",
    ),
    (
        r"\bword",
        "word boundary \\b at position 0 is not supported: a grammar cannot look around\n  \\\\bword\n  ^",
    ),
    (
        r"x\B",
        "word boundary \\B at position 1 is not supported: a grammar cannot look around\n  x\\\\B\n   ^",
    ),
    (
        r"(a)?(?(1)b|c)",
        "conditional group (?(...)...) at position 4 is not supported: it depends on an earlier group\n  (a)?(?(1)b|c)\n      ^",
    ),
    (
        r"(?>ab)",
        "atomic group (?>...) at position 0 is not supported: it changes which strings match in a way a grammar cannot follow\n  (?>ab)\n  ^",
    ),
    (
        r"a*+",
        "possessive quantifier *+ at position 1 is not supported: it changes which strings match in a way a grammar cannot follow\n  a*+\n   ^",
    ),
    (
        r"a^b",
        "anchor ^ at position 1 is not at the start of the pattern: only leading ^ and trailing $ can be converted\n  a^b\n   ^",
    ),
    (
        r"a$b",
        "anchor $ at position 1 is not at the end of the pattern: only leading ^ and trailing $ can be converted\n  a$b\n   ^",
    ),
    (
        r"(?x)a b",
        "verbose flag (?x) at position 0 is not supported: write the pattern without it\n  (?x)a b\n  ^",
    ),
    (
        r"(ab",
        "syntax error at position 0 (missing ), unterminated subpattern): not a valid Python regular expression\n  (ab\n  ^",
    ),
    (
        "a\nb\\b",
        "word boundary \\b at position 3 is not supported: a grammar cannot look around\n  a\\nb\\\\b\n      ^",
    ),
]


@pytest.mark.parametrize("pattern,message", UNSUPPORTED, ids=[p for p, _ in UNSUPPORTED])
def test_unsupported_constructs_are_named_with_their_position(pattern: str, message: str) -> None:
    with pytest.raises(RegexUnsupported) as info:
        Grammar.from_regex(pattern)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_verbose_flag_argument_is_refused() -> None:
    with pytest.raises(RegexUnsupported, match=r"^flag re.VERBOSE at position 0 is not supported"):
        Grammar.from_regex("a", re.VERBOSE)


def test_error_carries_construct_and_position() -> None:
    with pytest.raises(RegexUnsupported) as info:
        Grammar.from_regex(r"ab(?=c)")
    assert (info.value.construct, info.value.position, info.value.pattern) == (
        "lookahead (?=...)",
        2,
        "ab(?=c)",
    )
