"""Recent prompts' KV states, reused by any prompt that starts with the same tokens.

Tasks put their shared instructions first so that a server's prefix cache hits;
this is that cache for the embedded engine. Entries are whole prompts (their keys
and values, one row); a lookup finds the entry sharing the longest token prefix
with the new prompt and hands back that many tokens' states, so only the rest is
prefilled. Rotary positions are absolute, so a prefix's states are the same in
any prompt that starts with it. Bounded by tokens held (least recently used
dropped first); only the engine's worker thread touches it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

from wafer_grammar.local.kv_batch import LayerKV


class PrefixCache:
    """An LRU of prompt KV states, bounded by ``max_tokens`` tokens in all."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self._entries: OrderedDict[tuple[int, ...], LayerKV] = OrderedDict()
        self._tokens = 0

    @property
    def tokens(self) -> int:
        """Tokens held now."""
        return self._tokens

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, ids: Sequence[int]) -> tuple[int, LayerKV | None]:
        """The longest cached prefix of ``ids`` leaving at least one token to prefill
        (the last token's logits are needed): ``(length, states)``, or ``(0, None)``."""
        best, best_key = 0, None
        limit = len(ids) - 1
        for key in self._entries:
            shared = _shared_prefix(key, ids, limit)
            if shared > best:
                best, best_key = shared, key
        if best_key is None:
            return 0, None
        self._entries.move_to_end(best_key)
        return best, self._entries[best_key].head(best)

    def store(self, ids: Sequence[int], states: Callable[[], LayerKV]) -> None:
        """Keep ``states()`` (one row, ``len(ids)`` tokens) for ``ids``, dropping entries
        it covers and the least recently used beyond the budget. ``states`` is called
        only when the entry is kept: copying a prompt's states out costs, and a repeated
        prompt is already held."""
        key = tuple(ids)
        if not key or len(key) > self.max_tokens:
            return
        for other in list(self._entries):
            if key == other[: len(key)]:  # already covered by an entry as long or longer
                self._entries.move_to_end(other)
                return
        kept = states()
        if kept.length != len(key):
            return
        for other in list(self._entries):
            if other == key[: len(other)]:  # a prefix of the new one: covered
                self._drop(other)
        self._entries[key] = kept
        self._tokens += len(key)
        while self._tokens > self.max_tokens:
            self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        """Drop every entry."""
        self._entries.clear()
        self._tokens = 0

    def _drop(self, key: tuple[int, ...]) -> None:
        del self._entries[key]
        self._tokens -= len(key)


def _shared_prefix(a: Sequence[int], b: Sequence[int], limit: int) -> int:
    n = min(len(a), len(b), limit)
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n
