"""The dashboard served by ``personae serve`` at ``/``: HTML pages and the JSON they need.

The pages are server-rendered shells (navigation, headings, labelled controls) with one vendored
plain-JS file that calls the JSON API with the API key the analyst typed on the login page. The
key lives in ``sessionStorage`` (gone when the tab closes, never sent as a cookie), so the HTML
itself needs no key and holds no customer data; every number comes through the same keyed,
rate-limited endpoints as any other client's. Nothing is fetched from the network: the script,
the stylesheet and the charts (SVG drawn on the server by vl-convert, as the HTML report does)
are served from the package. A strict Content-Security-Policy forbids anything else.

Endpoints added for the dashboard (``/v1/dashboard/...``, read or admin keys, read-only):
``POST rule-check`` (the segment builder's live check and count), ``GET rule-names`` (the names
it offers, event properties included), ``GET segments`` and
``GET segments/{name}`` (build history and the report's chart), ``GET customers/{id}`` (the
timeline and segments with reasons), ``GET impact`` (campaign impact), ``GET journeys`` (the
purchase funnel and the paths to an outcome, as the report draws them, and the outcomes the
data offers).

Every endpoint the dashboard reads has a response model (:mod:`personae.api.responses`), so the
OpenAPI schema names each field; ``dashboard.js`` declares the fields it reads (``READS``) and a
unit test checks them against ``app.openapi()``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from personae.api.auth import ReadKey
from personae.api.errors import error_responses
from personae.api.responses import (
    CustomerExtras,
    Impact,
    Journeys,
    RuleCheck,
    RuleNames,
    SegmentDetail,
    SegmentOverview,
)
from personae.errors import NotFoundError
from personae.web import data as dashboard_data

_HERE = Path(__file__).parents[1] / "web"
STATIC = _HERE / "static"
#: Files the dashboard serves, by name → media type (nothing else under ``static`` is reachable).
STATIC_FILES = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
#: No inline script, no remote anything; charts are ``data:`` SVG images.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: page key → (URL, title shown in the navigation); the order is the navigation's.
PAGES = {
    "segments": ("/ui/segments", "Segments"),
    "customers": ("/ui/customers", "Customers"),
    "builder": ("/ui/builder", "Segment builder"),
    "impact": ("/ui/impact", "Campaign impact"),
    "journeys": ("/ui/journeys", "Journeys"),
}

ERRORS = error_responses((400, 401, 403, 404, 429), {404: "No such customer or segment."})
router = APIRouter()
api = APIRouter(prefix="/v1/dashboard", tags=["dashboard"], responses=ERRORS)
T = TypeVar("T")


class RuleIn(BaseModel):
    rule: str = Field(max_length=4_000, description="A segment rule, as `personae segments check` takes.")


# -- JSON ------------------------------------------------------------------------------------------
async def _read(request: Request, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    """Run ``fn(reader_store, *args)`` on the service's read connection, off the event loop."""
    runtime = request.app.state.runtime

    def run() -> T:
        runtime.log.visible()  # every acknowledged event is in the store
        with runtime._read_lock:
            return fn(runtime.reader, *args, **kw)

    return await run_in_threadpool(run)


@api.post("/rule-check", summary="Check a segment rule and count who matches now (nothing is stored)")
async def rule_check(body: RuleIn, request: Request, key: ReadKey) -> RuleCheck:
    settings = request.app.state.runtime.settings
    return RuleCheck(**await _read(request, dashboard_data.rule_check, body.rule, settings))


@api.get("/rule-names", summary="Every name a rule may use, and the property names the events carry")
async def rule_names(request: Request, key: ReadKey) -> RuleNames:
    return RuleNames(**await _read(request, dashboard_data.rule_names))


@api.get("/segments", summary="Every segment with its members at the latest build, and a chart")
async def segments(request: Request, key: ReadKey) -> SegmentOverview:
    settings = request.app.state.runtime.settings
    return SegmentOverview(**await _read(request, dashboard_data.segment_overview, settings))


@api.get("/segments/{name}", summary="One segment: definition, versions, build history")
async def segment(name: str, request: Request, key: ReadKey) -> SegmentDetail:
    settings = request.app.state.runtime.settings
    return SegmentDetail(**await _read(request, dashboard_data.segment_detail, name, settings))


@api.get("/customers/{customer_id}", summary="A customer's timeline across channels and segment reasons")
async def customer(customer_id: str, request: Request, key: ReadKey) -> CustomerExtras:
    cid = await run_in_threadpool(request.app.state.runtime.resolve, customer_id, pii=key.may("pii"))
    return CustomerExtras(**await _read(request, dashboard_data.customer_extras, cid, pii=key.may("pii")))


@api.get("/impact", summary="Campaign impact: every activated playbook against its holdout")
async def impact(request: Request, key: ReadKey) -> Impact:
    return Impact(**await _read(request, dashboard_data.impact, request.app.state.runtime.settings))


@api.get("/journeys", summary="The purchase funnel and the most common paths to an outcome, as charts")
async def journeys(
    request: Request,
    key: ReadKey,
    within: int = Query(7, ge=1, le=365, description="Funnel window: days from the product view."),
    to: str = Query(
        "order",
        max_length=100,
        description="Paths to: order (a first order), repeat, lapsed, detractor or an event type in the "
        "data (the answer's `outcomes` lists them).",
    ),
) -> Journeys:
    settings = request.app.state.runtime.settings
    return Journeys(**await _read(request, dashboard_data.journeys, settings, within, to))


# -- HTML ------------------------------------------------------------------------------------------
_env = jinja2.Environment(
    loader=jinja2.PackageLoader("personae.web", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)


def _page(template: str, page: str, title: str, **params: str) -> HTMLResponse:
    html = _env.get_template(template).render(page=page, title=title, pages=PAGES, params=params)
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


@router.get("/", include_in_schema=False)
async def login() -> HTMLResponse:
    return _page("login.html.j2", "login", "Sign in")


@router.get("/ui/segments", include_in_schema=False)
async def segments_page() -> HTMLResponse:
    return _page("segments.html.j2", "segments", "Segments")


@router.get("/ui/segments/{name}", include_in_schema=False)
async def segment_page(name: str) -> HTMLResponse:
    return _page("segment.html.j2", "segment", f"Segment {name}", name=name)


@router.get("/ui/customers", include_in_schema=False)
async def customers_page() -> HTMLResponse:
    return _page("customers.html.j2", "customers", "Customers")


@router.get("/ui/customers/{customer_id}", include_in_schema=False)
async def customer_page(customer_id: str) -> HTMLResponse:
    return _page("customer.html.j2", "customer", f"Customer {customer_id}", customer_id=customer_id)


@router.get("/ui/builder", include_in_schema=False)
async def builder_page() -> HTMLResponse:
    return _page("builder.html.j2", "builder", "Segment builder")


@router.get("/ui/impact", include_in_schema=False)
async def impact_page() -> HTMLResponse:
    return _page("impact.html.j2", "impact", "Campaign impact")


@router.get("/ui/journeys", include_in_schema=False)
async def journeys_page() -> HTMLResponse:
    return _page("journeys.html.j2", "journeys", "Journeys")


@router.get("/ui/static/{filename}", include_in_schema=False)
async def static(filename: str) -> Response:
    if filename not in STATIC_FILES:
        raise NotFoundError(f"no dashboard file {filename!r}")
    body = (STATIC / filename).read_bytes()
    return Response(body, media_type=STATIC_FILES[filename], headers={"X-Content-Type-Options": "nosniff"})


router.include_router(api)
