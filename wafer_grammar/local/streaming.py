"""Stream bodies, sans sockets: a generation's deltas in, the chunks to send out.

Chat streams carry usage on every chunk and end with a usage chunk (Wafer forces
``continuous_usage_stats`` and ``include_usage``); completion streams do as their
``stream_options`` say. With tools, a choice's text is held while it could still
be the start of a call; a call is sent whole, in one chunk, when its choice ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from wafer_grammar.local.engine_results import EngineDelta, EngineUsage
from wafer_grammar.local.protocol import Request
from wafer_grammar.local.responses import Shaper
from wafer_grammar.local.tools import CallBuffer, parse_calls


def merged(deltas: Sequence[EngineDelta], text: str) -> EngineDelta:
    """Several held deltas of one choice as one, with ``text`` as its text."""
    last = deltas[-1]
    return EngineDelta(
        last.index,
        text,
        tuple(t for d in deltas for t in d.token_ids),
        tuple(lp for d in deltas for lp in d.logprobs),
        last.finish_reason,
        last.matched_stop,
    )


def chunks(
    request: Request,
    deltas: Iterable[EngineDelta],
    shaper: Shaper,
    prompt_tokens: int,
    final_usage: Any,
) -> Iterator[dict[str, Any]]:
    """The chunk bodies of a streamed answer, in order (``final_usage()`` once it ends)."""
    generated = 0
    plan = shaper.tools
    buffers: dict[int, CallBuffer] = {}
    held: dict[int, list[EngineDelta]] = {}

    def usage() -> EngineUsage | None:
        return EngineUsage(prompt_tokens, generated) if request.continuous_usage else None

    for delta in deltas:
        generated += len(delta.token_ids)
        if plan is None:
            if delta.text or delta.finish_reason or delta.logprobs:
                yield shaper.chunk([delta], usage())
            continue
        buffer = buffers.setdefault(delta.index, CallBuffer(plan.must_call))
        pending = held.setdefault(delta.index, [])
        pending.append(delta)
        released = buffer.feed(delta.text)
        if buffer.state == "text":
            out = merged(pending, released)
            pending.clear()
            if out.text or out.finish_reason or out.logprobs:
                yield shaper.chunk([out], usage())
        elif delta.finish_reason is not None:
            out = merged(pending, buffer.held)
            pending.clear()
            calls = parse_calls(buffer.held)
            if calls is not None:
                yield shaper.tool_chunk(out, calls, usage())
            else:  # cut short before a whole call: what there is, as text
                yield shaper.chunk([out], usage())
    if request.include_usage:
        total = final_usage()
        if total is not None:
            yield shaper.usage_chunk(total)
