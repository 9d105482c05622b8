"""decode(): each layer's verdict and message; label probabilities; cost."""

from __future__ import annotations

import math

import pytest
from pydantic import BaseModel

from wafer_grammar.client.types import (
    ChatChoice,
    ChatCompletion,
    ChatMessage,
    Completion,
    CompletionChoice,
    Logprobs,
    ModelCard,
    Pricing,
    TokenLogprob,
    TopLogprob,
    Usage,
)
from wafer_grammar.decoding import Cost, cost_of, decode, label_probabilities
from wafer_grammar.errors import (
    ConstraintViolation,
    DecodeError,
    LogprobsMissing,
    ModelValidationFailed,
    OutputNotJSON,
    PricingUnavailable,
    SchemaViolation,
    TruncatedOutput,
)
from wafer_grammar.grammar import Grammar

JSON_GRAMMAR = r'''root ::= "{" "\"n\":" [0-9]+ "}"'''
SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer", "maximum": 9}},
    "required": ["n"],
}


class Item(BaseModel):
    n: int


def answer(text: str, finish: str = "stop", logprobs: Logprobs | None = None) -> Completion:
    return Completion(
        id="c", model="m", usage=None, choices=(CompletionChoice(0, text, finish, logprobs),)
    )


def test_plain_text_and_json_values() -> None:
    assert decode(answer("yes"), 'root ::= "yes" | "no"') == "yes"
    assert decode(answer('{"n":7}'), JSON_GRAMMAR, schema=SCHEMA) == {"n": 7}
    assert decode(answer('{"n":7}'), JSON_GRAMMAR, model=Item) == Item(n=7)
    assert decode(answer("[1, 2]"), model=list[int]) == [1, 2]


def test_chat_answers_are_judged_without_their_reasoning() -> None:
    chat = ChatCompletion(
        id="c",
        model="m",
        usage=None,
        choices=(
            ChatChoice(0, ChatMessage("assistant", "no", reasoning_content="thinking..."), "stop"),
        ),
    )
    assert decode(chat, 'root ::= "yes" | "no"') == "no"


def test_truncated_with_a_viable_prefix() -> None:
    with pytest.raises(TruncatedOutput) as info:
        decode(answer('{"n":12', "length"), JSON_GRAMMAR)
    assert info.value.viable_prefix is True and info.value.layer == "finish"
    assert str(info.value) == (
        "finish layer: output truncated at max_tokens (finish_reason "
        '"length") after 7 characters; the text so far is a viable prefix '
        "of the grammar: raise max_tokens"
    )
    assert info.value.text == '{"n":12'


def test_truncated_outside_the_grammar_and_without_one() -> None:
    with pytest.raises(TruncatedOutput) as info:
        decode(answer('{"m"', "length"), JSON_GRAMMAR)
    assert info.value.viable_prefix is False
    assert str(info.value).endswith(
        ", and the text so far is not a prefix of any string of the grammar"
    )
    with pytest.raises(TruncatedOutput) as bare:
        decode(answer("abc", "length"))
    assert bare.value.viable_prefix is None
    assert str(bare.value).endswith("after 3 characters; raise max_tokens")


def test_text_outside_the_grammar_shows_where() -> None:
    with pytest.raises(ConstraintViolation) as info:
        decode(answer("yep"), 'root ::= "yes" | "no"')
    error = info.value
    assert (error.layer, error.offset, error.line, error.column) == ("grammar", 2, 1, 3)
    assert str(error).startswith(
        "grammar layer: the server returned text outside the grammar "
        "(its grammar engine and ours disagree; report it with the "
        "grammar and this text): line 1, column 3: "
    )
    assert str(error).endswith("\n  yep\n    ^")


def test_not_json() -> None:
    with pytest.raises(OutputNotJSON) as info:
        decode(answer('{"n": 1,}'), schema=SCHEMA)
    assert str(info.value) == (
        "json layer: the text is not JSON: Expecting property name enclosed "
        "in double quotes at line 1, column 9\n"
        '  {"n": 1,}\n          ^'
    )


def test_schema_violation_names_the_pointer() -> None:
    with pytest.raises(SchemaViolation) as info:
        decode(answer('{"n":12}'), JSON_GRAMMAR, schema=SCHEMA)
    assert info.value.errors == [("/n", "12 is greater than the maximum of 9")]
    assert str(info.value) == (
        "schema layer: the value breaks the JSON Schema at /n: 12 is greater than the maximum of 9"
    )


