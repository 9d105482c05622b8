"""Benchmark of the embedded engine: load time, grammar compile time, decode speed.

Run: .venv/bin/python bench/engine.py [--tokens 64] [--repeats 3]

- model load, cold (a fresh cache: the GGUF is dequantized) and cached;
- compile time per grammar (XGrammar, plus our checker that runs first), uncached;
- decode tokens/s, greedy, with and without a grammar, same prompt and length:
  the grammar is one that admits whatever the model writes (``[^\\x00]*``, so
  both runs decode the same tokens) and the JSON grammar on a JSON prompt.

Decode speed counts steps after the first token (prefill excluded); the best of
``--repeats`` runs is kept, since other processes only ever slow a run down.
"""

from __future__ import annotations

import os
import sys

# bench/ holds a script named like the stdlib module `tokenize` (bench/tokenize.py),
# which the imports below need: take this folder off the import path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from wafer_grammar.local import Engine, EngineConfig, SamplingParams  # noqa: E402
from wafer_grammar.local.model import load_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GRAMMARS = {
    "choice (2 labels)": 'root ::= "positive" | "negative"',
    "number": 'root ::= "-"? [1-9] [0-9]{0,5} ("." [0-9]{1,3})?',
    "anything": "root ::= [^\\x00]*",
    "arithmetic": (
        'root ::= expr\nexpr ::= term (("+" | "-") term)*\nterm ::= [0-9]+ | "(" expr ")"'
    ),
    "json (grammars/json.ebnf)": (ROOT / "grammars" / "json.ebnf").read_text(encoding="utf-8"),
}


def load_times() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        saved = os.environ.get("WAFER_GRAMMAR_CACHE_DIR")
        os.environ["WAFER_GRAMMAR_CACHE_DIR"] = tmp
        try:
            cold = load_model(EngineConfig())
            warm = load_model(EngineConfig())
        finally:
            if saved is None:
                os.environ.pop("WAFER_GRAMMAR_CACHE_DIR")
            else:
                os.environ["WAFER_GRAMMAR_CACHE_DIR"] = saved
    assert not cold.from_cache and warm.from_cache
    return cold.load_seconds, warm.load_seconds


def compile_ms(engine: Engine, ebnf: str, repeats: int) -> float:
    from wafer_grammar.local.grammars import GrammarCache, tokenizer_info

    loaded = engine.loaded
    info = tokenizer_info(loaded.tokenizer, loaded.vocab_size, loaded.stop_token_ids)
    times = []
    for _ in range(repeats):
        cache = GrammarCache(info)  # empty: every compile is a miss
        start = time.perf_counter()
        cache.get(ebnf)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def mask_ms(engine: Engine, ebnf: str, text: str) -> float:
    """Grammar work per token alone (mask fill, mask apply, accept), on ``text``'s tokens."""
    import torch
    import xgrammar as xgr

    loaded = engine.loaded
    ids = loaded.tokenizer.encode(text)
    compiled = engine.compile(ebnf)
    bitmask = xgr.allocate_token_bitmask(1, loaded.vocab_size)
    logits = torch.zeros(1, loaded.vocab_size)
    best = float("inf")
    for _ in range(5):
        matcher = xgr.GrammarMatcher(compiled)
        start = time.perf_counter()
        for token in ids:
            matcher.fill_next_token_bitmask(bitmask, 0)
            xgr.apply_token_bitmask_inplace(logits, bitmask)
            assert matcher.accept_token(token)
        best = min(best, (time.perf_counter() - start) * 1000 / len(ids))
    return best


def decode_rate(
    engine: Engine, ids: list[int], grammar: str | None, tokens: int, repeats: int
) -> tuple[float, int]:
    best, count = 0.0, 0
    for _ in range(repeats):
        params = SamplingParams(max_tokens=tokens, temperature=0)
        stamps = [time.perf_counter() for _ in engine.submit(ids, grammar=grammar, params=params)]
        if len(stamps) > 1:
            rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
            if rate > best:
                best, count = rate, len(stamps)
    return best, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=64, help="tokens per decode run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement")
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold-load measure")
    args = parser.parse_args(argv)

    rows: list[tuple[str, str]] = []
    if not args.skip_cold:
        cold, warm = load_times()
        rows += [
            ("model load, cold (GGUF dequantized)", f"{cold:.1f} s"),
            ("model load, cached (safetensors)", f"{warm:.1f} s"),
        ]
    with Engine() as engine:
        for name, ebnf in GRAMMARS.items():
            rows.append((f"compile: {name}", f"{compile_ms(engine, ebnf, args.repeats):.1f} ms"))
        tok = engine.tokenizer
        story = tok.encode_chat([{"role": "user", "content": "Tell me a story about a fox."}]).ids
        cat = tok.encode_chat([{"role": "user", "content": "Describe a cat as a JSON object."}]).ids
        runs = [
            ("decode, no grammar (story)", story, None),
            ("decode, grammar [^\\x00]* (story)", story, GRAMMARS["anything"]),
            ("decode, no grammar (JSON prompt)", cat, None),
            ("decode, json.ebnf (JSON prompt)", cat, GRAMMARS["json (grammars/json.ebnf)"]),
        ]
        rates = {}
        for name, ids, grammar in runs:
            rate, count = decode_rate(engine, ids, grammar, args.tokens, args.repeats)
            rates[name] = rate
            rows.append((name, f"{rate:.1f} tok/s ({count} tokens)"))
        base = rates["decode, no grammar (story)"]
        overhead = (base - rates["decode, grammar [^\\x00]* (story)"]) / base * 100
        rows.append(("grammar overhead (same tokens)", f"{overhead:+.1f} %"))
        base = rates["decode, no grammar (JSON prompt)"]
        overhead = (base - rates["decode, json.ebnf (JSON prompt)"]) / base * 100
        rows.append(("json.ebnf overhead (end to end)", f"{overhead:+.1f} %"))
        doc = '{"name": "Tom", "age": 3, "colours": ["black", "white"], "indoor": true}'
        mask = mask_ms(engine, GRAMMARS["json (grammars/json.ebnf)"], doc)
        step = 1000 / rates["decode, no grammar (story)"]
        rows.append(
            (
                "json.ebnf mask work per token",
                f"{mask:.2f} ms ({mask / step * 100:.1f} % of a {step:.0f} ms step)",
            )
        )

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 24}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
