"""``personae serve``: the tracking, profile and segments API and the dashboard."""

from __future__ import annotations

import logging

import typer

from personae.cli.context import State
from personae.cli.server import explain_lock, remove_serve_file, server_for, write_serve_file
from personae.errors import StoreError


def serve(
    host: str | None = typer.Option(None, help="Interface to listen on (default 127.0.0.1: loopback only)."),
    port: int | None = typer.Option(None, help="TCP port (default 8000)."),
    log_level: str = typer.Option("info", help="uvicorn log level: critical, error, warning, info, debug."),
) -> None:
    """Run the tracking, profile and segments API (OpenAPI docs at /docs).

    While it runs, `personae build`, `ingest`, `segments …` and `report` on the same database
    are run by the server (docs/service.md, Operations).
    """
    import uvicorn

    from personae.api.app import create_app  # start-up: FastAPI, uvicorn, Altair (dashboard charts)

    _log_to_stderr(log_level)
    settings = State.settings()
    service = settings.service
    host, port = host or service.host, port or service.port
    other = server_for(settings)
    if other is not None:
        raise StoreError(
            f"{settings.db} is already served by `personae serve` (pid {other.pid}, {other.url})",
            hint="use that server, stop it first, or serve another --db",
        )
    application = create_app(settings.db, settings)
    runtime = application.state.runtime
    # started here rather than in the app's lifespan: a database held by another process, or a
    # bad setting, is then one line (uvicorn would print the lifespan's traceback)
    try:
        runtime.start()
    except StoreError as exc:
        runtime.stop()
        raise explain_lock(exc, settings) from None
    if str(settings.db) != ":memory:":
        write_serve_file(settings.db, host, port, runtime.admin_token)
        runtime.on_stop.append(lambda: remove_serve_file(settings.db, runtime.admin_token))
    try:
        uvicorn.run(application, host=host, port=port, log_level=log_level, access_log=log_level == "debug")
    finally:
        runtime.stop()  # if uvicorn did not (it could not bind the port)


def _log_to_stderr(level: str) -> None:
    """The service's own log lines (builds run, scheduled builds, failures) beside uvicorn's."""
    logger = logging.getLogger("personae")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level.upper() if level.upper() in logging.getLevelNamesMapping() else logging.INFO)
