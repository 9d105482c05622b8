"""The engine's Python API: decoding, cancellation, the grammar cache, and shutdown."""

from __future__ import annotations

import pytest

from wafer_grammar.errors import GrammarError, InvalidRequest
from wafer_grammar.local import Engine, EngineConfig, SamplingParams
from wafer_grammar.local.pytest_fixtures import LocalServerHandle


@pytest.fixture
def engine(local_server_session: LocalServerHandle) -> Engine:
    return local_server_session.server.engine


def test_complete_and_chat(engine: Engine) -> None:
    out = engine.complete("The capital of France is", max_tokens=2, temperature=0)
    assert out.choices[0].text == " Paris."
    assert out.usage.completion_tokens == 2
    chat = engine.chat(
        [{"role": "user", "content": "Say yes."}],
        grammar='root ::= "yes"',
        max_tokens=5,
        temperature=0,
    )
    assert chat.choices[0].text == "yes"
    assert chat.choices[0].token_ids[-1] in engine.loaded.stop_token_ids


def test_grammar_cache_is_keyed_by_exact_text(engine: Engine) -> None:
    cache = engine.grammars
    first = engine.compile('root ::= "a" | "b"')
    hits = cache.hits
    assert engine.compile('root ::= "a" | "b"') is first
    assert cache.hits == hits + 1
    assert engine.compile('root ::= "a"|"b"') is not first  # other text, other entry


def test_invalid_grammar_raises_with_diagnostics(engine: Engine) -> None:
    with pytest.raises(GrammarError) as info:
        engine.compile("root ::= (")
    assert info.value.diagnostics[0].line == 1


def test_cancel_stops_decoding(engine: Engine) -> None:
    generation = engine.submit("Tell me a long story.", params=SamplingParams(max_tokens=500))
    seen = 0
    for _ in generation:
        seen += 1
        if seen == 3:
            generation.cancel()
    assert seen < 10


def test_streamed_deltas_add_up(engine: Engine) -> None:
    params = SamplingParams(max_tokens=6, temperature=0, n=2)
    deltas = list(engine.submit("Once upon a time", params=params))
    assert {d.index for d in deltas} == {0, 1}
    whole = engine.complete("Once upon a time", params=params)
    for i in (0, 1):
        assert "".join(d.text for d in deltas if d.index == i) == whole.choices[i].text


def test_prompt_type_refused(engine: Engine) -> None:
    with pytest.raises(InvalidRequest) as info:
        engine.prompt_ids([1, True])  # type: ignore[list-item]
    assert str(info.value) == "prompt must be a string or a list of token ids"


def test_closed_engine_refuses_requests() -> None:
    engine = Engine(EngineConfig())
    engine.close()
    with pytest.raises(InvalidRequest) as info:
        engine.submit([1])
    assert (str(info.value), info.value.status) == ("the engine is shutting down", 503)
