"""Context budget: refuse locally, with the numbers."""

from __future__ import annotations

import pytest

from wafer_grammar.errors import ContextLengthExceeded, TokenizerError
from wafer_grammar.tokenize import Tokenizer, check_budget


def test_fits_returns_the_room_left() -> None:
    assert check_budget(100, max_tokens=50, max_model_len=200) == 50
    assert check_budget([1, 2, 3], max_tokens=5, max_model_len=8) == 0


def test_exceeding_raises_with_numbers() -> None:
    with pytest.raises(ContextLengthExceeded) as info:
        check_budget(150, max_tokens=60, max_model_len=200)
    err = info.value
    assert (err.prompt_tokens, err.max_tokens, err.max_model_len) == (150, 60, 200)
    assert str(err) == (
        "prompt of 150 tokens plus max_tokens=60 exceeds the model's context of 200 tokens "
        "by 10; shorten the prompt or lower max_tokens"
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"max_tokens": 0, "max_model_len": 10},
            ValueError,
            "max_tokens must be a positive integer, not 0",
        ),
        (
            {"max_tokens": True, "max_model_len": 10},
            ValueError,
            "max_tokens must be a positive integer, not True",
        ),
        (
            {"max_tokens": 1, "max_model_len": -5},
            ValueError,
            "max_model_len must be a positive integer, not -5",
        ),
    ],
)
def test_bad_arguments(kwargs: dict[str, int], error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        check_budget(1, **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("prompt", "error", "message"),
    [
        (-1, ValueError, "a prompt cannot have -1 tokens"),
        ("text", TypeError, "prompt is text: encode it first (tokenizer.encode or encode_chat)"),
        (True, TypeError, "prompt must be a token count, a list of token ids or a Prompt"),
    ],
)
def test_bad_prompts(prompt: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        check_budget(prompt, max_tokens=1, max_model_len=10)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_tokenizer_uses_the_registry_context(smollm: Tokenizer) -> None:
    assert smollm.max_model_len == 8192
    prompt = smollm.encode_chat([{"role": "user", "content": "hi"}])
    assert smollm.check_budget(prompt, max_tokens=100) == 8192 - len(prompt) - 100
    with pytest.raises(ContextLengthExceeded):
        smollm.check_budget(prompt, max_tokens=8192)
    # The live model card's number wins when given.
    with pytest.raises(ContextLengthExceeded):
        smollm.check_budget(prompt, max_tokens=10, max_model_len=len(prompt) + 9)


def test_encode_chat_checks_before_any_request(smollm: Tokenizer) -> None:
    long_text = "word " * 9000
    with pytest.raises(ContextLengthExceeded) as info:
        smollm.encode_chat([{"role": "user", "content": long_text}], max_tokens=16)
    assert info.value.max_model_len == 8192 and info.value.prompt_tokens > 9000


def test_unknown_context_says_where_to_get_it(deepseek: Tokenizer) -> None:
    from tokenize_support import DEEPSEEK_JSON

    from wafer_grammar.tokenize import load_tokenizer

    tok = load_tokenizer(DEEPSEEK_JSON)
    with pytest.raises(TokenizerError) as info:
        tok.check_budget([1, 2], max_tokens=5)
    assert str(info.value) == (
        f"the context length of {str(DEEPSEEK_JSON)!r} is unknown; pass max_model_len "
        "(from the model card: client.models())"
    )
    assert tok.check_budget([1, 2], max_tokens=5, max_model_len=10) == 3
