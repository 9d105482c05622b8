"""Grammar.to_gbnf(): llama.cpp's dialect, exactly or not at all."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from wafer_grammar import GBNFUnsupported, Grammar

GRAMMARS = sorted((Path(__file__).resolve().parents[1] / "grammars").glob("*.ebnf"))
HINT = (
    "GBNF (llama.cpp) has no lookahead, rule options or macros: rewrite without it, "
    "or send it to an XGrammar server (profiles wafer, sglang, vllm)"
)


def test_names_escapes_and_repetitions() -> None:
    g = Grammar.from_ebnf(
        'root ::= my_rule "x"{2,3} tail?\n'
        'my_rule ::= [a-z\\-^\\]] "\\"\\n\\t" [^\\x00-\\x1F]\n'
        'tail ::= "é" [\\u0100-\\U0001F600]*\n'
    )
    assert g.to_gbnf() == (
        'root ::= my-rule "x"{2,3} tail?\n'
        'my-rule ::= [a-z\\x2D\\x5E\\x5D] "\\"\\n\\t" [^\\x00-\\x1F]\n'
        'tail ::= "é" [Ā-😀]*\n'
    )


def test_underscore_names_that_clash_are_renamed_apart() -> None:
    g = Grammar.from_ebnf('root ::= a_b a-b\na_b ::= "1"\na-b ::= "2"\n')
    assert g.to_gbnf() == 'root ::= a-b a-b-2\na-b ::= "1"\na-b-2 ::= "2"\n'


def test_a_root_of_another_name_becomes_root() -> None:
    g = Grammar.from_ebnf('start ::= "a" root\nroot ::= "b"\n', root="start")
    assert g.to_gbnf() == 'root ::= "a" root-2\nroot-2 ::= "b"\n'


def test_regex_and_substring_are_expanded() -> None:
    g = Grammar.from_ebnf('root ::= Regex("[0-9]{2}") Substring("ab")')
    text = g.to_gbnf()
    assert "Regex" not in text and "Substring" not in text
    assert text.startswith("root ::= [0-9]{2}")


def test_what_gbnf_cannot_say_is_refused_at_each_place() -> None:
    source = 'root ::= a (= "x")\na[max_chars=3] ::= [a-z]+ TagDispatch(("<", b))\nb ::= "y"\n'
    with pytest.raises(GBNFUnsupported) as info:
        Grammar.from_ebnf(source).to_gbnf()
    found = [(d.code, d.line, d.column, d.message) for d in info.value.diagnostics]
    assert found == [
        ("E403", 1, 15, "GBNF has no lookahead assertions: the (= ...) of rule root"),
        ("E402", 2, 3, "GBNF has no rule options: max_chars on rule a"),
        ("E401", 2, 27, "GBNF cannot express the macro TagDispatch()"),
    ]
    assert all(d.hint == HINT for d in info.value.diagnostics)
    assert str(info.value).splitlines()[:3] == [
        "line 1, column 15: error[E403]: GBNF has no lookahead assertions: the (= ...) of rule root",
        '  root ::= a (= "x")',
        "                ^~~",
    ]


@pytest.mark.parametrize("path", GRAMMARS, ids=lambda p: p.name)
def test_every_shipped_grammar_converts(path: Path) -> None:
    text = Grammar.from_file(path).to_gbnf()
    assert text.startswith("root ::= ") or "\nroot ::= " in text


@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama.cpp's own parser needs llama-cpp-python: `make llamacpp` builds it (~4 min)",
)
@pytest.mark.parametrize("path", GRAMMARS, ids=lambda p: p.name)
def test_llama_cpp_parses_every_shipped_grammar(path: Path) -> None:
    from llama_cpp import LlamaGrammar

    LlamaGrammar.from_string(Grammar.from_file(path).to_gbnf(), verbose=False)
