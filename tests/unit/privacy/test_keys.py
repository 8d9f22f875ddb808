"""Keys: shape, hashing, roles, revocation."""

from __future__ import annotations

from datetime import datetime

import pytest

from personae.errors import InputError
from personae.privacy.keys import ApiKey, KeyRing, check_role, hash_key, key_id_of, new_key


def test_keys_are_random_and_only_the_hash_authenticates() -> None:
    kid, key = new_key("write")
    assert key.startswith(f"pk_write_{kid}_") and key_id_of(key) == kid
    assert new_key("write")[1] != key
    ring = KeyRing([ApiKey(kid, "w", "write", hash_key(key), datetime(2026, 1, 1))])
    assert ring.authenticate(key) is not None
    assert ring.authenticate(key + "x") is None
    assert ring.authenticate(hash_key(key)) is None  # the stored hash is not a key


def test_roles() -> None:
    now = datetime(2026, 1, 1)
    write, read, admin = (ApiKey("1", "", r, "h", now) for r in ("write", "read", "admin"))  # type: ignore[arg-type]
    assert write.may("track") and not write.may("read")
    assert read.may("read") and not read.may("pii") and not read.may("manage") and not read.may("track")
    assert admin.may("pii") and admin.may("manage")
    with pytest.raises(InputError):
        check_role("root")


def test_revoked_keys_are_refused() -> None:
    kid, key = new_key("read")
    ring = KeyRing([ApiKey(kid, "r", "read", hash_key(key), datetime(2026, 1, 1), datetime(2026, 1, 2))])
    assert ring.authenticate(key) is None
