"""What a missing consent decision means: the default policy per purpose, country and region."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from personae.app.ingest import ingest_file
from personae.app.traits import build_affinities, build_traits
from personae.config.traits import TraitSettings
from personae.store import DuckDBStore

AS_OF = date(2025, 6, 30)
CUSTOMERS = """customer_id,created_at,country,region
DE1,2024-01-01,DE,Bavaria
US1,2024-01-01,US,West
US2,2024-01-01,us,Texas
FR1,2024-01-01,FR,North
"""
CONSENTS = """customer_id,purpose,granted,recorded_at,source
US2,email,false,2025-01-01,unsubscribe_link
DE1,email,true,2025-01-01,signup
"""


def build(tmp_path: Path, settings: TraitSettings) -> pd.DataFrame:
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    (tmp_path / "consents.csv").write_text(CONSENTS)
    with DuckDBStore.open(tmp_path / "c.duckdb") as store:
        ingest_file(store, "customers", tmp_path / "customers.csv")
        ingest_file(store, "consents", tmp_path / "consents.csv")
        build_affinities(store, AS_OF, settings)
        build_traits(store, AS_OF, settings)
        return store.execute(store.table("traits")).set_index("customer_id")


def test_by_default_no_record_means_no(tmp_path: Path) -> None:
    t = build(tmp_path, TraitSettings())
    assert t.loc["DE1"].consent_email and not t.loc["US2"].consent_email
    for cid in ("US1", "FR1"):
        assert not t.loc[cid].consent_email and not t.loc[cid].consent_analytics


@pytest.mark.parametrize("layout", ["country", "region"])
def test_opt_out_where_configured_and_a_recorded_decision_always_wins(tmp_path: Path, layout: str) -> None:
    defaults = {
        "*": {"analytics": "opt-out"},
        "US": {"email": "opt-out"},
        "North": {"analytics": "opt-in"},
    }
    if layout == "region":  # the same policy keyed by region names instead of the country
        defaults = {
            "*": {"analytics": "opt-out"},
            "West": {"email": "opt-out"},
            "Texas": {"email": "opt-out"},
        }
    t = build(tmp_path, TraitSettings(consent_defaults=defaults))
    assert t.loc["US1"].consent_email  # no record, opt-out where they live
    assert not t.loc["US2"].consent_email  # they said no: that wins
    assert t.loc["DE1"].consent_email  # they said yes
    assert not t.loc["FR1"].consent_email  # opt-in elsewhere
    assert t.loc["US1"].consent_analytics and t.loc["DE1"].consent_analytics
    assert t.loc["FR1"].consent_analytics == (layout == "region")  # North overrides '*' only by key
    assert not t.loc["US1"].consent_sms  # purposes not named stay opt-in
