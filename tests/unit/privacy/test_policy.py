"""What erasure does to each table, how a person is found in free text, pseudonyms."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from personae.privacy.policy import Subject, erasure_plan, mask_text, masks_for, pseudonym, tombstone_hash


def test_a_table_added_later_is_covered_by_its_columns() -> None:
    plan = {
        a.table: a
        for a in erasure_plan(
            {
                "orders": ["order_id", "customer_id", "amount", "_identity", "properties_extra"],
                "rejects": ["line", "reason", "raw"],
                "campaign_actions": ["campaign", "customer_id", "sent_at"],  # a future feature
                "identity_links": ["identifier_a", "identifier_b", "source"],
                "products": ["product_id", "brand"],
                "audit_log": ["logged_at", "customer_id"],
                "webhook_dead_letters": ["message_id", "url", "payload", "dead_at"],
            }
        )
    }
    assert plan["orders"].action == "anonymise"
    assert plan["orders"].match_columns == ("customer_id", "_identity")
    assert plan["orders"].clear_columns == ("properties_extra",)
    assert plan["rejects"].action == "scrub_text" and plan["rejects"].match_columns == ("raw",)
    assert plan["campaign_actions"].action == "delete"
    assert plan["identity_links"].match_columns == ("identifier_a", "identifier_b")
    assert plan["products"].action == "keep"
    assert plan["audit_log"].action == "keep"  # rewritten under the token, never deleted
    # no id column, but free text that may name the person (a dead-lettered webhook's payload)
    dead = plan["webhook_dead_letters"]
    assert dead.action == "scrub_text" and dead.match_columns == ("payload",)


def test_patterns_find_the_person_in_any_format_and_nobody_else() -> None:
    s = Subject.of("C1", ["email:jane@x.com", "phone:+15551234567", "customer_id:C7"], ["Jane Doe"])
    assert s.source_ids == {"C1", "C7"}

    def hit(text: str) -> bool:
        return any(re.search(p, text, re.IGNORECASE) for p in s.patterns)

    for text in (
        "C7,Jane,Doe,JANE@x.com,2024-13-01",
        '{"phone": "(555) 123-4567"}',
        "555.123.4567",
        "x,C1,y",
        "Doe, Jane? no: Jane Doe",
    ):
        assert hit(text), text
    for text in ("C10,Janet,Doer,jane@x.community", "5551234568", "C11,janex@x.com"):
        assert not hit(text), text


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_pseudonyms_are_stable_and_distinct(a: str, b: str) -> None:
    assert pseudonym("k", a) == pseudonym("k", a)
    assert (pseudonym("k", a) == pseudonym("k", b)) == (a == b)
    assert pseudonym("k", a) != pseudonym("other", a)
    assert tombstone_hash("k", a) != pseudonym("k", a)


def test_a_handle_is_masked_as_a_mention_and_bare_only_when_it_cannot_be_a_word() -> None:
    masks = masks_for(["handle:ann_77", "handle:sarah"])
    assert mask_text("@ANN_77 and ann_77 and @sarah, but sarah and hannah stay", masks) == (
        "[erased] and [erased] and [erased], but sarah and hannah stay"
    )
    assert mask_text("mail me at x@ann_77.com", masks) == "mail me at x@ann_77.com"  # a domain, not her
