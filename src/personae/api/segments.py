"""``/v1/segments``: the segments with live member counts, paged members, and (admin) new rules."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from personae.api.auth import AdminKey, ReadKey, actor
from personae.api.errors import error_responses
from personae.api.responses import SegmentSaved, SegmentSummary

ERRORS = error_responses(
    (400, 413, 401, 403, 404, 422, 429), {404: "No such segment.", 422: "Invalid rule or value."}
)
router = APIRouter(prefix="/v1/segments", tags=["segments"], responses=ERRORS)


class SegmentIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    rule: str = Field(min_length=1, max_length=4_000)
    description: str = Field("", max_length=1_000)


class Member(BaseModel):
    customer_id: str
    entered_at: str


class Members(BaseModel):
    segment: str
    total: int
    members: list[Member]
    next: str | None = Field(description="Pass as `after` for the next page; null on the last page.")


@router.get("", summary="Every segment with its live member count")
async def segments(request: Request, key: ReadKey) -> list[SegmentSummary]:
    result: list[dict[str, Any]] = await run_in_threadpool(request.app.state.runtime.segments)
    return [SegmentSummary(**r) for r in result]


@router.get("/{name}/members", summary="Live members, by customer id, a page at a time")
async def members(
    name: str,
    request: Request,
    key: ReadKey,
    after: str | None = Query(None, max_length=300, description="Last customer id of the previous page."),
    limit: int = Query(100, ge=1, le=1000),
) -> Members:
    runtime = request.app.state.runtime
    page = runtime.members(name, after, limit)
    detail = f"segment {name}: {len(page['members'])} of {page['total']} members"
    await run_in_threadpool(runtime.audit, actor(key), "list members", None, detail)
    return Members(**page)


@router.post("", summary="Define or edit a segment (admin); live memberships follow at once")
async def add_segment(body: SegmentIn, request: Request, key: AdminKey) -> SegmentSaved:
    runtime = request.app.state.runtime
    result: dict[str, Any] = await run_in_threadpool(
        runtime.add_segment, body.name, body.rule, body.description
    )
    return SegmentSaved(**result)
