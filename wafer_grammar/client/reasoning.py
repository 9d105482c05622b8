"""Inline reasoning: split ``<think>...</think>`` out of content (MiniMax-M3's style).

Models whose registry entry says ``reasoning: "inline"`` put their reasoning at
the start of the content instead of in ``reasoning_content``. The splitter gives
both back the way the other models' answers look: content that does not start
with ``<think>`` (leading whitespace aside) is left alone.
"""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"


def split_think(text: str) -> tuple[str | None, str]:
    """``(reasoning, content)`` of a whole inline-reasoning answer."""
    splitter = ThinkSplitter()
    reasoning, content = splitter.feed(text)
    more_reasoning, more_content = splitter.flush()
    reasoning += more_reasoning
    content += more_content
    return (reasoning if splitter.saw_reasoning else None), content


class ThinkSplitter:
    """Streaming splitter: :meth:`feed` text pieces, get ``(reasoning, content)`` pieces.

    Text that might be the start of a tag is held back until the next piece
    decides it, so a tag split across chunks is still recognised.
    """

    def __init__(self) -> None:
        self._state = "start"  # start -> thinking -> after (the close tag) -> content
        self._held = ""
        self.saw_reasoning = False

    def feed(self, piece: str) -> tuple[str, str]:
        text = self._held + piece
        self._held = ""
        reasoning = ""
        if self._state == "start":
            stripped = text.lstrip()
            if stripped.startswith(OPEN):
                self._state = "thinking"
                self.saw_reasoning = True
                text = stripped[len(OPEN) :]
            elif OPEN.startswith(stripped):
                self._held = text  # "", "  <th": may still become "<think>"
                return "", ""
            else:
                self._state = "content"
        if self._state == "thinking":
            end = text.find(CLOSE)
            if end < 0:
                keep = _tail_of(text, CLOSE)
                self._held = text[len(text) - keep :] if keep else ""
                return text[: len(text) - keep], ""
            reasoning = text[:end]
            text = text[end + len(CLOSE) :]
            self._state = "after"
        if self._state == "after":
            # the template puts a blank line between the block and the answer
            text = text.lstrip("\n")
            if text:
                self._state = "content"
        return reasoning, text

    def flush(self) -> tuple[str, str]:
        """The held-back text at the end of the answer."""
        held, self._held = self._held, ""
        if self._state == "thinking":
            return held, ""  # unterminated reasoning (cut at max_tokens) stays reasoning
        return "", held


def _tail_of(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0