def test_model_layer_failure() -> None:
    class Strict(BaseModel):
        n: int
        label: str

    with pytest.raises(ModelValidationFailed) as info:
        decode(answer('{"n":1}'), JSON_GRAMMAR, model=Strict)
    assert info.value.layer == "model" and isinstance(info.value, DecodeError)
    assert str(info.value) == "model layer: Strict refused the value at label: Field required"


# -- label probabilities ---------------------------------------------------------------------


def tok(token: str, logprob: float, *alts: tuple[str, float]) -> TokenLogprob:
    top = tuple(TopLogprob(t, lp) for t, lp in ((token, logprob), *alts))
    return TokenLogprob(token, logprob, top)


def test_one_deciding_token() -> None:
    lp = Logprobs(
        (
            tok("no", math.log(0.7), ("yes", math.log(0.2)), ("y", math.log(0.05))),
            tok("<|im_end|>", 0.0),
        )
    )
    dist = label_probabilities(answer("no", logprobs=lp), Grammar.choice(["yes", "no"]))
    assert dist.chosen == "no" and dist.best == "no" and dist.deciding_tokens == 1
    assert dist["yes"] == pytest.approx(0.25 / 0.95)
    assert dist["no"] == pytest.approx(0.7 / 0.95)
    assert dist.observed == pytest.approx(0.95)
    assert dist.method == (
        "top_logprobs at 1 deciding token(s), renormalised over 2 labels; "
        "the alternatives seen covered 95.0% of the probability"
    )


def test_labels_sharing_a_prefix_are_decided_later() -> None:
    # "positive" vs "negative" vs "neutral": "ne" is shared, the second token decides
    lp = Logprobs(
        (
            tok("ne", math.log(0.8), ("pos", math.log(0.2))),
            tok("gative", math.log(0.75), ("utral", math.log(0.25))),
        )
    )
    dist = label_probabilities(answer("negative", logprobs=lp), ["positive", "negative", "neutral"])
    assert dist.probabilities == pytest.approx({"positive": 0.2, "negative": 0.6, "neutral": 0.2})
    assert dist.deciding_tokens == 2


def test_label_that_is_a_prefix_of_another() -> None:
    lp = Logprobs(
        (
            tok("Pos", math.log(0.9), ("Neg", math.log(0.1))),
            tok("<|im_end|>", math.log(0.5), ("itive", math.log(0.5))),
        )
    )
    dist = label_probabilities(answer("Pos", logprobs=lp), ["Pos", "Positive", "Neg"])
    assert dist.probabilities == pytest.approx({"Pos": 0.45, "Positive": 0.45, "Neg": 0.1})


def test_ambiguous_alternative_is_split_and_said() -> None:
    lp = Logprobs((tok("b", math.log(0.5), ("a", math.log(0.5))),))
    dist = label_probabilities(answer("b", logprobs=lp), ["ax", "ay", "b"])
    assert dist.probabilities == pytest.approx({"ax": 0.25, "ay": 0.25, "b": 0.5})
    assert dist.method.endswith("; alternatives leading to several labels were split evenly")


def test_no_logprobs() -> None:
    with pytest.raises(LogprobsMissing) as info:
        label_probabilities(answer("no"), ["yes", "no"])
    assert str(info.value) == (
        "logprobs layer: the answer has no logprobs: request it with "
        "logprobs=True and top_logprobs=N (N at least the number of labels)"
    )


# -- cost ------------------------------------------------------------------------------------

CARD = ModelCard(id="GLM-5.1", pricing=Pricing(100, 320, 10))


def test_cost_with_cached_prompt_tokens() -> None:
    usage = Usage(
        prompt_tokens=1_000_000,
        completion_tokens=500_000,
        total_tokens=1_500_000,
        cached_tokens=400_000,
    )
    cost = cost_of(usage, CARD)
    assert cost == Cost(input_cents=60.0, cached_cents=4.0, output_cents=160.0)
    assert cost.total_cents == 224.0 and cost.dollars == 2.24


def test_cost_without_a_cache_rate_bills_cached_tokens_as_input() -> None:
    usage = Usage(prompt_tokens=10, completion_tokens=0, total_tokens=10, cached_tokens=4)
    assert cost_of(usage, Pricing(100, 320)).total_cents == pytest.approx(10 * 100 / 1e6)


def test_cost_refusals() -> None:
    with pytest.raises(PricingUnavailable) as info:
        cost_of(answer("x"), CARD)
    assert str(info.value) == "the answer carries no usage to price"
