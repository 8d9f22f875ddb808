"""``personae serve``: the tracking, profile and segments API and the dashboard."""

from __future__ import annotations

import typer

from personae.cli.context import State


def serve(
    host: str | None = typer.Option(None, help="Interface to listen on (default 127.0.0.1: loopback only)."),
    port: int | None = typer.Option(None, help="TCP port (default 8000)."),
    log_level: str = typer.Option("info", help="uvicorn log level: critical, error, warning, info, debug."),
) -> None:
    """Run the tracking, profile and segments API (OpenAPI docs at /docs)."""
    import uvicorn

    from personae.api.app import create_app  # start-up: FastAPI, uvicorn, Altair (dashboard charts)

    settings = State.settings()
    service = settings.service
    application = create_app(settings.db, settings)
    uvicorn.run(
        application,
        host=host or service.host,
        port=port or service.port,
        log_level=log_level,
        access_log=log_level == "debug",
    )
