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


def build(tmp_path: Path, settings: TraitSettings, extra: Path | None = None) -> pd.DataFrame:
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    (tmp_path / "consents.csv").write_text(CONSENTS)
    with DuckDBStore.open(tmp_path / "c.duckdb") as store:
        ingest_file(store, "customers", tmp_path / "customers.csv")
        ingest_file(store, "consents", tmp_path / "consents.csv")
        if extra is not None:
            ingest_file(store, "consents", extra)
        build_affinities(store, AS_OF, settings)
        build_traits(store, AS_OF, settings)
        return store.execute(store.table("traits")).set_index("customer_id")


def test_by_default_no_record_allows_analysis_but_not_contact(tmp_path: Path) -> None:
    """Legitimate interest: analytics, profiling and personalization until the person objects;
    email, sms and push only with a recorded yes (a historical export has no ledger at all)."""
    t = build(tmp_path, TraitSettings())
    assert t.loc["DE1"].consent_email and not t.loc["US2"].consent_email
    for cid in ("US1", "FR1"):
        assert not t.loc[cid].consent_email and not t.loc[cid].consent_sms and not t.loc[cid].consent_push
        assert t.loc[cid].consent_analytics and t.loc[cid].consent_profiling
        assert t.loc[cid].consent_personalization


def test_a_recorded_objection_wins_over_the_default(tmp_path: Path) -> None:
    (tmp_path / "extra.csv").write_text(
        "customer_id,purpose,granted,recorded_at,source\nFR1,profiling,false,2025-02-01,preference_center\n"
    )
    t = build(tmp_path, TraitSettings(), extra=tmp_path / "extra.csv")
    assert not t.loc["FR1"].consent_profiling and t.loc["FR1"].consent_analytics
    assert t.loc["US1"].consent_profiling


def test_settings_override_the_built_in_policy_per_purpose(tmp_path: Path) -> None:
    t = build(
        tmp_path, TraitSettings(consent_defaults={"*": {"profiling": "opt-in"}, "US": {"sms": "opt-out"}})
    )
    assert not t.loc["FR1"].consent_profiling  # overridden everywhere
    assert t.loc["FR1"].consent_analytics  # not named: the built-in policy
    assert t.loc["US1"].consent_sms and not t.loc["FR1"].consent_sms


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
    assert not t.loc["US1"].consent_sms  # purposes not named follow the built-in policy: opt-in
