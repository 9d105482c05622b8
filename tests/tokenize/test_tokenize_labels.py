"""max_tokens_for and label design checks on a real tokenizer."""

from __future__ import annotations

import pytest

from wafer_grammar.errors import InvalidLabels, LanguageNotFinite
from wafer_grammar.grammar import Grammar
from wafer_grammar.tokenize import Tokenizer, check_labels, max_tokens_for


class FiniteGrammar:
    """Duck-typed stand-in for ebnf.Grammar's finite_language()."""

    def __init__(self, members: list[str] | None) -> None:
        self.members = members
        self.limit: int | None = None

    def finite_language(self, limit: int = 10000) -> list[str] | None:
        self.limit = limit
        return self.members


def test_longest_member_plus_margin(deepseek: Tokenizer) -> None:
    labels = ["positive", "negative", "mixed feelings about it"]
    longest = max(len(deepseek.encode(x)) for x in labels)
    assert max_tokens_for(labels, deepseek) == longest + 2
    assert max_tokens_for(labels, deepseek, margin=0) == longest
    assert max_tokens_for(FiniteGrammar(labels), deepseek) == longest + 2


def test_grammar_language_is_listed_with_a_limit(deepseek: Tokenizer) -> None:
    grammar = FiniteGrammar(["a", "b"])
    max_tokens_for(grammar, deepseek)
    assert grammar.limit == 10000


def test_infinite_language(deepseek: Tokenizer) -> None:
    with pytest.raises(LanguageNotFinite) as info:
        max_tokens_for(FiniteGrammar(None), deepseek)
    assert str(info.value) == (
        "the grammar's language is infinite or has more than 10000 strings; "
        "max_tokens_for needs a finite language such as a set of choices"
    )
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("labels", "kwargs", "error", "message"),
    [
        (
            "positive",
            {},
            InvalidLabels,
            "labels must be a list of strings, not the string 'positive'",
        ),
        ([], {}, InvalidLabels, "no labels: a choice needs at least one label"),
        (["a", 1], {}, InvalidLabels, "labels must be strings, not 1"),
        (3, {}, InvalidLabels, "labels must be a list of strings, not int: 3"),
        (["a", "a"], {}, InvalidLabels, "duplicate labels: 'a'"),
        (["a"], {"margin": -1}, ValueError, "margin must be a non-negative integer, not -1"),
    ],
)
def test_bad_inputs(
    deepseek: Tokenizer,
    labels: object,
    kwargs: dict[str, int],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error) as info:
        max_tokens_for(labels, deepseek, **kwargs)
    assert str(info.value) == message


def test_distinct_first_tokens(smollm: Tokenizer) -> None:
    report = check_labels(["positive", "negative", "neutral"], smollm)
    assert report.first_token_decides is True
    assert report.problems() == []
    assert [row.label for row in report.labels] == ["positive", "negative", "neutral"]
    assert all(row.pieces and "".join(row.pieces) == row.label for row in report.labels)


def test_shared_first_token_and_prefix_labels(smollm: Tokenizer) -> None:
    report = check_labels(["yes", "yes, but", "no"], smollm)
    first = smollm.encode("yes")[0]
    assert report.first_token_decides is False
    assert report.shared_first_tokens == {first: ["yes", "yes, but"]}
    assert report.prefix_labels == [("yes", "yes, but")]
    assert report.problems() == [
        f"labels 'yes', 'yes, but' all start with token {first}: the first generated token "
        "does not decide between them",
        "label 'yes' is a prefix of 'yes, but': after 'yes' the model may stop or go on",
    ]
    assert report.max_tokens == max(len(r.ids) for r in report.labels) + 2


def test_empty_label(smollm: Tokenizer) -> None:
    # a label list refuses "" (the one label validator); a grammar's language may hold it
    with pytest.raises(InvalidLabels, match="the empty string is not a valid label"):
        check_labels(["", "x"], smollm)
    report = check_labels(Grammar.from_ebnf('root ::= "" | "x"'), smollm)
    assert report.empty_labels == [""]
    assert report.first_token_decides is False
    assert report.problems() == ["label '' is empty: it needs no token at all"]
