"""``/v1/customers/{id}``: profile, recommendations, next best action, consents, and the admin
data-rights endpoints (access export, erasure).

Every read or change of a person's data here is written to the audit log as ``api:<key name>``
(see :func:`actor`) before the answer is returned.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from personae.api.auth import AdminKey, ReadKey, actor
from personae.api.errors import error_responses
from personae.api.responses import NextBestAction, Recommendations
from personae.schema import CONSENT_PURPOSES

ERRORS = error_responses((400, 413, 401, 403, 404, 422, 429), {404: "No customer with that identifier."})
router = APIRouter(prefix="/v1/customers", tags=["customers"], responses=ERRORS)


class Segment(BaseModel):
    name: str
    entered_at: str
    source: str


class Customer(BaseModel):
    """One customer. Personal data (email, phone, names, birth date, address) only for admin keys."""

    customer_id: str
    profile: dict[str, Any]
    identifiers: list[str]
    traits: dict[str, Any]
    segments: list[Segment]
    consents: dict[str, bool]


class ConsentIn(BaseModel):
    purpose: str = Field(description="One of " + ", ".join(CONSENT_PURPOSES) + ".", max_length=40)
    granted: bool
    source: str | None = Field(None, max_length=100)


class ConsentOut(BaseModel):
    customer_id: str
    purpose: str
    granted: bool
    recorded_at: str


@router.get("/{customer_id}", summary="Profile, traits, live segments and consents")
async def customer(customer_id: str, request: Request, key: ReadKey) -> Customer:
    """By customer id, userId or anonymousId; admin keys also by email, phone or loyalty id. A read
    key (which never sees personal data) cannot find people by it either: an email is a 404 for
    it whether or not it is a customer's, so it cannot test who is one."""
    runtime = request.app.state.runtime
    pii = key.may("pii")
    data = await run_in_threadpool(runtime.customer, customer_id, pii=pii)
    detail = "with personal data" if pii else "without personal data"
    await run_in_threadpool(runtime.audit, actor(key), "read profile", data["customer_id"], detail)
    return Customer(**data)


@router.get("/{customer_id}/export", summary="Everything held on the person, as JSON (admin; audited)")
async def export(customer_id: str, request: Request, key: AdminKey) -> dict[str, Any]:
    """The right of access: the same report as ``personae customers export``."""
    result: dict[str, Any] = await run_in_threadpool(
        request.app.state.runtime.export_customer, customer_id, actor(key)
    )
    return result


@router.delete("/{customer_id}", summary="Erase the person from every table and the file (admin)")
async def erase(
    customer_id: str,
    request: Request,
    key: AdminKey,
    reason: str | None = Query(None, max_length=500, description="Why (e.g. the request number)."),
) -> dict[str, Any]:
    """The right to erasure: the same as ``personae customers erase``. Tracking calls wait
    (they are queued, not refused) while the database file is rewritten."""
    result: dict[str, Any] = await run_in_threadpool(
        request.app.state.runtime.erase, customer_id, reason, actor(key)
    )
    return result


@router.get("/{customer_id}/recommendations", summary="Products to show this customer")
async def recommendations(
    customer_id: str, request: Request, key: ReadKey, limit: int = Query(10, ge=1, le=100)
) -> Recommendations:
    """What ``personae recommend CUSTOMER_ID --json`` prints (the same library, the same consent
    gate: without ``consent_personalization`` only non-personalised products), as of the last build."""
    runtime = request.app.state.runtime

    def run() -> dict[str, Any]:
        cid = runtime.resolve(customer_id, pii=key.may("pii"))
        result: dict[str, Any] = runtime.recommendations(cid, limit)
        runtime.audit(actor(key), "read recommendations", cid)
        return result

    return Recommendations(**await run_in_threadpool(run))


@router.get("/{customer_id}/next-best-action", summary="What to do next for this customer")
async def next_best_action(customer_id: str, request: Request, key: ReadKey) -> NextBestAction:
    """What ``personae actions next CUSTOMER_ID --json`` prints: the playbooks' decision, with every
    playbook's status and reason (consent checked by the library), as of the last build."""
    runtime = request.app.state.runtime

    def run() -> dict[str, Any]:
        cid = runtime.resolve(customer_id, pii=key.may("pii"))
        result: dict[str, Any] = runtime.next_best_action(cid)
        runtime.audit(actor(key), "read next best action", cid)
        return result

    return NextBestAction(**await run_in_threadpool(run))


@router.post("/{customer_id}/consents", summary="Record a consent decision (admin)")
async def consent(customer_id: str, body: ConsentIn, request: Request, key: AdminKey) -> ConsentOut:
    runtime = request.app.state.runtime
    data = await run_in_threadpool(
        runtime.set_consent, customer_id, body.purpose, body.granted, body.source, actor(key)
    )
    return ConsentOut(**data)
