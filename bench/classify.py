"""``classify`` of 64 short texts on the embedded engine: concurrency 8 against 1.

The same texts, labels and client, in the same run: wall time at ``concurrency=1``
and ``concurrency=8`` (the engine batches requests that are in flight together),
for a label set whose first tokens differ (one request per text) and one where a
label is a prefix of another (``method="exact"`` walks the label trie). The labels
chosen must be identical; the probabilities may differ in the last digits, since
a batched forward pass sums in another order.

Run: ``.venv/bin/python bench/classify.py`` (offline; starts its own server on loopback).
"""

from __future__ import annotations

import os
import sys

# bench/tokenize.py would shadow the stdlib module of that name: take this folder off the path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import time  # noqa: E402

from wafer_grammar import WaferClient, classify  # noqa: E402
from wafer_grammar.local.server import LocalServer  # noqa: E402

MODEL = "SmolLM2-135M-Instruct"
SUBJECTS = [
    "The hotel",
    "This phone",
    "The pizza",
    "Our guide",
    "The film",
    "This laptop",
    "The bus",
    "My new chair",
]
VERDICTS = [
    "was wonderful.",
    "broke in a day.",
    "is worth every cent.",
    "made me angry.",
    "was fine, I guess.",
    "exceeded my hopes.",
    "smelled awful.",
    "is the best I have had.",
]
TEXTS = [f"{s} {v}" for s in SUBJECTS for v in VERDICTS]  # 64
LABEL_SETS = {
    "positive / negative / neutral": (["positive", "negative", "neutral"], "auto"),
    "good / very good / bad (a prefix)": (["good", "very good", "bad", "very bad"], "exact"),
}


def run(
    client: WaferClient, labels: list[str], method: str, concurrency: int
) -> tuple[float, list[str]]:
    start = time.perf_counter()
    results = classify(
        TEXTS,
        labels,
        model=MODEL,
        client=client,
        method=method,
        concurrency=concurrency,
        progress=False,
    )
    return time.perf_counter() - start, [r.label for r in results]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    print(f"classify {len(TEXTS)} texts, embedded engine, concurrency 1 vs {args.concurrency}")
    print(f"| labels | concurrency 1 | concurrency {args.concurrency} | ratio | same labels |")
    print("|---|---:|---:|---:|---|")
    with (
        LocalServer(port=0) as server,
        WaferClient(base_url=server.base_url, api_key="none") as client,
    ):
        run(client, ["yes", "no"], "auto", 1)  # warm up: grammar compile, first forward
        for name, (labels, method) in LABEL_SETS.items():
            one, first = run(client, labels, method, 1)
            many, second = run(client, labels, method, args.concurrency)
            print(f"| {name} | {one:.2f} s | {many:.2f} s | {many / one:.2f} | {first == second} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
