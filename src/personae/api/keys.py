"""``/v1/keys`` (admin): manage keys while the server holds the database."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from personae.api.auth import AdminKey
from personae.api.errors import error_responses
from personae.privacy.keys import Role

ERRORS = error_responses(
    (400, 413, 401, 403, 404, 429), {403: "Only admin keys manage keys.", 404: "No such key."}
)
router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=ERRORS)


class KeyIn(BaseModel):
    role: Role
    name: str | None = Field(None, max_length=100)


@router.get("", summary="Every key (never the secret)")
async def list_keys(request: Request, key: AdminKey) -> list[dict[str, Any]]:
    return [k.public() for k in request.app.state.runtime.keys.keys]


@router.post("", summary="Create a key; the answer is the only time the key is shown")
async def create_key(body: KeyIn, request: Request, key: AdminKey) -> dict[str, Any]:
    record, secret = await run_in_threadpool(request.app.state.runtime.create_key, body.role, body.name)
    return {**record.public(), "key": secret}


@router.delete("/{key_id}", summary="Revoke a key (effective at once)")
async def revoke_key(key_id: str, request: Request, key: AdminKey) -> dict[str, Any]:
    record = await run_in_threadpool(request.app.state.runtime.revoke_key, key_id)
    return record.public()
