"""How errors reach an HTTP client, written once: the status and ``code`` of every
:class:`~personae.errors.PersonaeError` (what the handlers in :mod:`personae.api.app` answer), and
the error responses each router documents in the OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from personae.errors import (
    AuthError,
    ConsentError,
    InputError,
    NotFoundError,
    Overloaded,
    PersonaeError,
    RuleError,
    StoreError,
)
from personae.live.payloads import ErrorBody

#: HTTP status and JSON ``code`` for each kind of :class:`PersonaeError` — the one place the
#: API maps errors to statuses. :func:`status_for` uses the most specific class in the error's
#: MRO (as Starlette picks exception handlers), so the order here does not matter and a new
#: subclass answers like its parent until it gets a row of its own.
STATUSES: dict[type[PersonaeError], tuple[int, str]] = {
    PersonaeError: (500, "error"),
    InputError: (422, "invalid_value"),
    RuleError: (422, "invalid_value"),
    NotFoundError: (404, "not_found"),
    ConsentError: (403, "no_consent"),
    StoreError: (503, "store_unavailable"),
    Overloaded: (429, "overloaded"),
}


def status_for(exc: PersonaeError) -> tuple[int, str]:
    """The HTTP status and JSON ``code`` the API answers ``exc`` with.

    An :class:`AuthError` carries its own (401 ``unauthorized``, 403 ``forbidden``, 429
    ``rate_limited``): one check tells those cases apart, so its status is per instance, not
    per class. Every other error gets the row of its most specific class in :data:`STATUSES`.
    """
    if isinstance(exc, AuthError):
        return exc.status, exc.code
    return next(STATUSES[cls] for cls in type(exc).__mro__ if cls in STATUSES)


#: What each error status means, unless a router says it more precisely.
DESCRIPTIONS: dict[int, str] = {
    400: "Invalid JSON or parameters.",
    401: "Missing or unknown key.",
    403: "The key's role may not do this.",
    404: "No such resource.",
    413: "Body larger than the limit.",
    422: "Invalid value.",
    429: "Rate limit: retry later.",
}


def error_responses(
    statuses: Iterable[int], descriptions: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """A router's documented error responses (OpenAPI ``responses``), in the order given.

    >>> error_responses([404], {404: "No such key."})[404]["description"]
    'No such key.'
    """
    said = descriptions or {}
    return {s: {"model": ErrorBody, "description": said.get(s, DESCRIPTIONS[s])} for s in statuses}
