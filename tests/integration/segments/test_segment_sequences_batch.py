"""Sequences and rhythms in batch (Ibis on DuckDB): the hand-made history and cases of
tests/unit/segments/test_segment_sequences.py (real time), with a second customer who has no
events at all (never a member of any of them)."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest

from personae.segments.batch import BatchSources, evaluate_rule
from personae.segments.check import check_rule
from segment_events import EVENTS_SCHEMA, SEQUENCE_CASES, SEQUENCES_AS_OF, sequence_history

AS_OF = SEQUENCES_AS_OF
CASES = SEQUENCE_CASES
CON = ibis.duckdb.connect()


def _sources() -> BatchSources:
    CON.create_table("events", pa.Table.from_pylist(sequence_history(), schema=EVENTS_SCHEMA), overwrite=True)
    CON.create_table("traits", pa.table({"customer_id": ["C1", "C2"]}), overwrite=True)
    return BatchSources(AS_OF, CON.table("traits"), CON.table("events"))


@pytest.mark.parametrize(("rule", "member"), CASES)
def test_batch_on_a_hand_made_history(rule: str, member: bool) -> None:
    table = evaluate_rule(check_rule(rule), _sources())
    members = {r["customer_id"] for r in CON.to_pyarrow(table).to_pylist() if r["member"]}
    expected = {"C1"} if member else set()
    if rule.startswith("not "):
        expected |= {"C2"}  # no events: never stopped, so "not stopped" holds
    assert members == expected


def test_injection_through_did_and_returned_is_only_a_string() -> None:
    """Types, ``then`` and ``then_where`` values travel as data: the SQL never holds them."""
    evil = "x'; DROP TABLE events; --"
    then_where = f'plan == "{evil}" or starts_with(plan, "{evil}")'.replace("'", "\\'")
    rule = (
        f'did("{evil}", then="app_open", within="1d") '
        f'or did("app_open", then=["{evil}", "order_completed"], then_where=\'{then_where}\', within="7d") '
        f'or returned("{evil}", after="1d", within="1d")'
    )
    table = evaluate_rule(check_rule(rule), _sources())
    sql = ibis.to_sql(table, dialect="duckdb")
    assert "DROP" not in sql and evil not in sql
    assert not any(r["member"] for r in CON.to_pyarrow(table).to_pylist())
    assert CON.table("events").count().execute() == len(sequence_history())
    # the same query shape with an honest value does select C1 (it ran, and compares)
    honest = check_rule('did("app_open", then=["x", "order_completed"], within="7d")')
    assert {
        r["customer_id"] for r in CON.to_pyarrow(evaluate_rule(honest, _sources())).to_pylist() if r["member"]
    } == {"C1"}
