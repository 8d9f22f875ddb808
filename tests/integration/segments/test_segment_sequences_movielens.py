"""``did`` and ``returned`` on real, tracking-shaped events: MovieLens ratings and tags.

Every rating is a ``movie_rated`` event (``{"rating": 4.5, "movie_id": "318"}``) and every tag
a ``movie_tagged`` event (``{"tag": "funny"}``), at their real second. Batch (DuckDB), real
time and pandas — computing the definition another way (``merge_asof``: the latest A strictly
before each B) — must pick the same people; the counts are those of docs/segments.md.
Skipped where ``../shared/datasets`` is absent.
"""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from personae.segments.batch import BatchSources, compile_segments
from personae.segments.check import check_rule
from personae.segments.realtime import CustomerState, ProfileEvaluator
from segment_events import EVENTS_SCHEMA

DATASETS = Path(
    os.environ.get("PERSONAE_DATASETS") or Path(__file__).resolve().parents[3].parent / "shared" / "datasets"
)
MOVIELENS = DATASETS / "movielens-small"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (MOVIELENS / "tags.csv").is_file(), reason="MovieLens-small absent"),
]
#: The day of the last rating (2018-09-24 14:27:30).
AS_OF = date(2018, 9, 24)
END = pd.Timestamp(AS_OF + timedelta(days=1))

#: rule → members (611 raters, 58 of whom tagged).
RULES = {
    'did("movie_rated", then="movie_tagged", within="1d")': 53,
    'events("movie_rated") >= 1 and not did("movie_rated", then="movie_tagged", within="1d")': 558,
    "did(\"movie_rated\", where='rating <= 1', then=\"movie_rated\", then_where='rating == 5', "
    'within="1d")': 333,
    'returned("movie_rated", after="1y", within="1y")': 8,
    'returned("movie_rated", after="6m", within="6m")': 5,
}


def _did(a: pd.DataFrame, b: pd.DataFrame, gap: pd.Timedelta) -> set[str]:
    """People with a B strictly after an A and at most ``gap`` later: for each B, the latest A
    strictly before it."""
    pairs = pd.merge_asof(
        b[b["at"] < END][["userId", "at"]].rename(columns={"at": "b"}).sort_values("b"),
        a[a["at"] < END][["userId", "at"]].rename(columns={"at": "a"}).sort_values("a"),
        left_on="b",
        right_on="a",
        by="userId",
        allow_exact_matches=False,
    )
    return set(pairs[pairs.a.notna() & (pairs.b - pairs.a <= gap)].userId.astype(str))


def _returned(df: pd.DataFrame, back_from: str, quiet_from: str) -> set[str]:
    """Rated from ``back_from`` on, not from ``quiet_from`` until then, and before that."""
    df = df[df["at"] < END]
    back = set(df[df["at"] >= back_from].userId)
    quiet = set(df[(df["at"] >= quiet_from) & (df["at"] < back_from)].userId)
    before = set(df[df["at"] < quiet_from].userId)
    return {str(u) for u in (back - quiet) & before}


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ratings = pd.read_csv(MOVIELENS / "ratings.csv")
    tags = pd.read_csv(MOVIELENS / "tags.csv")
    for df in (ratings, tags):
        df["at"] = pd.to_datetime(df.timestamp, unit="s")
    events = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": ratings.userId.astype(str),
                    "occurred_at": ratings["at"],
                    "type": "movie_rated",
                    "properties": [
                        json.dumps({"rating": r, "movie_id": str(m)})
                        for r, m in zip(ratings.rating, ratings.movieId, strict=True)
                    ],
                }
            ),
            pd.DataFrame(
                {
                    "customer_id": tags.userId.astype(str),
                    "occurred_at": tags["at"],
                    "type": "movie_tagged",
                    "properties": [json.dumps({"tag": t}) for t in tags.tag],
                }
            ),
        ]
    )
    for column in ("category", "channel", "product_id"):
        events[column] = None
    return ratings, tags, events[[f.name for f in EVENTS_SCHEMA]]


def test_batch_real_time_and_pandas_agree_on_movielens(
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    ratings, tags, events = frames
    expected = [
        _did(ratings, tags, pd.Timedelta(days=1)),
        set(ratings.userId.astype(str)) - _did(ratings, tags, pd.Timedelta(days=1)),
        _did(ratings[ratings.rating <= 1], ratings[ratings.rating == 5], pd.Timedelta(days=1)),
        _returned(ratings, "2017-09-25", "2016-09-25"),
        _returned(ratings, "2018-03-25", "2017-09-25"),
    ]
    con = ibis.duckdb.connect()
    con.create_table("events", pa.Table.from_pandas(events, schema=EVENTS_SCHEMA, preserve_index=False))
    con.create_table("traits", pa.table({"customer_id": sorted(set(events.customer_id))}))
    library = {f"r{i}": check_rule(rule) for i, rule in enumerate(RULES)}
    compiled = compile_segments(
        list(library), library, BatchSources(AS_OF, con.table("traits"), con.table("events"))
    )
    rows = con.to_pyarrow(compiled.table).to_pylist()
    evaluator = ProfileEvaluator(library)
    real: dict[str, set[str]] = {name: set() for name in library}
    for cid, group in events.groupby("customer_id"):
        state = CustomerState.of(str(cid), {}, events=group.to_dict("records"))
        for name in evaluator.members(state, AS_OF):
            real[name].add(str(cid))
    for (name, column), (rule, count), want in zip(
        compiled.columns.items(), RULES.items(), expected, strict=True
    ):
        batch = {r["customer_id"] for r in rows if r[column]}
        assert len(want) == count, rule
        assert batch == want, f"batch: {rule}"
        assert real[name] == want, f"real time: {rule}"
