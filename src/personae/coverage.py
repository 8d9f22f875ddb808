"""Who an output was computed on, and why the others were left out.

Every analysis that works on fewer people (or texts, or orders) than it was asked about says how
many were left out and why: a consent objection, a missing survey answer, too small a group. A
silent shrink — "NPS n = 0" with no word — reads as "nobody is unhappy" when the truth is "nobody
was asked". :class:`Coverage` carries the count and the reasons from the application layer to
every shell: one line in the CLI, a ``left_out`` field in ``--json``, a sentence in the report and
on the dashboard.

>>> c = Coverage.of(120, {"without an NPS answer": 100, "who objected to analytics": 2})
>>> c.used, c.left_out
(18, 102)
>>> c.sentence()
'18 of 120 customers used; left out 102: 100 without an NPS answer, 2 who objected to analytics'
>>> c.as_json()["reasons"]
{'without an NPS answer': 100, 'who objected to analytics': 2}
>>> Coverage.of(30, {"without orders": 4}).sentence()
'26 of 30 customers used; left out 4 without orders'
>>> Coverage.of(5, {"without orders": 0}).sentence() is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Coverage:
    """``total`` people asked about; ``reasons`` maps each reason to how many it left out.

    Reasons are phrases that complete "left out N: …" (``"without an NPS answer"``); they are
    counted in order and a person is counted under the first reason that applies, so the counts
    add up to :attr:`left_out`.
    """

    total: int
    reasons: Mapping[str, int] = field(default_factory=dict)
    unit: str = "customers"

    @classmethod
    def of(cls, total: int, reasons: Mapping[str, int] | None = None, unit: str = "customers") -> Coverage:
        """Counts as plain ints, zero reasons dropped (so nothing says "left out 0: …")."""
        kept = {str(k): int(v) for k, v in (reasons or {}).items() if int(v) > 0}
        return cls(int(total), kept, unit)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Coverage:
        """Back from :meth:`as_json` (the shells print what the application returned)."""
        return cls.of(data["total"], data["reasons"], data.get("unit", "customers"))

    @property
    def left_out(self) -> int:
        return sum(self.reasons.values())

    @property
    def used(self) -> int:
        return max(self.total - self.left_out, 0)

    def sentence(self) -> str | None:
        """One line for a person, or ``None`` when nobody was left out."""
        if not self.left_out:
            return None
        head = f"{self.used:,} of {self.total:,} {self.unit} used; left out"
        if len(self.reasons) == 1:
            ((reason, n),) = self.reasons.items()
            return f"{head} {n:,} {reason}"
        why = ", ".join(f"{n:,} {reason}" for reason, n in self.reasons.items())
        return f"{head} {self.left_out:,}: {why}"

    def as_json(self) -> dict[str, Any]:
        """The ``left_out`` field of a command's ``--json``."""
        return {
            "unit": self.unit,
            "total": self.total,
            "used": self.used,
            "left_out": self.left_out,
            "reasons": dict(self.reasons),
        }
