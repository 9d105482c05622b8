"""A batch of sequences of different lengths in one KV cache: left padding plus masks.

Continuous batching needs rows that joined at different times (so hold different
numbers of tokens) to run through one forward pass. Each row's cached keys and
values are right-aligned in one ``transformers`` ``DynamicCache``; ``valid``
marks which cached columns hold a real token of that row. Every forward builds a
4D boolean mask from it (causal, and blind to padding) and gives each token its
true position, so rotary embeddings see the same positions as a row decoded
alone: padding changes which columns exist, never what a row attends to.

Padding can also sit between a row's cached prefix and its new tokens (a prompt
whose start came from the prefix cache, prefilled beside longer ones); it is
masked the same way. A padding *query* would attend to nothing and its softmax
would be NaN, which the next layer's values would carry into real rows (0 x NaN
is NaN), so each padding query may see itself; its output is never used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class LayerKV:
    """Cached keys and values, per layer, each ``[rows, heads, length, dim]``."""

    keys: list[torch.Tensor]
    values: list[torch.Tensor]

    @property
    def length(self) -> int:
        return int(self.keys[0].shape[-2])

    def head(self, length: int) -> LayerKV:
        """The first ``length`` tokens (views, no copy)."""
        return LayerKV(
            [k[:, :, :length] for k in self.keys], [v[:, :, :length] for v in self.values]
        )


@dataclass(frozen=True)
class KVShape:
    """The cache geometry of a model: layers, key/value heads, head size."""

    layers: int
    heads: int
    dim: int

    @classmethod
    def of(cls, model: Any) -> KVShape:
        config = model.config
        heads = int(getattr(config, "num_key_value_heads", None) or config.num_attention_heads)
        dim = int(
            getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        )
        return cls(int(config.num_hidden_layers), heads, dim)

    def empty(self, rows: int, width: int = 0) -> LayerKV:
        """``rows`` rows of ``width`` zero (padding) columns."""
        return LayerKV(
            [torch.zeros(rows, self.heads, width, self.dim) for _ in range(self.layers)],
            [torch.zeros(rows, self.heads, width, self.dim) for _ in range(self.layers)],
        )


class PaddedBatch:
    """The KV cache of a batch of rows, each right-aligned, with its validity mask."""

    def __init__(self, kv: LayerKV, valid: torch.Tensor, positions: torch.Tensor) -> None:
        self.kv = kv
        self.valid = valid
        """``[rows, width]`` bool: which columns hold a real token of that row."""
        self.positions = positions
        """``[rows]`` long: each row's next position (its count of real tokens)."""

    @property
    def rows(self) -> int:
        return int(self.valid.shape[0])

    @property
    def width(self) -> int:
        return int(self.valid.shape[1])

    @classmethod
    def from_prefixes(cls, shape: KVShape, prefixes: Sequence[LayerKV | None]) -> PaddedBatch:
        """A batch whose row ``i`` holds the one-row ``prefixes[i]`` (None: nothing yet)."""
        rows = [p if p is not None else shape.empty(1) for p in prefixes]
        width = max((r.length for r in rows), default=0)
        kv = LayerKV(
            [torch.cat([_pad_left(r.keys[i], width) for r in rows]) for i in range(shape.layers)],
            [torch.cat([_pad_left(r.values[i], width) for r in rows]) for i in range(shape.layers)],
        )
        lengths = torch.tensor([r.length for r in rows], dtype=torch.long)
        valid = torch.arange(width).unsqueeze(0) >= (width - lengths).unsqueeze(1)
        return cls(kv, valid, lengths)

    # ------------------------------------------------------------ the forward pass

    def forward(
        self, model: Any, ids: torch.Tensor, ids_valid: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Run ``ids`` ``[rows, q]`` (left-padded where ``ids_valid`` is False) through
        ``model``, appending them to the cache; the logits at each row's last column."""
        from transformers import DynamicCache

        rows, q = ids.shape
        if ids_valid is None:
            ids_valid = torch.ones(rows, q, dtype=torch.bool)
        width = self.width
        keys_valid = torch.cat([self.valid, ids_valid], dim=1)  # [rows, width + q]
        own = torch.arange(q) + width  # each query's own column
        causal = torch.arange(width + q).unsqueeze(0) <= own.unsqueeze(1)  # [q, width + q]
        mask = keys_valid[:, None, None, :] & causal[None, None]
        mask[:, 0, torch.arange(q), own] = True  # padding queries see themselves
        step = torch.cumsum(ids_valid.long(), dim=1) - 1
        position_ids = (self.positions.unsqueeze(1) + step).clamp(min=0)
        cache: Any = DynamicCache(config=model.config)  # its layers' union type is too wide
        for layer, k, v in zip(cache.layers, self.kv.keys, self.kv.values, strict=True):
            layer.lazy_initialization(k, v)
            layer.keys, layer.values = k, v
        out = model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=position_ids,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        self.kv = LayerKV(
            [layer.keys for layer in cache.layers], [layer.values for layer in cache.layers]
        )
        self.valid = keys_valid
        self.positions = self.positions + ids_valid.sum(dim=1)
        logits: torch.Tensor = out.logits[:, -1, :].float()
        return logits

    # ------------------------------------------------------------ reshaping the batch

    def row(self, index: int) -> LayerKV:
        """Row ``index``'s real tokens, copied out (for the prefix cache; indexing by a
        mask copies, so the batch's tensors are not kept alive by it)."""
        keep = self.valid[index]
        return LayerKV(
            [k[index : index + 1, :, keep] for k in self.kv.keys],
            [v[index : index + 1, :, keep] for v in self.kv.values],
        )

    def select(self, rows: Sequence[int]) -> None:
        """Keep only ``rows`` (in that order; repeats allowed), then drop leading
        columns no remaining row uses."""
        index = torch.tensor(list(rows), dtype=torch.long)
        valid = self.valid.index_select(0, index)
        used = valid.any(dim=0).nonzero()
        first = int(used[0]) if len(used) else valid.shape[1]
        self.kv = LayerKV(
            [k.index_select(0, index)[:, :, first:] for k in self.kv.keys],
            [v.index_select(0, index)[:, :, first:] for v in self.kv.values],
        )
        self.valid = valid[:, first:]
        self.positions = self.positions.index_select(0, index)

    def extend(self, other: PaddedBatch) -> None:
        """Append ``other``'s rows (the narrower of the two is padded on the left)."""
        width = max(self.width, other.width)
        self.kv = LayerKV(
            [
                torch.cat([_pad_left(a, width), _pad_left(b, width)])
                for a, b in zip(self.kv.keys, other.kv.keys, strict=True)
            ],
            [
                torch.cat([_pad_left(a, width), _pad_left(b, width)])
                for a, b in zip(self.kv.values, other.kv.values, strict=True)
            ],
        )
        self.valid = torch.cat([_pad_valid(self.valid, width), _pad_valid(other.valid, width)])
        self.positions = torch.cat([self.positions, other.positions])


def _pad_left(tensor: torch.Tensor, width: int) -> torch.Tensor:
    missing = width - tensor.shape[-2]
    if not missing:
        return tensor
    rows, heads, _, dim = tensor.shape
    return torch.cat([tensor.new_zeros(rows, heads, missing, dim), tensor], dim=-2)


def _pad_valid(valid: torch.Tensor, width: int) -> torch.Tensor:
    missing = width - valid.shape[1]
    if not missing:
        return valid
    return torch.cat([valid.new_zeros(valid.shape[0], missing), valid], dim=1)
