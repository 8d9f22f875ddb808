"""The API's one error table: which status, ``code`` and headers each error is answered with.

The expected rows are what the API answered before the table existed (an ``AuthError``
handler beside an ``isinstance`` chain), so a change to the table shows up here.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from personae.api.app import _error_handlers
from personae.api.errors import STATUSES, status_for
from personae.errors import (
    AuthError,
    ConsentError,
    FormatError,
    InputError,
    JournalBusy,
    MissingColumnsError,
    ModelError,
    NotFittedError,
    NotFoundError,
    Overloaded,
    PersonaeError,
    RateLimited,
    RuleError,
    SchemaVersionError,
    StoreError,
)

CASES: dict[str, tuple[Callable[[], PersonaeError], int, str]] = {
    "personae": (lambda: PersonaeError("boom", hint="h"), 500, "error"),
    "model": (lambda: ModelError("too little data"), 500, "error"),
    "not-fitted": (lambda: NotFittedError("ThemeModel"), 500, "error"),
    "input": (lambda: InputError("bad"), 422, "invalid_value"),
    "missing-columns": (lambda: MissingColumnsError("f.csv", ["a"], ["b"]), 422, "invalid_value"),
    "format": (lambda: FormatError("unreadable"), 422, "invalid_value"),
    "rule": (lambda: RuleError("bad rule", rule="a >", position=2, suggestions=["b"]), 422, "invalid_value"),
    "not-found": (lambda: NotFoundError("no such segment", hint="see GET /v1/segments"), 404, "not_found"),
    "consent": (lambda: ConsentError("no consent"), 403, "no_consent"),
    "store": (lambda: StoreError("cannot open"), 503, "store_unavailable"),
    "schema-version": (lambda: SchemaVersionError("newer"), 503, "store_unavailable"),
    "journal-busy": (lambda: JournalBusy("in use", hint="stop it"), 503, "store_unavailable"),
    "overloaded": (lambda: Overloaded("queue full", hint="retry after a second"), 429, "overloaded"),
    "unauthorized": (
        lambda: AuthError(401, "unauthorized", "unknown or revoked key", "create one"),
        401,
        "unauthorized",
    ),
    "forbidden": (lambda: AuthError(403, "forbidden", "a read key may not do this"), 403, "forbidden"),
    "rate-limited": (RateLimited, 429, "rate_limited"),
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    for name, (make, _, _) in CASES.items():

        def route(make: Callable[[], PersonaeError] = make) -> None:
            raise make()

        app.get(f"/{name}")(route)
    _error_handlers(app)
    return TestClient(app)


@pytest.mark.parametrize("name", CASES)
def test_each_error_gets_its_status_code_and_body(client: TestClient, name: str) -> None:
    make, status, code = CASES[name]
    exc = make()
    assert status_for(exc) == (status, code)
    r = client.get(f"/{name}")
    assert r.status_code == status
    assert r.json() == {"code": code, "message": exc.message, "hint": exc.hint}
    assert r.headers.get("Retry-After") == ("1" if status == 429 else None)


def test_a_new_subclass_answers_like_its_parent() -> None:
    class Newer(SchemaVersionError):
        pass

    assert Newer not in STATUSES and status_for(Newer("x")) == (503, "store_unavailable")
