"""Forced-choice sentiment classification on the embedded engine (no API key, no network).

Each review gets exactly one label: the grammar ``root ::= "positive" | "negative"``
leaves the model no other output. The probability comes from the logprobs,
which are taken after the grammar mask: P(label | the answer is one of the labels).

Run: .venv/bin/python examples/classify_reviews.py
(the first run dequantizes the model once, ~15 s; later runs load it in ~2 s)
"""

from __future__ import annotations

import math
import time

from wafer_grammar.local import Engine

LABELS = ("positive", "negative")
GRAMMAR = " | ".join(f'"{label}"' for label in LABELS)
# A 135M model needs the task spelled out: the system prompt names the labels,
# and the user turn asks the question before the review.
SYSTEM = (
    "You are a sentiment classifier. Read the review and answer with exactly one word: "
    "positive or negative."
)
REVIEWS = [
    "Absolutely loved it! The food was delicious and the staff were wonderful. Highly recommend.",
    "Terrible experience. The room was dirty, the staff were rude, and I want my money back.",
    "Best phone I have ever owned. Great battery, amazing camera, I am very happy with it.",
    "Worst customer service ever. Never again.",
    "Great value and fast delivery. Five stars!",
]


def classify(engine: Engine, review: str) -> tuple[str, float]:
    """The label and its probability."""
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Is this review positive or negative?\n\n{review}"},
    ]
    completion = engine.chat(
        messages, grammar=f"root ::= {GRAMMAR}", max_tokens=4, temperature=0, logprobs=True
    )
    choice = completion.choices[0]
    stops = set(engine.loaded.stop_token_ids)
    # A label may span several tokens; its probability is their product (the stop
    # token after it is not part of the label).
    logprob = sum(t.logprob for t in choice.logprobs if t.token_id not in stops)
    return choice.text, math.exp(logprob)


def main() -> None:
    start = time.perf_counter()
    with Engine() as engine:
        print(f"model loaded in {time.perf_counter() - start:.1f} s\n")
        print(f"{'LABEL':<10} {'P':>5}  REVIEW")
        for review in REVIEWS:
            label, probability = classify(engine, review)
            shown = review if len(review) <= 70 else review[:67] + "..."
            print(f"{label:<10} {probability:>5.2f}  {shown}")


if __name__ == "__main__":
    main()
