"""``/v1/identify|track|page|screen|group|alias|batch``: the Segment HTTP tracking API.

Each answer comes only after the messages were committed (see :mod:`personae.live.writer`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from personae.api.auth import WriteKey
from personae.api.errors import error_responses
from personae.live.commit import TrackJob
from personae.live.payloads import (
    Accepted,
    Alias,
    Batch,
    Group,
    Identify,
    Page,
    Screen,
    Track,
    split_batch,
)

ERRORS = error_responses(
    (400, 401, 403, 413, 429),
    {
        400: "Invalid JSON or message (for /v1/batch: the body is not a batch).",
        401: "Missing or unknown write key.",
        403: "The key may not track.",
        429: "Rate limit or full write queue: retry later.",
    },
)
router = APIRouter(prefix="/v1", tags=["tracking"], responses=ERRORS)


async def _run(request: Request, key: Any, messages: list[Any], endpoint: str, **meta: Any) -> Accepted:
    runtime = request.app.state.runtime
    job = TrackJob(messages, runtime.clock(), endpoint, key.key_id, **meta)
    result = await asyncio.wrap_future(runtime.track(job))
    return Accepted(
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=result.rejected,
        suppressed=result.suppressed,
    )


@router.post("/batch", summary="Several messages at once (what the client libraries send)")
async def batch(payload: Batch, request: Request, key: WriteKey) -> Accepted:
    """Each message is checked on its own: the good ones are stored, the others are listed in
    ``rejected`` (index, messageId, reason) and the answer is still 200 — the client libraries
    drop a whole batch answered with a 4xx. A 400 means the body is not a batch."""
    split = split_batch(payload.batch)
    return await _run(
        request,
        key,
        split.messages,
        "/v1/batch",
        sent_at=payload.sentAt,
        context=payload.context,
        positions=split.positions,
        invalid=split.invalid,
    )


@router.post("/identify", summary="Who the user is, and their traits")
async def identify(payload: Identify, request: Request, key: WriteKey) -> Accepted:
    return await _run(request, key, [payload], "/v1/identify")


@router.post("/track", summary="Something the user did")
async def track(payload: Track, request: Request, key: WriteKey) -> Accepted:
    return await _run(request, key, [payload], "/v1/track")


@router.post("/page", summary="A web page view")
async def page(payload: Page, request: Request, key: WriteKey) -> Accepted:
    return await _run(request, key, [payload], "/v1/page")


@router.post("/screen", summary="An app screen view")
async def screen(payload: Screen, request: Request, key: WriteKey) -> Accepted:
    return await _run(request, key, [payload], "/v1/screen")


@router.post("/group", summary="The user's account or household")
async def group(payload: Group, request: Request, key: WriteKey) -> Accepted:
    return await _run(request, key, [payload], "/v1/group")


@router.post("/alias", summary="Two ids of the same user")
async def alias(payload: Alias, request: Request, key: WriteKey) -> Accepted:
    return await _run(request, key, [payload], "/v1/alias")
