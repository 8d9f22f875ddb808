"""The FastAPI application factory: routers, limits, errors, and the runtime's life cycle.

``create_app(db, settings)`` builds an app whose lifespan opens the store and starts the
writer; ``personae serve`` runs it on uvicorn. Every error is JSON ``{code, message, hint}``
(the fields the Segment libraries log): invalid payloads 400, bad credentials 401, wrong role
403, unknown customer/segment 404, body too large 413, invalid values/rules 422, rate limit or
full queue 429 (with ``Retry-After``), store unavailable 503.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from personae.api import admin, customers, dashboard, keys, tracking
from personae.api import segments as routes_segments
from personae.api.auth import RateLimiter
from personae.api.errors import status_for
from personae.config import Settings
from personae.errors import (
    PersonaeError,
)
from personae.live.runtime import Runtime, utc_now


def create_app(
    db: str | Path,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> FastAPI:
    runtime = Runtime(db, settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        try:
            yield
        finally:
            runtime.stop()

    app = FastAPI(
        title="personae",
        version="1",
        summary="Tracking (Segment-compatible), customer profiles and live segments.",
        lifespan=lifespan,
        dependencies=[Depends(plain_path)],
    )
    app.state.runtime = runtime
    app.state.limiter = RateLimiter(settings.service.rate_limit_per_second, settings.service.rate_limit_burst)
    for router in (
        tracking.router,
        customers.router,
        routes_segments.router,
        keys.router,
        dashboard.router,
        admin.router,
    ):
        app.include_router(router)

    @app.get("/health", tags=["service"], summary="Liveness and queue depth (no key needed)")
    async def health() -> dict[str, Any]:
        writer = getattr(runtime, "writer", None)
        return {"status": "ok", "queued": writer.pending if writer else 0}

    _error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.service.max_body_bytes)
    if settings.service.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.service.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Content-Encoding"],
        )
    return app


#: Characters no identifier, segment name or key id holds: C0 controls (NUL first), DEL, and
#: U+FFFD, what the path's bytes decode to when they are not UTF-8.
_ODD = re.compile("[\x00-\x1f\x7f\ufffd]")


async def plain_path(request: Request) -> None:
    """Refuse a path parameter holding a control character or bytes that are not UTF-8 (400).

    Why here, once for every route: such a value cannot name anything that was stored (ingest
    and tracking refuse NUL bytes in text), and the lookups behind the routes should never see
    it — a NUL once reached DuckDB's SQL parser through a compiled query and answered 500.
    """
    for name, value in request.path_params.items():
        if isinstance(value, str) and (m := _ODD.search(value)):
            raise StarletteHTTPException(
                400, f"{name}: holds the character U+{ord(m.group()):04X}, which no identifier has"
            )


def _error(status: int, code: str, message: str, hint: str | None = None, **extra: Any) -> JSONResponse:
    headers = {"Retry-After": "1"} if status == 429 else None
    body = {"code": code, "message": message, "hint": hint, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"][1:]) or "body"
        return _error(
            400, "invalid_request", f"{where}: {first['msg']}", "see /docs for the schema", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
        return _error(exc.status_code, codes.get(exc.status_code, "error"), str(exc.detail))

    # one handler for the whole tree (AuthError included): the statuses live in status_for alone
    @app.exception_handler(PersonaeError)
    async def personae(request: Request, exc: PersonaeError) -> JSONResponse:
        status, code = status_for(exc)
        return _error(status, code, exc.message, exc.hint)


class BodyLimit:
    """Refuse bodies over ``max_bytes`` (413) and undo ``Content-Encoding: gzip`` (libraries may gzip).

    The limit applies to the compressed and the decompressed size alike, so a small "zip bomb"
    cannot grow memory without bound either.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(
                scope, receive, send, 413, "body_too_large", f"the body is over {self.max_bytes} bytes"
            )
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(
                    scope, receive, send, 413, "body_too_large", f"the body is over {self.max_bytes} bytes"
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding in ("gzip", "deflate"):
            try:
                body = _inflate(body, encoding, self.max_bytes)
            except ValueError as exc:
                await self._refuse(scope, receive, send, 400, "invalid_request", str(exc))
                return
            scope = dict(scope)
            scope["headers"] = [
                (k, v)
                for k, v in scope["headers"]
                if k.lower() not in (b"content-encoding", b"content-length")
            ]
            scope["headers"].append((b"content-length", str(len(body)).encode()))
        elif encoding not in ("", "identity"):
            await self._refuse(
                scope, receive, send, 400, "invalid_request", f"unsupported Content-Encoding {encoding!r}"
            )
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str
    ) -> None:
        hint = "send smaller batches" if status == 413 else None
        await _error(status, code, message, hint)(scope, receive, send)


def _inflate(body: bytes, encoding: str, limit: int) -> bytes:
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        out = d.decompress(body, limit + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise ValueError(f"the body is not valid {encoding} data") from exc
    if len(out) > limit:
        raise ValueError(f"the decompressed body is over {limit} bytes")
    return out
