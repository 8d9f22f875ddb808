"""Identity resolution inside the store (integer codes, components, the map back in SQL) gives
exactly what the pure :func:`personae.identity.resolve` gives; and the ingest's links, computed
in SQL over the scratch database, are the pairs the pandas functions give."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personae.app.ingest.keys import identity_frame, links
from personae.app.ingest.linking import CODES, COMPONENTS, resolve_all
from personae.app.ingest.loader import _links_sql, table_spec
from personae.identity.resolve import resolve
from personae.store import DuckDBStore
from personae.store.scratch import scratch

NOW = pd.Timestamp("2024-05-01")
IDENTIFIERS = [
    *(f"customer_id:C{i}" for i in range(6)),
    *(f"email:p{i}@example.com" for i in range(4)),
    *(f"phone:+1555000{i}" for i in range(3)),
    *(f"anonymous_id:a{i}" for i in range(3)),
]
edges = st.lists(
    st.tuples(st.sampled_from(IDENTIFIERS), st.sampled_from(IDENTIFIERS)).filter(lambda e: e[0] != e[1]),
    max_size=25,
    unique=True,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edges)
def test_the_store_resolves_exactly_as_the_pure_function(pairs: list[tuple[str, str]]) -> None:
    with DuckDBStore.open(":memory:") as store:
        store.append(
            "identity_links",
            pa.table(
                {
                    "identifier_a": pa.array([a for a, _ in pairs], pa.string()),
                    "identifier_b": pa.array([b for _, b in pairs], pa.string()),
                    "source": pa.array(["customers"] * len(pairs), pa.string()),
                    "seen_at": pa.array([NOW] * len(pairs), pa.timestamp("us")),
                }
            ),
        )
        merged = resolve_all(store, now=NOW)
        expected = resolve([a for a, _ in pairs], [b for _, b in pairs])
        got = store.execute(store.table("identity_map")).sort_values("identifier").reset_index(drop=True)
        want = expected.mapping.sort_values("identifier").reset_index(drop=True)
        assert got[["identifier", "customer_id"]].values.tolist() == want.values.tolist()
        merges = store.execute(store.table("identity_merges"))
        cols = ["customer_id", "merged_customer_id", "identifiers", "rule"]
        assert merged == len(expected.merges)
        assert sorted(map(tuple, merges[cols].values.tolist())) == sorted(
            map(tuple, expected.merges[cols].values.tolist())
        )
        assert not any(store.has_table(t) for t in (CODES, COMPONENTS))


def test_links_in_sql_are_the_pairs_of_the_pandas_functions() -> None:
    spec = table_spec("customers")
    rows = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", None, "C4", "C5"],
            "email": ["a@x.com", "Unknown@Example.com", "c@x.com", None, "a@x.com"],
            "phone": ["+15550001", None, "+15550003", "+15550004", "+15550001"],
            "loyalty_id": [None, "L2", None, None, None],
        }
    )
    blocked = {"unknown@example.com"}
    ids = identity_frame(rows, spec, blocked)
    primary = ids.bfill(axis=1).iloc[:, 0]
    want = links(ids, primary)
    staged = rows.assign(_identity=primary)
    with scratch() as work:
        work.append("staged", pa.Table.from_pandas(staged, preserve_index=False))
        work.append("blocked", pa.table({"v": pa.array(sorted(blocked), pa.string())}))
        path = work.publish({"to_add": "SELECT * FROM staged", "links": _links_sql(spec)})
        got = duckdb.connect(str(path), read_only=True).sql("SELECT * FROM links").df()
    key = ["identifier_a", "identifier_b"]
    assert sorted(map(tuple, got[key].values.tolist())) == sorted(map(tuple, want[key].values.tolist()))
    # C1: email, phone; C2: loyalty; c@x.com: phone; C4: phone; C5: email, phone
    assert len(got) == 7
