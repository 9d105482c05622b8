"""Streamed extraction: views of the value while the answer arrives, then the validated value.

Each view is :class:`~wafer_grammar.decoding.PartialJSON`'s (like Instructor's
``Partial``): it only extends the views before it. The last update carries the
value :func:`~wafer_grammar.decoding.decode` validated, as ``extract`` returns it.

A truncated answer is retried once with a larger budget, as ``extract`` does. At
temperature 0 the retry's text normally repeats the first answer and goes on, so
its views are held back while they repeat what was shown and then extend it. A
retry whose text parts from the first answer's starts again from an empty value:
its first view is marked ``restarted``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wafer_grammar.decoding.partial import PartialJSON

if TYPE_CHECKING:
    from wafer_grammar.tasks.extraction import Extraction


@dataclass(frozen=True)
class ExtractionUpdate:
    """One update of a streamed extraction.

    Attributes:
        value: the value so far (a prefix-consistent JSON view), or on the last
            update the validated value (a model instance for a pydantic model).
        restarted: this view does not extend the ones before it (a retry after a
            truncation said something else; its views start again).
        extraction: on the last update, the :class:`Extraction` (answers, costs).
    """

    value: Any
    restarted: bool = False
    extraction: Extraction | None = None

    @property
    def done(self) -> bool:
        """Whether this is the last update, with the validated value."""
        return self.extraction is not None


class StreamedViews:
    """The views of one extraction's streamed attempts, kept consistent across a retry."""

    def __init__(self) -> None:
        self._partial = PartialJSON()
        self._pieces: list[str] = []  # this attempt's text
        self._length = 0
        self._earlier: str | None = None  # a retry: the text shown, while it is repeated
        self._restarted = False

    def retry(self) -> None:
        """A new attempt begins (after a truncated answer)."""
        text = "".join(self._pieces)
        if self._earlier is None or len(text) > len(self._earlier):
            self._earlier = text
        self._partial = PartialJSON()
        self._pieces, self._length = [], 0

    def feed(self, piece: str) -> ExtractionUpdate | None:
        """Read the next text of the answer; the update to show (None: nothing new)."""
        changed = self._partial.feed(piece)
        start = self._length
        self._pieces.append(piece)
        self._length += len(piece)
        earlier = self._earlier
        if earlier is not None:
            if piece.startswith(earlier[start : self._length]):
                if self._length <= len(earlier):
                    return None  # repeating what the first answer showed
            else:
                self._restarted = True  # parted from the first answer: start again
            self._earlier = None
        if not changed:
            return None
        update = ExtractionUpdate(self._partial.value, restarted=self._restarted)
        self._restarted = False
        return update
