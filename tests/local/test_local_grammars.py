"""Property: over HTTP, every grammar-constrained completion is in the grammar's language.

A choice that ends with ``stop`` must be accepted whole; one cut by ``length``
must be a prefix of some member. Seeds and temperatures come from hypothesis.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from local_support import MODEL, call

from wafer_grammar import Grammar
from wafer_grammar.local.pytest_fixtures import LocalServerHandle

JSON_EBNF = (Path(__file__).resolve().parents[2] / "grammars" / "json.ebnf").read_text()

GRAMMARS = {
    "choice": ('root ::= "red" | "green" | "blue" | "light blue"', "Name a colour."),
    "number": ('root ::= "-"? [1-9] [0-9]{0,5} ("." [0-9]{1,3})?', "Give me a number."),
    "list": ('root ::= "[" item (", " item)* "]"\nitem ::= [a-z]+', "List three fruits."),
    "sentence": ('root ::= [A-Z] [a-z ]* "."', "Describe the sea in one sentence."),
    "arith": (
        'root ::= expr\nexpr ::= term (("+" | "-") term)*\nterm ::= [0-9]+ | "(" expr ")"',
        "Write an arithmetic expression.",
    ),
    "json": (JSON_EBNF, "Give me a JSON object describing a cat."),
}


@pytest.mark.parametrize("name", sorted(GRAMMARS))
def test_completions_are_in_the_language(
    local_server_session: LocalServerHandle, name: str
) -> None:
    ebnf, question = GRAMMARS[name]
    grammar = Grammar.from_ebnf(ebnf)
    server = local_server_session

    @settings(
        max_examples=2,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(seed=st.integers(0, 2**31), temperature=st.sampled_from([0.0, 0.7, 1.3]))
    def check(seed: int, temperature: float) -> None:
        reply = call(
            server.base_url,
            "POST",
            "/v1/chat/completions",
            {
                "model": MODEL,
                "messages": [{"role": "user", "content": question}],
                "ebnf": ebnf,
                "max_tokens": 16,
                "temperature": temperature,
                "seed": seed,
                "n": 2,
            },
            key=server.api_key,
        )
        assert reply.status == 200, reply.body
        for choice in reply.json()["choices"]:
            text = choice["message"]["content"]
            if choice["finish_reason"] == "stop":
                assert grammar.accepts(text), text
            else:
                assert choice["finish_reason"] == "length"
                assert grammar.is_prefix(text), text

    check()
