"""Events for the segment tests: the Arrow schema of the ``events`` table the batch evaluator
reads, and the hand-made history of sequences and rhythms run both in real time
(tests/unit/segments/test_segment_sequences.py) and in batch
(tests/integration/segments/test_segment_sequences_batch.py).

Not a test module: tests in every directory import it (``tests`` is on ``sys.path`` under
pytest's default import mode, because tests/conftest.py lives there).
"""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa

#: The columns of the ``events`` table, in the store's order.
EVENTS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("occurred_at", pa.timestamp("us")),
        ("type", pa.string()),
        ("category", pa.string()),
        ("channel", pa.string()),
        ("product_id", pa.string()),
        ("properties", pa.string()),
    ]
)

#: The as-of date of the sequence history: a Monday.
SEQUENCES_AS_OF = date(2025, 6, 30)


def sequence_history() -> list[dict[str, object]]:
    """One customer's (C1) events around the as-of date 2025-06-30 (a Monday), with events
    exactly on window boundaries."""

    def ev(at: datetime, kind: str, channel: str | None = None) -> dict[str, object]:
        return {
            "customer_id": "C1",
            "occurred_at": at,
            "type": kind,
            "category": None,
            "channel": channel,
            "product_id": None,
            "properties": None,
        }

    return [
        # weeks ending on the as-of day: w1 06-24..06-30, w2 06-17..23, w3 06-10..16, w4 06-03..09
        ev(datetime(2025, 6, 24), "app_open", "app"),  # first moment of w1 (and of "7d")
        ev(datetime(2025, 6, 17, 12), "app_open", "app"),  # w2
        ev(datetime(2025, 6, 9, 23, 59), "app_open", "web"),  # last minute of w4
        ev(datetime(2025, 7, 1), "app_open", "app"),  # after the as-of day: never read
        ev(datetime(2025, 6, 24), "order_completed"),  # the first one, on the first day of "7d"
        ev(datetime(2025, 6, 30, 23, 59), "order_completed"),
        ev(datetime(2025, 5, 31, 23, 59), "newsletter_open"),  # the day before "30d" starts
        ev(datetime(2025, 7, 1), "signed_up"),  # only after the as-of day
    ]


#: (rule, member of C1) on :func:`sequence_history` — the same cases in real time and in batch.
SEQUENCE_CASES = [
    ('first_time("order_completed", within="7d")', True),  # first event at the window's first second
    ('first_time("order_completed", within="6d")', False),  # window starts 06-25: it was before
    ('first_time("app_open", within="7d")', False),  # did it before the window
    ('first_time("app_open", within="4w")', True),  # 06-03 onwards holds all three
    ('first_time("app_open", channel="app", within="2w")', True),  # filters apply to "ever" too
    ('first_time("signed_up", within="7d")', False),  # only after the as-of date
    ('first_time("never_seen", within="7d")', False),
    ('stopped("newsletter_open", after="30d")', True),  # 05-31 23:59 is outside 06-01..06-30
    ('stopped("newsletter_open", after="31d")', False),  # 05-31 is inside
    ('stopped("app_open", after="7d")', False),
    ('not stopped("app_open", after="7d")', True),
    ('stopped("app_open", after="6d")', True),  # latest read is 06-24, outside 06-25..06-30
    ('stopped("signed_up", after="1d")', False),  # never did it (up to the as-of date)
    ('stopped("never_seen", after="30d")', False),
    ('regularly("app_open", periods=3, of=4, period="1w")', True),  # w1, w2, w4
    ('regularly("app_open", periods=3, of=3, period="1w")', False),  # w3 is empty
    ('regularly("app_open", periods=2, of=2, period="1w")', True),
    ('regularly("app_open", periods=1, of=1, period="1w")', True),
    ('regularly("app_open", periods=1, of=1, period="6d")', False),  # 06-25..06-30: none
    ('regularly("app_open", channel="app", periods=3, of=4, period="1w")', False),  # w4 was web
    ('regularly("app_open", periods=2, of=8, period="1m")', False),  # all in 05-31..06-30
    ('regularly("newsletter_open", periods=1, of=2, period="1m")', True),  # 05-31 opens month 1
    ('regularly("order_completed", periods=2, of=2, period="1d")', False),  # 06-30 only
    ('regularly("order_completed", periods=2, of=7, period="1d")', True),  # 06-30 and 06-24
    # did(A, then=B, within=W): B strictly after A, at most W later
    ('did("app_open", then="order_completed", within="1d")', False),  # 06-24 00:00 both: not after
    ('did("app_open", then="order_completed", within="7d")', True),  # 06-24 → 06-30 23:59
    ('did("app_open", then="order_completed", within="6d")', False),  # 6 d 23:59 > 6 d
    ('did("order_completed", then="app_open", within="1d")', False),  # 07-01 is after the as-of day
    ('did("order_completed", then="order_completed", within="7d")', True),  # two distinct events
    ('did("order_completed", then="order_completed", within="6d")', False),
    ('did("app_open", then="order_completed", within="7d", since="7d")', True),  # A at 06-24 00:00
    ('did("app_open", then="order_completed", within="7d", since="6d")', False),  # since 06-25
    ('did("app_open", channel="web", then="app_open", within="1w")', False),  # 7 d 12:01 later
    ('did("app_open", channel="web", then="app_open", within="2w")', True),
    ('did("newsletter_open", then=["app_open", "signed_up"], within="8d")', False),  # 9 d later
    ('did("newsletter_open", then=["app_open", "signed_up"], within="9d")', True),  # exactly 9 d: in
    ('not did("app_open", then="signed_up", within="30d")', True),  # signed up after the as-of day
    # returned(T, after=G, within=W): in W, nothing in the G before it, something before that
    ('returned("app_open", after="6d", within="1w")', True),  # 06-24; 06-18..23 empty; 06-17 before
    ('returned("app_open", after="7d", within="1w")', False),  # 06-17 12:00 is in the break
    ('returned("app_open", after="1d", within="2w")', True),  # nothing on 06-16, 06-09 before
    ('returned("app_open", channel="app", after="1d", within="2w")', False),  # nothing before
    ('returned("order_completed", after="30d", within="7d")', False),  # a first time is no return
    ('returned("newsletter_open", after="1m", within="1m")', False),
    ('not returned("never_seen", after="1d", within="1d")', True),
]
