"""API keys in the store: create (the key is returned once), list, revoke.

Application layer, used by ``personae keys`` (server stopped) and by the admin endpoints
(server running: the one process that holds the database writes them).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from personae.errors import InputError, NotFoundError
from personae.privacy.keys import ApiKey, KeyRing, Role, check_role, hash_key, new_key
from personae.store import Store

TABLE = "api_keys"
_SCHEMA = pa.schema(
    [
        ("key_id", pa.string()),
        ("name", pa.string()),
        ("role", pa.string()),
        ("key_hash", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("revoked_at", pa.timestamp("us")),
    ]
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def list_keys(store: Store) -> list[ApiKey]:
    """Every key ever created (revoked ones too), oldest first."""
    t = store.table(TABLE)
    rows = store.rows(t.order_by(["created_at", "key_id"]))
    return [
        ApiKey(
            r["key_id"],
            r["name"] or "",
            check_role(r["role"]),
            r["key_hash"],
            r["created_at"],
            r["revoked_at"],
        )
        for r in rows
    ]


def key_ring(store: Store) -> KeyRing:
    return KeyRing(list_keys(store))


def create_key(store: Store, role: str, name: str | None = None) -> tuple[ApiKey, str]:
    """A new key of ``role``; returns the stored record and the key itself (shown once)."""
    checked: Role = check_role(role)
    name = (name or "").strip()
    if len(name) > 100:
        raise InputError("a key name is at most 100 characters")
    key_id, key = new_key(checked)
    record = ApiKey(key_id, name or f"{checked} key", checked, hash_key(key), _now())
    _write(store, [record])
    return record, key


def revoke_key(store: Store, key_id: str) -> ApiKey:
    """Revoke a key by id (idempotent: revoking a revoked key keeps its first revocation time)."""
    found = [k for k in list_keys(store) if k.key_id == key_id]
    if not found:
        raise NotFoundError(f"no API key with id {key_id!r}", hint="see `personae keys list`")
    key = found[0]
    if key.revoked_at is not None:
        return key
    revoked = ApiKey(key.key_id, key.name, key.role, key.key_hash, key.created_at, _now())
    with store.transaction():
        store.delete_where_in(TABLE, "key_id", [key_id])
        _write(store, [revoked])
    return revoked


def _write(store: Store, keys: list[ApiKey]) -> None:
    rows = [
        {
            "key_id": k.key_id,
            "name": k.name,
            "role": k.role,
            "key_hash": k.key_hash,
            "created_at": k.created_at,
            "revoked_at": k.revoked_at,
        }
        for k in keys
    ]
    store.append(TABLE, pa.Table.from_pylist(rows, schema=_SCHEMA))
