"""Erasure covers ingested texts: the person's own texts go (by customer id, email or handle),
other people's texts that mention them are masked, the analysed ``voice_texts`` follow, no byte
of them is left in the database file, and a tombstone keeps an old texts file from bringing
them back."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from personae.app import voice as svc
from personae.app.ingest import ingest_file
from personae.app.privacy import access_report, erase_customer, find_subject
from personae.config.voice import VoiceSettings
from personae.store import Store

EMAIL = "wilhelmina.textsperson@example.net"
HANDLE = "wil_texts_77"
CUSTOMERS = (
    "customer_id,email,first_name,last_name\n"
    f"W1,{EMAIL},Wilhelmina,Textsperson\n"
    "B1,bob@example.com,Bob,Other\n"
)
TEXTS = (
    "text_id,text,created_at,source,customer_id,email,handle\n"
    # her support email, signed with her email and her handle: links the two
    f"X1,My parcel never arrived,2025-03-01,email,,{EMAIL.upper()},@{HANDLE.upper()}\n"
    # a post under her handle alone: hers through the link
    f"X2,@shop still waiting for that refund,2025-03-02,social,,,@{HANDLE}\n"
    # Bob's post mentions her by handle and email: kept, masked
    f'X3,"Ask @{HANDLE} ({EMAIL}), she had the same problem",2025-03-03,social,B1,,\n'
)


def file_bytes(store: Store) -> bytes:
    store.raw.execute("CHECKPOINT")
    data = Path(store.path).read_bytes()
    wal = Path(store.path + ".wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def test_erasure_removes_the_persons_texts_and_masks_mentions(file_store: Store, tmp_path: Path) -> None:
    store = file_store
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    (tmp_path / "texts.csv").write_text(TEXTS)
    ingest_file(store, "customers", tmp_path / "customers.csv")
    ingest_file(store, "texts", tmp_path / "texts.csv")
    svc.build_voice(store, date(2025, 3, 31), VoiceSettings(n_themes=2))
    assert store.count("voice_texts") == 3
    assert HANDLE.encode() in file_bytes(store).lower()

    subject = find_subject(store, f"handle:{HANDLE}")  # found by her handle
    assert subject.customer_id == "W1" and f"handle:{HANDLE}" in subject.identifiers
    held = access_report(store, subject, actor="test:texts")["data"]
    assert sorted(r["text_id"] for r in held["texts"]) == ["X1", "X2"]  # the right of access sees them
    result = erase_customer(store, subject, reason="request", actor="test:texts")
    assert result["rows"]["texts"] == 2 and result["rows"]["voice_texts"] == 2
    rows = store.raw.execute("SELECT text_id, text FROM texts ORDER BY text_id").fetchall()
    assert rows == [("X3", "Ask [erased] ([erased]), she had the same problem")]
    assert store.raw.execute("SELECT text FROM voice_texts").fetchall() == [
        ("Ask [erased] ([erased]), she had the same problem",)
    ]
    data = file_bytes(store).lower()
    for secret in (EMAIL, HANDLE, "my parcel never arrived", "textsperson"):
        assert secret.lower().encode() not in data, secret

    # the old file again: her rows are refused (tombstones), Bob's is a duplicate
    again = ingest_file(store, "texts", tmp_path / "texts.csv")
    assert (again.accepted, again.rejected) == (0, 2)
    assert store.raw.execute("SELECT count(*) FROM texts").fetchone()[0] == 1
