"""API keys: how they look, how they are hashed, and what each role may do. Pure, no I/O.

A key is ``pk_<role>_<id>_<secret>``: the id (8 hex) names the key in listings and logs, the
secret (32 random bytes, URL-safe) is what proves possession. Only ``sha256(key)`` is stored:
a key carries 256 random bits, so a fast hash is safe (slow password hashes such as bcrypt
exist for guessable passwords), and it keeps authentication to a dictionary look-up on every
tracked event.

Roles, from least to most powerful:

* ``write``: send tracking calls (``/v1/track`` …) — nothing else, not even reads;
* ``read``: read profiles, segments, recommendations — no personal data (email, phone,
  names, birth date, address), and nothing that changes state;
* ``admin``: everything ``read`` may, plus personal data, managing segments, consents and keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from personae.errors import InputError

Role = Literal["write", "read", "admin"]
ROLES: tuple[Role, ...] = ("write", "read", "admin")

#: What each role may do. ``track`` is only for write keys: an admin key leaking into a web
#: page (where write keys live) would be far worse than a write key leaking.
PERMISSIONS: dict[str, frozenset[str]] = {
    "write": frozenset({"track"}),
    "read": frozenset({"read"}),
    "admin": frozenset({"read", "pii", "manage", "track"}),
}

#: Profile fields only admin keys see.
PII_FIELDS = frozenset(
    {
        "email",
        "phone",
        "first_name",
        "last_name",
        "birth_date",
        "postcode",
        "city",
        "loyalty_id",
        # a home's coordinates, given or from the postcode (the place traits)
        "latitude",
        "longitude",
        "location_latitude",
        "location_longitude",
    }
)
#: Identifier kinds that are personal data: a key that may not see them may not look people up by
#: them either — else a read key could test whether an email is a customer (a 200 or a 404).
PII_IDENTIFIER_KINDS = frozenset({"email", "phone", "loyalty_id", "handle"})


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the secret itself)."""

    key_id: str
    name: str
    role: Role
    key_hash: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def may(self, permission: str) -> bool:
        return permission in PERMISSIONS[self.role]

    def public(self) -> dict[str, object]:
        """What listings show: everything but the hash."""
        return {
            "key_id": self.key_id,
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def check_role(role: str) -> Role:
    """``role`` if it is one of :data:`ROLES`, else :class:`InputError`.

    Example:
        >>> check_role("read")
        'read'
        >>> check_role("owner")
        Traceback (most recent call last):
            ...
        personae.errors.InputError: unknown role 'owner' (use one of write, read, admin)
    """
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}", hint="use one of write, read, admin")
    return role


def new_key(role: Role) -> tuple[str, str]:
    """``(key_id, key)`` for a fresh key of ``role``."""
    key_id = secrets.token_hex(4)
    return key_id, f"pk_{role}_{key_id}_{secrets.token_urlsafe(32)}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_id_of(key: str) -> str | None:
    """The id part of a well-formed key (``None`` for anything else).

    Example:
        >>> key_id_of("pk_read_1a2b3c4d_Zm9v_YmFy-secret")
        '1a2b3c4d'
        >>> key_id_of("pk_owner_1a2b3c4d_secret") is None
        True
    """
    parts = key.split("_", 3)
    if len(parts) != 4 or parts[0] != "pk" or parts[1] not in ROLES:
        return None
    return parts[2]


class KeyRing:
    """The keys the server accepts, by hash (immutable once built; rebuilt on changes)."""

    def __init__(self, keys: list[ApiKey]) -> None:
        self._by_hash = {k.key_hash: k for k in keys if k.active}
        self.keys = keys

    def authenticate(self, presented: str) -> ApiKey | None:
        digest = hash_key(presented)
        found = self._by_hash.get(digest)
        # constant-time comparison of the digest we found against the one computed
        if found is not None and hmac.compare_digest(found.key_hash, digest):
            return found
        return None
