"""A pseudonymised export and a key without the PII scope never show a home's exact point."""

from __future__ import annotations

import pyarrow as pa
import pytest

from personae.app.privacy import pseudonymise
from personae.privacy.keys import PII_FIELDS


def test_coordinates_are_rounded_to_a_district() -> None:
    table = pa.table(
        {
            "customer_id": ["C1", "C2"],
            "location_latitude": [51.4321987, None],
            "location_longitude": [-0.9876543, None],
            "nearest_store_km": [12.345, None],
        }
    )
    out = pseudonymise(table, "s3cret").to_pydict()
    assert out["location_latitude"][0] == pytest.approx(51.4)
    assert out["location_longitude"][0] == pytest.approx(-1.0)
    assert out["location_latitude"][1] is None
    assert out["nearest_store_km"][0] == 12.345  # a distance to a store is not a place
    assert out["customer_id"][0] != "C1"


def test_keys_without_the_pii_scope_do_not_see_coordinates() -> None:
    assert {"latitude", "longitude", "location_latitude", "location_longitude"} <= PII_FIELDS
