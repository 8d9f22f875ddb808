"""The database's secret, and the tombstones that keep erased people from coming back.

Kept apart from :mod:`personae.app.privacy` because ingestion checks tombstones on every file
and should not need the rest of the privacy machinery to do it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

from personae.identity.normalize import normalize_emails, normalize_phones
from personae.privacy.policy import tombstone_hash
from personae.schema import IDENTIFIER_KINDS
from personae.store import Store


def database_secret(store: Store) -> str:
    """This database's secret for pseudonyms and tombstones, made on first use."""
    rows = store.raw.execute("SELECT secret FROM privacy_secret LIMIT 1").fetchall()
    if rows:
        return str(rows[0][0])
    value = secrets.token_hex(32)
    store.append("privacy_secret", pa.table({"secret": pa.array([value], pa.string())}))
    return value


def tombstoned(store: Store, identifiers: pd.DataFrame) -> np.ndarray:
    """Which rows (of a frame of typed identifiers, one column per kind) belong to an erased
    person. Used by ingestion so an old file does not re-create someone who was erased."""
    n = len(identifiers)
    if n == 0 or not store.has_table("erasure_identifiers") or not store.count("erasure_identifiers"):
        return np.zeros(n, dtype=bool)
    secret = database_secret(store)
    known = set(
        store.raw.execute("SELECT hash FROM erasure_identifiers").to_arrow_table().column(0).to_pylist()
    )
    hit = np.zeros(n, dtype=bool)
    for col in identifiers.columns:
        values = identifiers[col]
        present = values.notna().to_numpy()
        if present.any():
            hashes = [tombstone_hash(secret, str(v)) for v in values[present]]
            hit[present] |= np.fromiter((h in known for h in hashes), dtype=bool, count=len(hashes))
    return hit


class Tombstones:
    """The erasure ledger's hashes held in memory, for a process that checks identifiers one
    message at a time (the real-time service) instead of a file at a time.

    The same test as :func:`tombstoned`: an identifier (``kind:value``, normalised as the
    ingest keys it) belongs to an erased person when its keyed hash is in the ledger. Reload
    (make a new one) after an erasure.
    """

    def __init__(self, store: Store) -> None:
        self._secret: str | None = None
        self._known: set[str] = set()
        if store.has_table("erasure_identifiers") and store.count("erasure_identifiers"):
            self._secret = database_secret(store)
            self._known = set(
                store.raw.execute("SELECT hash FROM erasure_identifiers")
                .to_arrow_table()
                .column(0)
                .to_pylist()
            )

    def __bool__(self) -> bool:
        return bool(self._known)

    def any_erased(self, identifiers: Iterable[str]) -> bool:
        """Whether any of the ``kind:value`` identifiers belongs to an erased person."""
        if self._secret is None:
            return False
        return any(tombstone_hash(self._secret, i) in self._known for i in identifiers)


_FIELD_SPLIT = re.compile(r"[,;\t\"{}\[\]|]")


def tombstoned_texts(store: Store, raws: Iterable[str], *, default_country_code: str = "1") -> np.ndarray:
    """Which raw lines (of rejected rows, which never reached identity resolution) hold an
    identifier of an erased person: each field is tried as every kind of identifier."""
    texts = [str(r) if r is not None else "" for r in raws]
    hit = np.zeros(len(texts), dtype=bool)
    if not texts or not store.has_table("erasure_identifiers") or not store.count("erasure_identifiers"):
        return hit
    secret = database_secret(store)
    known = set(
        store.raw.execute("SELECT hash FROM erasure_identifiers").to_arrow_table().column(0).to_pylist()
    )
    for i, text in enumerate(texts):
        fields = [f.strip() for f in _FIELD_SPLIT.split(text) if f and f.strip() and f.strip() != ":"]
        if not fields:
            continue
        series = pd.Series(fields, dtype=object)
        emails = normalize_emails(series)
        phones = normalize_phones(series, default_country_code)
        candidates = {f"{kind}:{f}" for f in fields for kind in IDENTIFIER_KINDS}
        candidates |= {f"email:{e}" for e in emails if isinstance(e, str)}
        candidates |= {f"phone:{p}" for p in phones if isinstance(p, str)}
        hit[i] = any(tombstone_hash(secret, c) in known for c in candidates)
    return hit
