"""Recommendations and next best action through the API are the library's: for the same customer
the API answers exactly what ``personae recommend ID --json`` and ``personae actions next ID --json``
print (same models, playbooks and consent gate), whichever identifier the API is given."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from personae.api.app import create_app
from personae.app import audit, keys
from personae.cli import app as cli_app
from personae.config import Settings
from personae.store import DuckDBStore


@pytest.fixture(scope="module")
def shop(
    tmp_path_factory: pytest.TempPathFactory, make_shop: Callable[..., Path]
) -> Iterator[dict[str, Any]]:
    db = make_shop(tmp_path_factory.mktemp("service_shop"), 300, 5)
    with DuckDBStore.open(db) as store:
        traits = store.execute(store.table("traits").select("customer_id", "consent_personalization"))
        read = keys.create_key(store, "read", "crm")[1]
        admin = keys.create_key(store, "admin", "ops")[1]
        p = store.profiles()
        emails = store.execute(p.filter(p.email.notnull()).select("customer_id", "email"))
    yes = traits[traits["consent_personalization"] == True]["customer_id"].tolist()  # noqa: E712
    no = traits[traits["consent_personalization"] != True]["customer_id"].tolist()  # noqa: E712
    assert yes and no
    yield {
        "db": db,
        "read": read,
        "admin": admin,
        "yes": sorted(yes)[:4],
        "no": sorted(no)[:3],
        "emails": emails,
    }


def _cli(db: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli_app, [*args, "--json"], env={"PERSONAE_DB": str(db)})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_api_answers_equal_the_cli_for_the_same_customer(shop: dict[str, Any]) -> None:
    db = shop["db"]
    customers = shop["yes"] + shop["no"]
    expected = {
        cid: (_cli(db, "recommend", cid, "-k", "5"), _cli(db, "actions", "next", cid)) for cid in customers
    }
    # the consent gate is the library's: personal reasons only for those who consented
    assert any(r["recommendations"] for r, _ in expected.values())
    with TestClient(create_app(db, Settings(db=db, service={"expiry_check_seconds": 3600}))) as c:
        read = {"Authorization": f"Bearer {shop['read']}"}
        for cid, (recs, nba) in expected.items():
            got = c.get(f"/v1/customers/{cid}/recommendations", params={"limit": 5}, headers=read)
            assert got.status_code == 200, got.text
            assert got.json() == recs, cid
            got = c.get(f"/v1/customers/{cid}/next-best-action", headers=read)
            assert got.status_code == 200, got.text
            assert got.json() == nba, cid
        # any identifier of the customer gives the same answer (the API resolves it first) — to an
        # admin key: a read key does not look people up by email (it could test who is a customer)
        row = shop["emails"].iloc[0]
        admin = {"Authorization": f"Bearer {shop['admin']}"}
        by_email = c.get(f"/v1/customers/{row['email']}/recommendations", params={"limit": 5}, headers=admin)
        assert by_email.json() == _cli_after(c, db, row["customer_id"])
        runtime = c.app.state.runtime  # type: ignore[attr-defined]
        with runtime._read_lock:
            log = audit.entries(runtime.reader)
    reads = log[log.channel == "api"]
    assert (reads.action == "read recommendations").sum() == len(customers) + 1
    assert (reads.action == "read next best action").sum() == len(customers)


def _cli_after(c: TestClient, db: Path, cid: str) -> Any:
    """The library's answer for ``cid`` from the server's own connection (the file is held by it)."""
    from personae.app import recommend as recommending

    runtime = c.app.state.runtime  # type: ignore[attr-defined]
    settings = runtime.settings.personalize.recommend
    with runtime._read_lock:
        ctx = recommending.fit_context(runtime.reader, settings)
        recs = recommending.recommend_one(ctx, cid, 5)
    return {
        "customer_id": cid,
        "model": settings.model,
        "as_of": ctx.as_of.isoformat(),
        "recommendations": recs,
    }


def test_tuning_while_the_server_runs_is_used_at_once(shop: dict[str, Any]) -> None:
    import json
    from datetime import date

    import pyarrow as pa

    from personae.app import recommend as recommending

    db = shop["db"]
    with TestClient(create_app(db, Settings(db=db, service={"expiry_check_seconds": 3600}))) as c:
        read = {"Authorization": f"Bearer {shop['read']}"}
        cid = shop["yes"][0]
        before = c.get(f"/v1/customers/{cid}/recommendations", params={"limit": 5}, headers=read)
        assert before.status_code == 200
        runtime = c.app.state.runtime  # type: ignore[attr-defined]
        assert runtime._recommend_cache[1].model.self_weight == 3.0  # the configured value
        # what `personae recommend tune` stores (written here directly: its choice is data-dependent)
        tuning = pa.table(
            {
                "model": ["ease"],
                "params": [json.dumps({"self_weight": 0.0, "ease_regularization": 50.0})],
                "ndcg": [0.1],
                "configured_ndcg": [0.1],
                "k": [10],
                "customers_evaluated": [1],
                "as_of": [date(2026, 1, 1)],
                "tuned_at": [datetime(2026, 1, 1)],
            }
        )
        runtime.writer.call(lambda: runtime.store.replace(recommending.TUNING_TABLE, tuning)).result(60)
        after = c.get(f"/v1/customers/{cid}/recommendations", params={"limit": 5}, headers=read)
        assert after.status_code == 200
        assert runtime._recommend_cache[1].model.self_weight == 0.0  # refitted with the tuned value
        assert after.json() == _cli_after(c, db, cid)


def test_each_recommendation_carries_the_products_its_reason_cites(shop: dict[str, Any]) -> None:
    """``because_product_ids``: the cited product for "because you …", empty for popularity, and
    named in the OpenAPI schema the dashboard's contract reads."""
    db = shop["db"]
    with DuckDBStore.open(db) as store:
        names = store.execute(store.table("products").select("product_id", "name"))
    name_of = dict(zip(names["product_id"], names["name"], strict=True))
    with TestClient(create_app(db, Settings(db=db, service={"expiry_check_seconds": 3600}))) as c:
        read = {"Authorization": f"Bearer {shop['read']}"}
        cited = 0
        for cid in shop["yes"] + shop["no"]:
            got = c.get(f"/v1/customers/{cid}/recommendations", params={"limit": 10}, headers=read)
            assert got.status_code == 200, got.text
            for r in got.json()["recommendations"]:
                ids = r["because_product_ids"]
                if r["reason"].startswith("because you"):
                    assert len(ids) == 1 and r["reason"].endswith(name_of[ids[0]]), r
                    cited += 1
                else:
                    assert ids == [], r
        assert cited > 0
        schema = c.get("/openapi.json").json()["components"]["schemas"]["Recommendation"]
    assert "because_product_ids" in schema["required"]
    assert schema["properties"]["because_product_ids"]["items"]["type"] == "string"
