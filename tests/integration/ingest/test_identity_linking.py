"""Identity resolution through the store: merges, blocked placeholders, anonymous devices."""

from __future__ import annotations

import pytest

from personae.app.customers import customer_profile, resolve_customer_id
from personae.app.ingest import ingest_file
from personae.config import IdentitySettings
from personae.store import Store


def resolved(store: Store, kind: str, column: str = "source_customer_id") -> dict[str, str]:
    t = store.resolved(kind)
    df = store.execute(t.select(column, "customer_id"))
    return dict(zip(df[column], df["customer_id"], strict=True))


def merges(store: Store) -> list[tuple[str, str, str, str]]:
    return store.raw.execute(
        "SELECT customer_id, merged_customer_id, identifiers, rule "
        "FROM identity_merges ORDER BY merged_customer_id"
    ).fetchall()


def test_profiles_sharing_an_email_are_merged(store: Store, write_rows) -> None:
    summary = ingest_file(
        store,
        "customers",
        write_rows(
            "customers.csv",
            [
                {"customer_id": "C2", "email": " Ann@Example.COM", "first_name": "Ann"},
                {"customer_id": "C1", "email": "ann@example.com ", "first_name": "Annie"},
                {"customer_id": "C3", "email": "someone@else.com"},
            ],
        ),
    )
    assert summary.merges == 1
    assert merges(store) == [("C1", "C2", "email:ann@example.com", "shared email")]
    # either id finds the survivor
    assert resolve_customer_id(store, "C1") == "C1"
    assert resolve_customer_id(store, "C2") == "C1"
    assert resolve_customer_id(store, "ANN@example.com") == "C1"
    assert resolve_customer_id(store, "C3") == "C3"
    profile = customer_profile(store, "C2")
    assert profile["customer_id"] == "C1"
    assert profile["attributes"]["first_name"] == "Annie"  # the survivor's own row
    assert {"customer_id:C1", "customer_id:C2", "email:ann@example.com"} <= set(profile["identifiers"])
    assert [m["merged_customer_id"] for m in profile["merged_profiles"]] == ["C2"]
    assert store.execute(store.profiles().count()) == 2

    ingest_file(
        store,
        "orders",
        write_rows(
            "orders.csv",
            [
                {"order_id": "O1", "customer_id": "C1", "ordered_at": "2024-01-01", "amount": "10"},
                {"order_id": "O2", "customer_id": "C2", "ordered_at": "2024-01-02", "amount": "5"},
                {"order_id": "O3", "customer_id": "C3", "ordered_at": "2024-01-03", "amount": "7"},
            ],
        ),
    )
    assert resolved(store, "orders") == {"C1": "C1", "C2": "C1", "C3": "C3"}
    profile = customer_profile(store, "C1")
    assert profile["counts"]["orders"] == 2
    assert profile["orders_summary"]["revenue"] == 15.0


def test_phones_written_differently_merge(store: Store, write_rows) -> None:
    ingest_file(
        store,
        "customers",
        write_rows(
            "customers.csv",
            [
                {"customer_id": "A7", "phone": "(555) 123-4567"},
                {"customer_id": "A3", "phone": "+1 555 123 4567"},
            ],
        ),
    )
    assert merges(store) == [("A3", "A7", "phone:+15551234567", "shared phone")]


def test_merge_does_not_depend_on_file_order(store: Store, write_rows) -> None:
    rows = [{"customer_id": f"C{i}", "email": "same@x.com"} for i in (5, 3, 9)]
    ingest_file(store, "customers", write_rows("a.csv", rows[:1]))
    ingest_file(store, "customers", write_rows("b.csv", rows[1:]))
    assert {m[0] for m in merges(store)} == {"C3"}
    assert resolved(store, "customers") == {"C3": "C3", "C5": "C3", "C9": "C3"}


@pytest.mark.parametrize(
    ("column", "placeholder"),
    [
        ("email", "unknown@example.com"),
        ("email", " UNKNOWN@example.com "),
        ("phone", "0000000000"),
        ("phone", "000-000-0000"),
    ],
)
def test_blocked_placeholders_never_merge(store: Store, write_rows, column: str, placeholder: str) -> None:
    summary = ingest_file(
        store,
        "customers",
        write_rows(
            "customers.csv",
            [
                {"customer_id": "C1", column: placeholder},
                {"customer_id": "C2", column: placeholder},
            ],
        ),
    )
    assert (summary.accepted, summary.merges) == (2, 0)
    assert store.count("identity_merges") == 0
    assert resolve_customer_id(store, "C2") == "C2"
    assert resolved(store, "customers") == {"C1": "C1", "C2": "C2"}


