"""Authentication, roles and rate limits as FastAPI dependencies.

Tracking calls authenticate like Segment's: HTTP basic auth with the write key as user name
and an empty password. Everything else uses ``Authorization: Bearer KEY``. Each key has a
token bucket (``rate_limit_per_second``, ``rate_limit_burst``); an empty bucket answers 429.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBasic, HTTPBearer

from personae.errors import AuthError, RateLimited
from personae.privacy.keys import ApiKey


class RateLimiter:
    """One token bucket per key id."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                return False
            self._buckets[key_id] = (tokens - 1.0, now)
            return True


# documented in OpenAPI; the checks below read the header themselves for clear JSON errors
basic_scheme = HTTPBasic(auto_error=False, description="Write key as user name, empty password.")
bearer_scheme = HTTPBearer(auto_error=False, description="A read or admin key.")


def _presented(request: Request, scheme: str) -> str | None:
    header = request.headers.get("authorization", "")
    kind, _, value = header.partition(" ")
    if scheme == "basic" and kind.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    if kind.lower() == "bearer":
        return value.strip() or None
    return None


def _authenticate(request: Request, scheme: str, permission: str) -> ApiKey:
    runtime = request.app.state.runtime
    presented = _presented(request, scheme) or _presented(
        request, "basic" if scheme == "bearer" else "bearer"
    )
    if presented is None:
        how = (
            "HTTP basic auth with the write key as user name"
            if scheme == "basic"
            else "Authorization: Bearer KEY"
        )
        raise AuthError(401, "unauthorized", "missing or malformed credentials", f"send {how}")
    key = runtime.keys.authenticate(presented)
    if key is None:
        raise AuthError(
            401, "unauthorized", "unknown or revoked key", "create one with `personae keys create`"
        )
    if not key.may(permission):
        raise AuthError(
            403,
            "forbidden",
            f"a {key.role} key may not do this (needs {permission})",
            "use a key with that role",
        )
    if not request.app.state.limiter.take(key.key_id):
        raise RateLimited()
    request.state.key = key
    return key


# ``async`` on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a hand-over
# to another thread and back (and a GIL ping-pong) on every request for a check that takes
# microseconds (a SHA-256 and a dict look-up) and never blocks
async def write_key(request: Request, _: Annotated[object, Depends(basic_scheme)] = None) -> ApiKey:
    return _authenticate(request, "basic", "track")


async def read_key(request: Request, _: Annotated[object, Depends(bearer_scheme)] = None) -> ApiKey:
    return _authenticate(request, "bearer", "read")


async def admin_key(request: Request, _: Annotated[object, Depends(bearer_scheme)] = None) -> ApiKey:
    return _authenticate(request, "bearer", "manage")


def actor(key: ApiKey) -> str:
    """Who the audit log names for an API request: ``api:<key name>`` (ids: ``personae keys list``)."""
    return f"api:{key.name}"


WriteKey = Annotated[ApiKey, Depends(write_key)]
ReadKey = Annotated[ApiKey, Depends(read_key)]
AdminKey = Annotated[ApiKey, Depends(admin_key)]
