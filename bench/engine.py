"""Benchmark of the embedded engine: load time, grammar compile time, decode speed.

Run: .venv/bin/python bench/engine.py [--tokens 64] [--repeats 3]

- model load, cold (a fresh cache: the GGUF is dequantized) and cached;
- compile time per grammar (XGrammar, plus our checker that runs first), uncached;
- decode tokens/s, greedy, with and without a grammar, same prompt and length:
  the grammar is one that admits whatever the model writes (``[^\\x00]*``, so
  both runs decode the same tokens) and the JSON grammar on a JSON prompt.

Decode speed counts steps after the first token (prefill excluded); the best of
``--repeats`` runs is kept, since other processes only ever slow a run down.

``--throughput`` adds the batching table (each ratio against its own baseline,
measured in the same run): 1-token completions and 64-token generations over
HTTP at concurrency 1, 4 and 16; prefill of a 300-token prompt cold and with a
280-token prefix-cache hit; aggregate decode tok/s at batch 1 and 8; and the
latency of a 1-token request just after 8 streaming clients left mid-generation,
against the same request on an idle server.
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
import http.client  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import struct  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from wafer_grammar.local import Engine, EngineConfig, LocalServer, SamplingParams  # noqa: E402
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


# ---------------------------------------------------------------- throughput

#: Cannot end before max_tokens, so every generation has the same length.
ENDLESS = "root ::= [a-z ]{3000}"


def _post(base: str, body: dict[str, object]) -> dict[str, Any]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    try:
        conn.request(
            "POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"}
        )
        reply = conn.getresponse()
        data = json.loads(reply.read())
        assert reply.status == 200, data
        return dict(data)
    finally:
        conn.close()


def http_rate(
    base: str, model: str, concurrency: int, tokens: int, requests: int
) -> tuple[float, float]:
    """Requests/s and completion tokens/s of ``requests`` completions, ``concurrency``
    in flight at a time."""
    prompt = "Write about the sea."

    def one(i: int) -> int:
        body: dict[str, object] = {
            "model": model,
            "prompt": f"{prompt} ({i})",
            "max_tokens": tokens,
            "temperature": 0,
        }
        if tokens > 1:
            body["ebnf"] = ENDLESS
        usage = _post(base, body)["usage"]
        return int(usage["completion_tokens"])

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        generated = sum(pool.map(one, range(requests)))
    wall = time.perf_counter() - start
    return requests / wall, generated / wall


def first_token_ms(engine: Engine, ids: list[int]) -> tuple[float, int]:
    """Milliseconds to a 1-token completion of ``ids``, and its cached prompt tokens."""
    start = time.perf_counter()
    generation = engine.submit(ids, params=SamplingParams(max_tokens=1, temperature=0))
    usage = generation.result().usage
    return (time.perf_counter() - start) * 1000, usage.cached_tokens


def prefill_ms(engine: Engine, repeats: int) -> tuple[float, float, int]:
    """Time to the first token of a 300-token prompt, cold and sharing 280 cached tokens
    with the prompt before it; and the cached tokens the hit reported."""
    tok = engine.tokenizer
    cold, hit, cached = [], [], 0
    for r in range(repeats):
        # A start no earlier prompt has, so the first one is cold.
        start = ("Zebra", "Quokka", "Narwhal", "Axolotl", "Pangolin", "Okapi", "Tapir")[r % 7]
        words = tok.encode(start + " " + " ".join(f"w{r}x{i}" for i in range(300)))
        first, second = words[:300], words[:280] + words[300 - 20 : 300][::-1]
        took, reused = first_token_ms(engine, first)
        assert reused == 0, "the cold prompt hit the cache"
        cold.append(took)
        took, cached = first_token_ms(engine, second)
        hit.append(took)
    return statistics.median(cold), statistics.median(hit), cached


def batch_rate(engine: Engine, batch: int, tokens: int) -> float:
    """Aggregate decode tok/s of ``batch`` requests decoding together (after all joined)."""
    params = SamplingParams(max_tokens=tokens, temperature=0)
    grammar = engine.compile(ENDLESS)
    prompts = [engine.tokenizer.encode(f"Story number {i}:") for i in range(batch)]
    generations = [engine.submit(p, compiled=grammar, params=params) for p in prompts]
    stamps: list[list[float]] = [[] for _ in generations]

    def drain(i: int) -> None:
        stamps[i] = [time.perf_counter() for _ in generations[i]]

    with ThreadPoolExecutor(batch) as pool:
        list(pool.map(drain, range(batch)))
    begin = max(s[0] for s in stamps)  # every row is in the batch from here
    end = max(s[-1] for s in stamps)
    steps = sum(sum(1 for t in s if t > begin) for s in stamps)
    return steps / (end - begin)


def after_abandoned_streams(server: LocalServer, model: str) -> tuple[float, float]:
    """1-token latency (ms) on an idle server, and just after 8 streams of 200 tokens
    were cut (median of 3)."""
    body = {"model": model, "prompt": "Hello", "max_tokens": 1, "temperature": 0}
    idle = statistics.median(_timed_post(server.base_url, body) for _ in range(5))
    after = [_after_cut(server, model, body) for _ in range(3)]
    return idle, statistics.median(after)


def _after_cut(server: LocalServer, model: str, body: dict[str, object]) -> float:
    parts = urlsplit(server.base_url)
    stream = json.dumps(
        {
            "model": model,
            "prompt": "A long tale:",
            "max_tokens": 200,
            "stream": True,
            "ebnf": ENDLESS,
        }
    ).encode()
    socks = []
    for _ in range(8):
        sock = socket.create_connection((parts.hostname, parts.port))
        sock.sendall(
            b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(stream)}\r\n\r\n".encode()
            + stream
        )
        seen = b""
        while b"data: " not in seen:
            seen += sock.recv(4096)
        socks.append(sock)
    for sock in socks:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    return _timed_post(server.base_url, body)


def _timed_post(base: str, body: dict[str, object]) -> float:
    start = time.perf_counter()
    _post(base, body)
    return (time.perf_counter() - start) * 1000


def throughput_rows(repeats: int) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with LocalServer(port=0) as server:
        engine, model, base = server.engine, server.engine.config.model_id, server.base_url
        _post(base, {"model": model, "prompt": "warm up", "max_tokens": 2})
        for tokens, requests in ((1, 48), (64, 16)):
            base_rate = 0.0
            for concurrency in (1, 4, 16):
                rate, tok_rate = http_rate(base, model, concurrency, tokens, requests)
                base_rate = base_rate or rate
                rows.append(
                    (
                        f"HTTP {tokens}-token completions, concurrency {concurrency}",
                        f"{rate:.1f} req/s, {tok_rate:.0f} tok/s ({rate / base_rate:.2f}x)",
                    )
                )
        cold, hit, cached = prefill_ms(engine, repeats)
        rows.append(("first token, 300-token prompt, cold", f"{cold:.0f} ms"))
        rows.append(
            (
                "first token, same sharing 280 tokens",
                f"{hit:.0f} ms ({cold / hit:.1f}x faster; cached_tokens {cached})",
            )
        )
        one = max(batch_rate(engine, 1, 64) for _ in range(repeats))
        eight = max(batch_rate(engine, 8, 64) for _ in range(repeats))
        rows.append(("decode, batch 1", f"{one:.1f} tok/s"))
        rows.append(("decode, batch 8 (aggregate)", f"{eight:.1f} tok/s ({eight / one:.2f}x)"))
        idle, after = after_abandoned_streams(server, model)
        rows.append(("1-token request, idle server", f"{idle:.0f} ms"))
        rows.append(
            (
                "same, right after 8 streams were cut (median of 3)",
                f"{after:.0f} ms ({after / idle:.2f}x idle)",
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=64, help="tokens per decode run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement")
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold-load measure")
    parser.add_argument(
        "--throughput", action="store_true", help="only the batching and prefix-cache table"
    )
    args = parser.parse_args(argv)
    if args.throughput:
        _print(throughput_rows(args.repeats))
        return 0

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

    _print(rows)
    return 0


def _print(rows: list[tuple[str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 24}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
