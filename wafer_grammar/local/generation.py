"""One request's decoding state: its ``n`` choices, matchers, sampler and text streams.

The scheduler (``scheduler.py``) runs the model over every running request at
once and hands each request its rows of logits; :meth:`RequestDecode.take` then
does what is private to the request: penalties and bias, the grammar mask, the
draw (with the request's own seeded generator, so a seed reproduces its output
whatever else shares the batch), logprobs, and the text of each choice.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from wafer_grammar.errors import EngineError
from wafer_grammar.local import sampling
from wafer_grammar.local.detok import TextStream
from wafer_grammar.local.engine_results import EngineDelta, EngineTokenLogprob, FinishReason
from wafer_grammar.local.model import LoadedModel
from wafer_grammar.local.params import SamplingParams


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


class RequestDecode:
    """The ``n`` choices of one request, advanced one token per :meth:`take`."""

    def __init__(self, loaded: LoadedModel, job: DecodeJob) -> None:
        import xgrammar as xgr

        self.job = job
        params = job.params
        self.params = params
        n = params.n
        self.generator = torch.Generator()
        seed = params.seed if params.seed is not None else secrets.randbits(63)
        self.generator.manual_seed(seed % 2**64)
        controls = set(loaded.tokenizer.control_tokens().values())
        self.rows = [
            _Row(
                TextStream(loaded.tokenizer.token_bytes, skip_ids=controls, stop=params.stop),
                xgr.GrammarMatcher(job.grammar) if job.grammar is not None else None,
            )
            for _ in range(n)
        ]
        self.bitmask = (
            xgr.allocate_token_bitmask(n, loaded.vocab_size) if job.grammar is not None else None
        )
        self.stops = set(loaded.stop_token_ids)
        self._loaded = loaded
        self.bias = sampling.bias_tensor(params, loaded.vocab_size)
        self.counts = torch.zeros(n, loaded.vocab_size) if params.penalized else None
        self.last = torch.zeros(n, dtype=torch.long)
        """Each row's latest token: its input to the next step."""
        self.generated = 0
        """Tokens generated over all rows (the usage's completion tokens)."""

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def finished(self) -> bool:
        return all(r.finished for r in self.rows)

    def take(self, logits: torch.Tensor) -> list[EngineDelta]:
        """Choose each unfinished row's next token from ``logits`` ``[n, vocab]``;
        the deltas it made. Finished rows keep a last token but their output is dropped."""
        import xgrammar as xgr

        params = self.params
        logits = sampling.adjust(logits, params, self.counts, self.bias)
        active = [i for i, r in enumerate(self.rows) if not r.finished]
        if self.bitmask is not None:
            for i in active:
                self.rows[i].matcher.fill_next_token_bitmask(self.bitmask, i)
            xgr.apply_token_bitmask_inplace(logits, self.bitmask, indices=active)
        chosen = sampling.sample(logits, params, self.generator)
        infos = _logprobs(logits, chosen, params) if params.logprobs else None
        deltas = []
        for i in active:
            deltas.append(self._advance(i, int(chosen[i]), infos))
            self.generated += 1
        if self.counts is not None:
            self.counts[torch.arange(self.n), chosen] += 1
        self.last = chosen
        return deltas

    def _advance(
        self,
        index: int,
        token: int,
        infos: Sequence[tuple[float, tuple[tuple[int, float], ...]]] | None,
    ) -> EngineDelta:
        """Take ``token`` into row ``index``; the delta says what it added and whether it ended."""
        row = self.rows[index]
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
        if token in self.stops:
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
            elif row.generated >= self.params.max_tokens:
                text += row.text.finish()
                # The output is complete when the grammar allows nothing but a stop
                # token: only the stop token did not fit, which is not a truncation.
                finish = "stop" if self._only_stop_allowed(index) else "length"
        row.finished = finish is not None
        return EngineDelta(index, text, (token,), logprobs, finish, matched)

    def _only_stop_allowed(self, index: int) -> bool:
        matcher = self.rows[index].matcher
        if matcher is None or self.bitmask is None:
            return False
        matcher.fill_next_token_bitmask(self.bitmask, index)
        allowed = self.bitmask[index]
        # Built here, not per request: a row asks at most once, when its budget runs out.
        stop_bits = _token_bits(self._loaded.stop_token_ids, self._loaded.vocab_size)
        return bool((allowed & ~stop_bits).eq(0).all())


def _token_bits(tokens: Sequence[int], vocab_size: int) -> torch.Tensor:
    """``tokens`` as one row of XGrammar's bitmask (int32 words; token t is bit t % 32
    of word t // 32)."""
    words = [0] * ((vocab_size + 31) // 32)
    for t in tokens:
        words[t // 32] |= 1 << (t % 32)
    signed = [w - (1 << 32) if w >= 1 << 31 else w for w in words]
    return torch.tensor(signed, dtype=torch.int32)


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
