"""Forced-choice classification with label probabilities, against Wafer or the local server.

Run against Wafer (needs WAFER_API_KEY; GLM-5.1 takes token-ID prompts)::

    .venv/bin/python examples/client_classify.py --model GLM-5.1

or against the embedded engine, started here on a loopback port (offline)::

    .venv/bin/python examples/client_classify.py --local
"""

from __future__ import annotations

import argparse

from wafer_grammar.client import WaferClient
from wafer_grammar.decoding import decode, label_probabilities
from wafer_grammar.errors import APIError, DecodeError
from wafer_grammar.grammar import Grammar

LABELS = ["positive", "negative", "neutral"]
REVIEW = "The battery died after two days and support never answered."


def classify(client: WaferClient, model: str) -> None:
    grammar = Grammar.choice(LABELS)
    messages = [
        {"role": "system", "content": f"Classify the review's sentiment: {', '.join(LABELS)}."},
        {"role": "user", "content": REVIEW},
    ]
    answer = client.chat(
        model, messages, grammar=grammar, max_tokens=4, temperature=0, logprobs=True, top_logprobs=5
    )
    label = decode(answer, grammar)  # raises if truncated or outside the grammar
    dist = label_probabilities(answer, grammar)
    print(f"label: {label}")
    for name, p in sorted(dist.probabilities.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<9} {p:6.1%}")
    print(f"method: {dist.method}")
    if answer.usage:
        print(
            f"usage: {answer.usage.prompt_tokens} prompt + "
            f"{answer.usage.completion_tokens} completion tokens"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="GLM-5.1")
    parser.add_argument("--local", action="store_true", help="use the embedded local server")
    args = parser.parse_args()
    try:
        if args.local:
            from wafer_grammar.local.server import LocalServer

            with LocalServer(port=0) as server, WaferClient(base_url=server.base_url) as client:
                classify(client, server.engine.config.model_id)
        else:
            with WaferClient() as client:
                classify(client, args.model)
    except (APIError, DecodeError) as exc:
        raise SystemExit(f"{type(exc).__name__}: {exc}") from None


if __name__ == "__main__":
    main()
