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

from personae.identity.normalize import normalize_emails, normalize_handles, normalize_phones
from personae.privacy.policy import tombstone_hash
from personae.schema import IDENTIFIER_KINDS
from personae.store import Store


def database_secret(store: Store) -> str:
    """This database's secret for pseudonyms and tombstones, made on first use."""
    rows = store.rows(store.table("privacy_secret").select("secret").limit(1))
    if rows:
        return str(rows[0]["secret"])
    value = secrets.token_hex(32)
    store.append("privacy_secret", pa.table({"secret": pa.array([value], pa.string())}))
    return value


def erased_hashes(store: Store) -> set[str]:
    """The erasure ledger's keyed hashes (empty when nobody was erased), read through Ibis so it
    works on every engine."""
    if not store.has_table("erasure_identifiers"):
        return set()
    ledger = store.table("erasure_identifiers").select("hash")
    return {str(h) for h in store.to_arrow(ledger).column(0).to_pylist()}


def tombstoned(store: Store, identifiers: pd.DataFrame) -> np.ndarray:
    """Which rows (of a frame of typed identifiers, one column per kind) belong to an erased
    person. Used by ingestion so an old file does not re-create someone who was erased."""
    n = len(identifiers)
    known = erased_hashes(store) if n else set()
    if not known:
        return np.zeros(n, dtype=bool)
    return identifiers_hit(identifiers, database_secret(store), known)


def identifiers_hit(identifiers: pd.DataFrame, secret: str, known: set[str]) -> np.ndarray:
    """:func:`tombstoned` given the secret and the ledger's hashes: no store needed, so a Spark
    executor validating a slice of a file can run it."""
    hit = np.zeros(len(identifiers), dtype=bool)
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
        self._known = erased_hashes(store)
        if self._known:
            self._secret = database_secret(store)

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
    known = erased_hashes(store) if texts else set()
    if not known:
        return np.zeros(len(texts), dtype=bool)
    return texts_hit(texts, database_secret(store), known, default_country_code=default_country_code)


def texts_hit(
    raws: Iterable[str], secret: str, known: set[str], *, default_country_code: str = "1"
) -> np.ndarray:
    """:func:`tombstoned_texts` given the secret and the ledger's hashes (no store needed)."""
    texts = [str(r) if r is not None else "" for r in raws]
    hit = np.zeros(len(texts), dtype=bool)
    if not known:
        return hit
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
        candidates |= {f"handle:{h}" for h in normalize_handles(series) if isinstance(h, str)}
        hit[i] = any(tombstone_hash(secret, c) in known for c in candidates)
    return hit
