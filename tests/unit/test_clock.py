"""The shop's clock (personae.clock) and the ``timezone`` setting."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from personae.clock import check_zone, day_start, local_today, series_to_utc, to_local, to_utc
from personae.config import load_settings
from personae.errors import InputError


def test_a_naive_time_is_the_shops_and_an_aware_one_its_instant() -> None:
    assert to_utc(datetime(2024, 3, 1, 23, 30), "UTC") == datetime(2024, 3, 1, 23, 30)
    assert to_utc(datetime(2024, 3, 1, 23, 30), "Asia/Tokyo") == datetime(2024, 3, 1, 14, 30)
    aware = datetime.fromisoformat("2024-03-01T23:30:00+02:00")
    assert to_utc(aware, "Asia/Tokyo") == to_utc(aware, "UTC") == datetime(2024, 3, 1, 21, 30)


def test_the_wall_clock_of_a_stored_instant() -> None:
    night = datetime(2024, 3, 1, 23, 30)  # a Friday, 23:30 UTC
    assert to_local(night, "UTC") == night
    assert to_local(night, "Asia/Tokyo") == datetime(2024, 3, 2, 8, 30)  # Saturday morning
    assert to_local(night, "America/New_York") == datetime(2024, 3, 1, 18, 30)
    assert local_today("Asia/Tokyo", night) == date(2024, 3, 2)
    assert day_start(date(2024, 3, 2), "Asia/Tokyo") == datetime(2024, 3, 1, 15, 0)
    assert local_today("UTC", datetime(2024, 3, 1, 23, 30, tzinfo=UTC)) == date(2024, 3, 1)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Tokyo"])
def test_pandas_and_python_read_every_local_time_alike_across_clock_changes(zone: str) -> None:
    # every quarter hour of the two nights Berlin and New York change their clocks (skipped
    # and doubled hours included): the file path (pandas) and the tracking path (Python) agree
    walls = pd.Series(
        list(pd.date_range("2024-03-10", "2024-03-11", freq="15min"))
        + list(pd.date_range("2024-03-31", "2024-04-01", freq="15min"))
        + list(pd.date_range("2024-10-27", "2024-10-28", freq="15min"))
        + list(pd.date_range("2024-11-03", "2024-11-04", freq="15min"))
        + [pd.NaT]
    ).astype("datetime64[us]")
    bulk = series_to_utc(walls, zone)
    one_by_one = [None if pd.isna(w) else to_utc(w.to_pydatetime(), zone) for w in walls]
    assert [None if pd.isna(v) else v.to_pydatetime() for v in bulk] == one_by_one


def test_a_doubled_hour_is_the_first_and_a_skipped_one_keeps_the_old_offset() -> None:
    assert to_utc(datetime(2024, 10, 27, 2, 30), "Europe/Berlin") == datetime(2024, 10, 27, 0, 30)
    assert to_utc(datetime(2024, 3, 31, 2, 30), "Europe/Berlin") == datetime(2024, 3, 31, 1, 30)


def test_the_setting_defaults_to_utc_and_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSONAE_TIMEZONE", raising=False)
    monkeypatch.setenv("PERSONAE_CONFIG_FILE", "/nonexistent/personae.yaml")
    assert load_settings().timezone == "UTC"
    monkeypatch.setenv("PERSONAE_TIMEZONE", "Asia/Tokyo")
    assert load_settings().timezone == "Asia/Tokyo"


def test_an_unknown_zone_is_one_line_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONAE_CONFIG_FILE", "/nonexistent/personae.yaml")
    monkeypatch.setenv("PERSONAE_TIMEZONE", "Europe/Berln")
    with pytest.raises(InputError) as caught:
        load_settings()
    assert str(caught.value).startswith(
        "timezone: unknown time zone 'Europe/Berln' (did you mean Europe/Berlin?"
    )
    assert "\n" not in str(caught.value)
    with pytest.raises(InputError, match="IANA time zone name"):
        check_zone("+02:00")
    with pytest.raises(InputError, match="unknown time zone"):
        check_zone("../../etc/passwd")


def test_another_invalid_setting_is_one_line_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONAE_CONFIG_FILE", "/nonexistent/personae.yaml")
    monkeypatch.setenv("PERSONAE_CLV__TIME_UNIT", "X")
    with pytest.raises(InputError, match=r"^setting clv\.time_unit: "):
        load_settings()