def test_configured_blocklist_is_used(store: Store, write_rows) -> None:
    identity = IdentitySettings(blocked=["shared@family.com"])
    ingest_file(
        store,
        "customers",
        write_rows(
            "customers.csv",
            [
                {"customer_id": "C1", "email": "shared@family.com"},
                {"customer_id": "C2", "email": "Shared@Family.com"},
            ],
        ),
        identity=identity,
    )
    assert store.count("identity_merges") == 0


def test_anonymous_device_links_to_the_customer(store: Store, write_rows) -> None:
    ingest_file(
        store, "customers", write_rows("customers.csv", [{"customer_id": "C1", "email": "ann@example.com"}])
    )
    ingest_file(
        store,
        "events",
        write_rows(
            "events1.csv",
            [
                {
                    "event_id": "E1",
                    "anonymous_id": "dev-1",
                    "occurred_at": "2024-01-01T10:00",
                    "type": "page_view",
                },
                {
                    "event_id": "E2",
                    "anonymous_id": "dev-1",
                    "email": "Ann@Example.com",
                    "occurred_at": "2024-01-01T10:05",
                    "type": "checkout_started",
                },
                {
                    "event_id": "E3",
                    "anonymous_id": "dev-2",
                    "occurred_at": "2024-01-01T11:00",
                    "type": "page_view",
                },
            ],
        ),
    )
    ingest_file(
        store,
        "events",
        write_rows(
            "events2.csv",
            [
                {
                    "event_id": "E4",
                    "anonymous_id": "dev-1",
                    "occurred_at": "2024-01-02T09:00",
                    "type": "page_view",
                },
            ],
        ),
    )
    assert resolved(store, "events", "event_id") == {
        "E1": "C1",
        "E2": "C1",
        "E4": "C1",
        "E3": "anonymous_id:dev-2",  # never identified: a prospect
    }
    assert resolve_customer_id(store, "dev-1") == "C1"
    assert customer_profile(store, "C1")["counts"]["events"] == 3
    assert store.count("identity_merges") == 0  # linking a device is not merging customers


def test_device_seen_before_the_customer_file_still_links(store: Store, write_rows) -> None:
    ingest_file(
        store,
        "events",
        write_rows(
            "events.csv",
            [
                {
                    "event_id": "E1",
                    "anonymous_id": "dev-1",
                    "email": "ann@example.com",
                    "occurred_at": "2024-01-01",
                    "type": "search",
                },
            ],
        ),
    )
    assert resolved(store, "events", "event_id") == {"E1": "anonymous_id:dev-1"}
    ingest_file(
        store, "customers", write_rows("customers.csv", [{"customer_id": "C1", "email": "ann@example.com"}])
    )
    assert resolved(store, "events", "event_id") == {"E1": "C1"}


def test_surveys_and_consents_resolve_to_the_survivor(store: Store, write_rows) -> None:
    ingest_file(
        store,
        "customers",
        write_rows(
            "customers.csv",
            [{"customer_id": "C1", "email": "a@x.com"}, {"customer_id": "C2", "email": "a@x.com"}],
        ),
    )
    ingest_file(
        store,
        "surveys",
        write_rows(
            "surveys.csv", [{"customer_id": "C2", "answered_at": "2024-01-01", "kind": "nps", "score": "3"}]
        ),
    )
    ingest_file(
        store,
        "consents",
        write_rows(
            "consents.csv",
            [
                {"customer_id": "C2", "purpose": "email", "granted": "yes", "recorded_at": "2024-01-01"},
                {"customer_id": "C1", "purpose": "email", "granted": "no", "recorded_at": "2024-02-01"},
                {"customer_id": "C2", "purpose": "sms", "granted": "yes", "recorded_at": "2024-01-01"},
            ],
        ),
    )
    assert resolved(store, "surveys") == {"C2": "C1"}
    profile = customer_profile(store, "C2")
    assert profile["counts"]["surveys"] == 1
    assert profile["consents"] == {"email": False, "sms": True}  # the latest decision wins


def test_prospects_can_be_looked_up_by_their_identifier(store: Store, write_rows) -> None:
    ingest_file(
        store,
        "events",
        write_rows(
            "events.csv",
            [
                {"anonymous_id": "dev-7", "occurred_at": "2024-01-01", "type": "page_view"},
                {
                    "anonymous_id": "dev-7",
                    "device_id": "phone-1",
                    "occurred_at": "2024-01-02",
                    "type": "search",
                },
                {"email": "Lead@Example.com", "occurred_at": "2024-01-03", "type": "email_open"},
            ],
        ),
    )
    for given in ("dev-7", "anonymous_id:dev-7", "phone-1"):
        profile = customer_profile(store, given)
        assert profile["customer_id"] == "anonymous_id:dev-7"
        assert profile["identifiers"] == ["anonymous_id:dev-7", "device_id:phone-1"]
        assert profile["counts"]["events"] == 2
    assert resolve_customer_id(store, "lead@example.com") == "email:lead@example.com"
