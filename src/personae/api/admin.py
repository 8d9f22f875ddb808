"""``/v1/admin/…``: the commands a running server does for the CLI on the same machine.

DuckDB lets one process write a database file, and ``personae serve`` is that process while
it runs. So ``personae build``, ``ingest``, ``segments …`` and ``report``, finding the file
held by a server (``<db>.serve.json``), send their work here instead of opening the file:
the server runs it with its own connections while tracking goes on
(:mod:`personae.live.runtime`, "operations while serving"), and answers the JSON the command
would have printed with ``--json``, so its output is the same either way.

Authenticated by the server's local admin token, not by API keys: the token is in
``<db>.serve.json`` (mode 0600), so only someone who may read the database's folder may
ingest a file by its path on the server's disk. Not in the OpenAPI schema: not an API for
clients, one for the local CLI.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response

from personae.api.errors import status_for
from personae.app.ingest import ingest_file
from personae.app.reads import parse_as_of
from personae.app.segments import library, reports
from personae.app.segments.run import preview
from personae.errors import AuthError, InputError, NotFoundError, PersonaeError, RuleError
from personae.live.runtime import Runtime
from personae.segments.definitions import SegmentDefinition
from personae.store import Store

log = logging.getLogger("personae.service")
router = APIRouter(prefix="/v1/admin", tags=["admin"], include_in_schema=False)

Params = dict[str, Any]
#: the label a checked rule is previewed under (no stored segment can have it)
_CHECKED = "\x00checked rule"


def _authorised(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    header = request.headers.get("authorization", "")
    kind, _, token = header.partition(" ")
    if kind.lower() != "bearer" or not hmac.compare_digest(token.strip(), runtime.admin_token):
        raise AuthError(
            401,
            "unauthorized",
            "the admin API takes the server's local token",
            f"run personae commands on the server's machine (the token is in {runtime.db}.serve.json)",
        )
    return runtime


# -- the operations ------------------------------------------------------------------------------
def _str(params: Params, name: str, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None:
        if required:
            raise InputError(f"the operation needs {name!r}")
        return None
    if not isinstance(value, str):
        raise InputError(f"{name!r} must be a string")
    return value


def _map(params: Params, name: str) -> dict[str, str]:
    value = params.get(name) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InputError(f"{name!r} must map names to strings")
    return {str(k): v for k, v in value.items()}


def _absolute(params: Params, name: str) -> Path:
    path = Path(_str(params, name, required=True) or "")
    if not path.is_absolute():
        raise InputError(f"{name} {path}: the server needs an absolute path", hint="the CLI sends one")
    return path


def build(runtime: Runtime, params: Params) -> Any:
    return runtime.build(parse_as_of(_str(params, "as_of")), cause="request")


def ingest(runtime: Runtime, params: Params) -> Any:
    settings = runtime.settings
    kind, file = _str(params, "kind", required=True) or "", _absolute(params, "file")

    def run(store: Store) -> dict[str, object]:
        return ingest_file(
            store,
            kind,
            file,
            fmt=_str(params, "format"),
            mapping=_map(params, "mapping"),
            date_format=_str(params, "date_format"),
            identity=settings.identity,
            constants=_map(params, "constants"),
            delimiter=_str(params, "delimiter"),
            settings=settings.ingest,
            list_sep=_str(params, "list_sep"),
        ).as_dict()

    return runtime.write_operation("ingest", run)


def report(runtime: Runtime, params: Params) -> Any:
    from personae.report import write_report  # start-up: Altair

    out = _absolute(params, "out")
    return runtime.read_operation(lambda store: write_report(store, out, runtime.settings))


def segments_list(runtime: Runtime, params: Params) -> Any:
    return runtime.read_operation(lambda store: reports.overview(store, runtime.settings.traits))


def segments_show(runtime: Runtime, params: Params) -> Any:
    name = _str(params, "name", required=True) or ""
    return runtime.read_operation(lambda store: reports.detail(store, name, runtime.settings.traits))


def segments_changes(runtime: Runtime, params: Params) -> Any:
    name, since = _str(params, "name", required=True) or "", parse_as_of(_str(params, "since"))
    return runtime.read_operation(lambda store: reports.changes(store, name, since, runtime.settings.traits))


def segments_overlap(runtime: Runtime, params: Params) -> Any:
    chosen = params.get("segments")
    if chosen is not None and not (isinstance(chosen, list) and all(isinstance(c, str) for c in chosen)):
        raise InputError("'segments' must be a list of names")
    as_of = parse_as_of(_str(params, "as_of"))
    return runtime.read_operation(
        lambda store: reports.overlap(store, chosen, as_of, runtime.settings.traits)
    )


def segments_check(runtime: Runtime, params: Params) -> Any:
    rule, traits = _str(params, "rule", required=True) or "", runtime.settings.traits

    def run(store: Store) -> dict[str, Any]:
        checked = library.check(store, rule, traits)
        counts = preview(store, [], traits, extra={_CHECKED: checked})
        return {
            "rule": rule,
            "valid": True,
            "segments_used": sorted(checked.references),
            "function_calls": sorted(a.describe() for a in checked.aggregates),
            "members_now": None if counts is None else counts[_CHECKED],
        }

    return runtime.read_operation(run)


def segments_add(runtime: Runtime, params: Params) -> Any:
    given = params.get("definitions")
    if not isinstance(given, list) or not given:
        raise InputError("'definitions' must be a list of {name, rule, description}")
    known = {"name", "rule", "description", "version", "builtin", "source", "created_at"}
    defs = [
        SegmentDefinition(
            str(d.get("name", "")),
            str(d.get("rule", "")),
            str(d.get("description") or ""),
            extra={k: v for k, v in d.items() if k not in known},
        )
        for d in given
        if isinstance(d, dict)
    ]
    source, traits = _str(params, "source") or "cli", runtime.settings.traits

    def run(store: Store) -> list[dict[str, Any]]:
        result = library.add_segments(store, defs, source=source, settings=traits)
        counts = preview(store, [r["name"] for r in result], traits)
        for r in result:
            r["members_now"] = None if counts is None else counts.get(r["name"])
        return result

    return runtime.write_operation("segments", run, reload="rules")


def segments_remove(runtime: Runtime, params: Params) -> Any:
    name = _str(params, "name", required=True) or ""
    return runtime.write_operation(
        "segments",
        lambda store: library.remove_segment(store, name, runtime.settings.traits),
        reload="rules",
    )


def segments_templates(runtime: Runtime, params: Params) -> Any:
    names = params.get("install")
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise InputError("'install' must be a list of template names, or null for all")
    return runtime.write_operation(
        "segments",
        lambda store: library.install_templates(store, names, runtime.settings.traits),
        reload="rules",
    )


#: every operation the CLI may hand to the server, by the name it posts to
OPERATIONS: dict[str, Callable[[Runtime, Params], Any]] = {
    "build": build,
    "ingest": ingest,
    "report": report,
    "segments.list": segments_list,
    "segments.show": segments_show,
    "segments.changes": segments_changes,
    "segments.overlap": segments_overlap,
    "segments.check": segments_check,
    "segments.add": segments_add,
    "segments.remove": segments_remove,
    "segments.templates": segments_templates,
}


def _error(exc: PersonaeError) -> JSONResponse:
    """The app's error body, plus what the CLI needs to raise the same error again: the class,
    and a bad rule's text and position (the caret under the problem)."""
    status, code = status_for(exc)
    body: dict[str, Any] = {"code": code, "message": exc.message, "hint": exc.hint}
    body["error"] = type(exc).__name__
    if isinstance(exc, RuleError):
        body.update(rule=exc.rule, position=exc.position)
    return JSONResponse(body, status_code=status)


# plain ``def``: FastAPI runs them in its thread pool, so a build that takes minutes holds one
# of its threads, never the event loop that tracking requests are served on
@router.get("/status")
def status(request: Request) -> dict[str, Any]:
    return _authorised(request).status()


@router.post("/{operation}")
def operate(operation: str, request: Request, params: Params = Body(default_factory=dict)) -> Response:
    runtime = _authorised(request)
    run = OPERATIONS.get(operation)
    if run is None:
        return _error(NotFoundError(f"no admin operation {operation!r}", hint=", ".join(OPERATIONS)))
    try:
        result = run(runtime, params)
    except PersonaeError as exc:
        return _error(exc)
    except Exception as exc:  # a bug: one line for the command, the traceback in the server's log
        log.exception("admin operation %s failed", operation)
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return _error(
            PersonaeError(
                f"unexpected {type(exc).__name__}"
                + (f": {text}" if text else "")
                + f" in the server's {operation}",
                hint="a bug in personae: please report it; the server's log has the traceback",
            )
        )
    # exactly what the command's print_json would print (dates by str, as there)
    return Response(json.dumps(result, default=str), media_type="application/json")
