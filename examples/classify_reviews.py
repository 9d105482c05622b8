"""Forced-choice sentiment classification on the embedded engine (no API key, no network).

``classify`` with its default prompt: each review gets exactly one label (the
grammar leaves the model no other output) and the probability of each label,
read from the logprobs. ``calibrate=True`` divides out the label prior the model
shows on content-free inputs ("", "N/A", ...), which a 135M model needs: it leans
to "positive" whatever the text. The backend is named once on stderr.

Run: .venv/bin/python examples/classify_reviews.py   (or ``make demo``)
(the first run dequantizes the model once, ~15 s; later runs load it in ~2 s)
"""

from __future__ import annotations

import time

from wafer_grammar import WaferClient, classify

MODEL = "SmolLM2-135M-Instruct"
LABELS = ["positive", "negative"]
REVIEWS = [
    ("Absolutely loved it! The food was delicious and the staff were wonderful.", "positive"),
    ("Terrible experience. The room was dirty and the staff were rude.", "negative"),
    ("Best phone I have ever owned. Great battery, amazing camera.", "positive"),
    ("Worst customer service ever. Never again.", "negative"),
    ("Great value and fast delivery. Five stars!", "positive"),
    ("It stopped working after two days.", "negative"),
]


def main(client: WaferClient | None = None) -> None:
    """Print the table; ``client=None`` is the backend rule (here: the embedded engine)."""
    start = time.perf_counter()
    results = classify(
        [text for text, _ in REVIEWS],
        LABELS,
        model=MODEL,
        client=client,
        calibrate=True,
        progress=False,
    )
    print(f"{'LABEL':<9} {'P':>5}  {'':<8} REVIEW")
    right = 0
    for (text, expected), found in zip(REVIEWS, results, strict=True):
        right += found.label == expected
        verdict = "ok" if found.label == expected else f"expected {expected}"
        print(f"{found.label:<9} {found.probabilities[found.label]:>5.2f}  {verdict:<8} {text}")
    elapsed = time.perf_counter() - start
    print(f"\n{right}/{len(REVIEWS)} as labelled, in {elapsed:.1f} s (model load included)")


if __name__ == "__main__":
    main()
