"""Settings of the file ingest and the tracking API's row check (see docs/data-model.md)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

#: Dates before this are taken for mistakes by default (placeholder years such as 0001 or 1850).
EARLIEST_DATE = date(1900, 1, 1)


class IngestSettings(BaseModel):
    """The plausible date window, one definition for ``personae ingest`` and ``personae serve``.

    A date outside ``earliest_date`` … now + ``latest_days_ahead`` days is rejected with a
    reason: placeholder years (0001, 1850, 2999) are mistakes, not history. A shop with older
    records (a museum's members since 1880) moves ``earliest_date``; one whose clocks run far
    ahead (pre-orders stamped with the delivery day) widens ``latest_days_ahead``.
    """

    earliest_date: date = Field(EARLIEST_DATE, description="The earliest plausible date of any row.")
    latest_days_ahead: float = Field(
        1.0,
        ge=0,
        le=36_500,
        description="How far past now a date may lie (clocks and time zones differ a little).",
    )
