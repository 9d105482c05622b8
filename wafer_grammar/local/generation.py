"""The decode loop: prefill, then one token per step for all ``n`` choices at once.

Every choice of a request shares the prompt, so the ``n`` choices run as one
batch in lockstep (no padding needed). Each step the grammar matchers write
their masks, disallowed logits become -inf, and the sampler draws.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from wafer_grammar.errors import EngineError
from wafer_grammar.local import sampling
from wafer_grammar.local.detok import TextStream
from wafer_grammar.local.engine_results import EngineDelta, EngineTokenLogprob, FinishReason
from wafer_grammar.local.model import LoadedModel
from wafer_grammar.local.params import SamplingParams

Emit = Callable[[list[EngineDelta]], None]


@dataclass
class DecodeJob:
    """One request's work: its prompt, compiled grammar (or None) and parameters."""

    prompt_ids: list[int]
    grammar: Any
    params: SamplingParams
    cancelled: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Row:
    """The state of one choice."""

    text: TextStream
    matcher: Any
    generated: int = 0
    finished: bool = False


def run(loaded: LoadedModel, job: DecodeJob, emit: Emit) -> int:
    """Decode ``job``, handing each step's deltas to ``emit``; returns tokens generated.

    Stops early, without a final delta, when ``job.cancelled`` is set.
    """
    import xgrammar as xgr

    params = job.params
    n = params.n
    generator = torch.Generator()
    seed = params.seed if params.seed is not None else secrets.randbits(63)
    generator.manual_seed(seed % 2**64)
    controls = set(loaded.tokenizer.control_tokens().values())
    rows = [
        _Row(
            TextStream(loaded.tokenizer.token_bytes, skip_ids=controls, stop=params.stop),
            xgr.GrammarMatcher(job.grammar) if job.grammar is not None else None,
        )
        for _ in range(n)
    ]
    bitmask = xgr.allocate_token_bitmask(n, loaded.vocab_size) if job.grammar is not None else None
    stops = set(loaded.stop_token_ids)
    bias = sampling.bias_tensor(params, loaded.vocab_size)
    counts = torch.zeros(n, loaded.vocab_size) if params.penalized else None
    total = 0
    with torch.inference_mode():
        cache = _new_cache(loaded.model)
        ids = torch.tensor([job.prompt_ids] * n, dtype=torch.long)
        for _step in range(params.max_tokens):
            if job.cancelled.is_set():
                return total
            logits = sampling.adjust(_forward(loaded.model, ids, cache), params, counts, bias)
            active = [i for i, r in enumerate(rows) if not r.finished]
            if bitmask is not None:
                for i in active:
                    rows[i].matcher.fill_next_token_bitmask(bitmask, i)
                xgr.apply_token_bitmask_inplace(logits, bitmask, indices=active)
            chosen = sampling.sample(logits, params, generator)
            infos = _logprobs(logits, chosen, params) if params.logprobs else None
            deltas = []
            for i in active:
                deltas.append(_advance(rows[i], i, int(chosen[i]), infos, stops, params))
                total += 1
            emit(deltas)
            if counts is not None:
                counts[torch.arange(n), chosen] += 1
            if all(r.finished for r in rows):
                return total
            # Finished rows keep stepping with their last token: lockstep is cheaper
            # than shrinking the batch and its cache, and their output is ignored.
            ids = chosen.unsqueeze(-1)
    return total


def _new_cache(model: Any) -> Any:
    from transformers import DynamicCache

    return DynamicCache(config=model.config)


def _forward(model: Any, ids: torch.Tensor, cache: Any) -> torch.Tensor:
    out = model(input_ids=ids, cache=cache, use_cache=True, logits_to_keep=1)
    logits: torch.Tensor = out.logits[:, -1, :].float()
    return logits


def _logprobs(
    logits: torch.Tensor, chosen: torch.Tensor, params: SamplingParams
) -> list[tuple[float, tuple[tuple[int, float], ...]]]:
    """Per row: the chosen token's logprob and the top alternatives (after the mask)."""
    lp = sampling.log_probs(logits)
    picked = lp.gather(-1, chosen.unsqueeze(-1)).squeeze(-1).tolist()
    if params.top_logprobs:
        values, ids = sampling.top_alternatives(lp, params.top_logprobs)
        tops = [
            tuple(
                (int(t), float(v))
                for t, v in zip(row_ids, row_vals, strict=True)
                if v != float("-inf")
            )  # masked tokens are not alternatives
            for row_ids, row_vals in zip(ids.tolist(), values.tolist(), strict=True)
        ]
    else:
        tops = [()] * len(picked)
    return list(zip(picked, tops, strict=True))


def _advance(
    row: _Row,
    index: int,
    token: int,
    infos: Sequence[tuple[float, tuple[tuple[int, float], ...]]] | None,
    stops: set[int],
    params: SamplingParams,
) -> EngineDelta:
    """Take ``token`` into ``row``; the delta says what it added and whether it ended."""
    if row.matcher is not None and not row.matcher.accept_token(token):
        # The mask allowed only tokens the matcher accepts; refusing one is an engine bug.
        raise EngineError(f"the grammar matcher refused token {token}, which its mask allowed")
    offset = row.text.position
    row.generated += 1
    logprobs: tuple[EngineTokenLogprob, ...] = ()
    if infos is not None:
        logprob, top = infos[index]
        logprobs = (EngineTokenLogprob(token, logprob, top, offset),)
    finish: FinishReason | None = None
    matched: int | str | None = None
    if token in stops:
        text = row.text.finish()
        finish, matched = "stop", token
    else:
        text = row.text.push(token)
        if row.text.matched is not None:
            finish, matched = "stop", row.text.matched
        elif row.matcher is not None and row.matcher.is_terminated():
            # A grammar that ends without a stop token (none of ours) still ends the choice.
            text += row.text.finish()
            finish = "stop"
        elif row.generated >= params.max_tokens:
            text += row.text.finish()
            finish = "length"
    row.finished = finish is not None
    return EngineDelta(index, text, (token,), logprobs, finish, matched)
