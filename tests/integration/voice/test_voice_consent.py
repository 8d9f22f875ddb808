"""The voice step goes through the consent gate (docs/privacy.md).

On a real DuckDB store: the texts of someone who objected to ``analytics`` are not read at all
(and the summary says how many were left out and why); someone who objected to ``profiling``
counts in the themes and figures but gets no voice traits; the default policy decides for
people with no recorded decision, opt-in included.
"""

from __future__ import annotations

from datetime import date

from personae.app import voice as svc
from personae.app.ingest import ingest_file
from personae.config.traits import TraitSettings
from personae.config.voice import VoiceSettings
from personae.store import Store

CUSTOMERS = [
    {"customer_id": c, "email": f"{c.lower()}@example.org", "country": "FR"} for c in ("C1", "C2", "C3")
]
TEXTS = [
    {
        "text_id": "T1",
        "text": "Delivery was late again and nobody answered",
        "created_at": "2025-03-01",
        "source": "email",
        "customer_id": "C1",
    },
    {
        "text_id": "T2",
        "text": "The parcel never came, thanks for nothing",
        "created_at": "2025-03-02",
        "source": "email",
        "customer_id": "C1",
    },
    {
        "text_id": "T3",
        "text": "Lovely staff and a quick checkout",
        "created_at": "2025-03-02",
        "source": "review",
        "customer_id": "C2",
    },
    {
        "text_id": "T4",
        "text": "Runs small, order a size up",
        "created_at": "2025-03-03",
        "source": "review",
        "customer_id": "C3",
    },
    {
        "text_id": "T5",
        "text": "Great fit, bought it in two colours",
        "created_at": "2025-03-03",
        "source": "review",
    },
]
CONSENTS = [
    {"customer_id": "C1", "purpose": "analytics", "granted": "false", "recorded_at": "2025-01-01"},
    {"customer_id": "C2", "purpose": "profiling", "granted": "false", "recorded_at": "2025-01-01"},
]
SETTINGS = VoiceSettings(n_themes=2, min_words_to_detect=1)
AS_OF = date(2025, 3, 31)


def _load(store: Store, write_rows) -> Store:
    ingest_file(store, "customers", write_rows("customers.csv", CUSTOMERS))
    ingest_file(store, "texts", write_rows("texts.csv", TEXTS))
    ingest_file(store, "consents", write_rows("consents.csv", CONSENTS))
    return store


def test_objections_keep_texts_out_of_the_analysis_and_people_out_of_the_traits(
    store: Store, write_rows
) -> None:
    _load(store, write_rows)
    summary = svc.build_voice(store, AS_OF, SETTINGS)
    analysed = store.execute(store.table("voice_texts"))
    assert sorted(analysed["text_id"]) == ["T3", "T4", "T5"]  # C1's two texts never read
    assert summary["texts"] == 3
    assert summary["left_out"] == {
        "unit": "texts",
        "total": 5,
        "used": 3,
        "left_out": 2,
        "reasons": {"by people who objected to analytics": 2},
    }
    traits = store.execute(store.table("voice_traits"))
    assert sorted(traits["customer_id"]) == ["C3"]  # C2 objected to profiling, C1 to analytics
    assert summary["left_out_traits"]["reasons"] == {"who objected to profiling": 1}


def test_an_opt_in_policy_reads_only_those_who_said_yes(store: Store, write_rows) -> None:
    _load(store, write_rows)
    ingest_file(
        store,
        "consents",
        write_rows(
            "yes.csv",
            [{"customer_id": "C3", "purpose": "analytics", "granted": "true", "recorded_at": "2025-01-02"}],
        ),
    )
    opt_in = TraitSettings(consent_defaults={"FR": {"analytics": "opt-in"}})
    summary = svc.build_voice(store, AS_OF, SETTINGS, traits=opt_in)
    analysed = store.execute(store.table("voice_texts"))
    # C3 said yes; C1 said no; C2 said nothing under an opt-in policy; T5 is nobody's
    assert sorted(analysed["text_id"]) == ["T4", "T5"]
    assert summary["left_out"]["left_out"] == 3


def test_without_a_ledger_the_built_in_policy_reads_everyone(store: Store, write_rows) -> None:
    ingest_file(store, "texts", write_rows("texts.csv", TEXTS))
    summary = svc.build_voice(store, AS_OF, SETTINGS)
    assert summary["texts"] == 5 and "left_out" not in summary and "left_out_traits" not in summary
    assert store.count("voice_traits") == 3
