"""The prefix cache's bookkeeping, on small fake states (no model)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from wafer_grammar.local.kv_batch import LayerKV  # noqa: E402
from wafer_grammar.local.prefix_cache import PrefixCache  # noqa: E402


def states(length: int) -> LayerKV:
    return LayerKV([torch.zeros(1, 1, length, 2)], [torch.zeros(1, 1, length, 2)])


def test_an_entry_covers_its_prefixes_and_repeats_copy_nothing() -> None:
    cache = PrefixCache(max_tokens=100)
    cache.store([1, 2, 3], lambda: states(3))
    cache.store([1, 2, 3, 4, 5], lambda: states(5))  # covers [1, 2, 3]: it goes
    assert (len(cache), cache.tokens) == (1, 5)

    def not_needed() -> LayerKV:
        raise AssertionError("a prompt already held was copied again")

    cache.store([1, 2, 3, 4, 5], not_needed)
    cache.store([1, 2], not_needed)
    assert cache.lookup([1, 2, 3, 4, 9])[0] == 4
    assert cache.lookup([1, 2, 3, 4, 5])[0] == 4  # the last token is always run
    assert cache.lookup([7, 8])[0] == 0


def test_the_least_recently_used_goes_past_the_budget() -> None:
    cache = PrefixCache(max_tokens=6)
    cache.store([1, 2, 3], lambda: states(3))
    cache.store([4, 5, 6], lambda: states(3))
    cache.lookup([1, 2, 9])  # touches [1, 2, 3]
    cache.store([7, 8], lambda: states(2))
    assert cache.lookup([4, 5, 9])[0] == 0 and cache.lookup([1, 2, 9])[0] == 2
    assert cache.tokens == 5
