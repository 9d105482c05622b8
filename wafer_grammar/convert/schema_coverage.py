"""Which schema keywords a converted grammar enforces, and which it leaves to others.

Every keyword of every schema a converter visits gets one line: ``enforced``
(the grammar admits only values that satisfy it), ``checked-after-decoding``
(the grammar does not enforce it: validate the output, e.g. with
``jsonschema``, before trusting it) or ``ignored`` (it does not constrain
values: ``title``, ``description``, ``default``, unknown keywords ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["enforced", "checked-after-decoding", "ignored"]
_RANK = {"enforced": 0, "ignored": 1, "checked-after-decoding": 2}


@dataclass(frozen=True)
class CoverageEntry:
    """One keyword at one place: ``pointer`` is the JSON pointer of its schema."""

    pointer: str
    keyword: str
    status: Status
    note: str = ""

    def __str__(self) -> str:
        where = self.pointer or "(root)"
        note = f"  ({self.note})" if self.note else ""
        return f"{self.status:<22} {where} {self.keyword}{note}"


@dataclass
class Coverage:
    """The report: one :class:`CoverageEntry` per (pointer, keyword), in visiting order."""

    entries: list[CoverageEntry] = field(default_factory=list)

    def record(self, pointer: str, keyword: str, status: Status, note: str = "") -> None:
        """Add a line; a keyword seen twice keeps its weakest status."""
        for i, old in enumerate(self.entries):
            if (old.pointer, old.keyword) == (pointer, keyword):
                if _RANK[status] > _RANK[old.status]:
                    self.entries[i] = CoverageEntry(pointer, keyword, status, note)
                return
        self.entries.append(CoverageEntry(pointer, keyword, status, note))

    def with_status(self, status: Status) -> list[CoverageEntry]:
        """The entries with ``status``."""
        return [e for e in self.entries if e.status == status]

    @property
    def complete(self) -> bool:
        """True when nothing is left to check after decoding."""
        return not self.with_status("checked-after-decoding")

    def __iter__(self) -> Iterator[CoverageEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.entries)
