"""``personae serve`` and ``personae keys``: the real-time service and its API keys.

Thin shell over :mod:`personae.live`. Keys are managed here while the server is stopped
(DuckDB lets one process write a database); while it runs, use the admin endpoints
``/v1/keys``.
"""

from __future__ import annotations

import typer
from rich.table import Table

from personae.app import keys as keystore
from personae.cli.app import State, app, console, print_json
from personae.errors import StoreError

keys_app = typer.Typer(help="API keys of the service: create, list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _open_store() -> object:
    try:
        return State.open_store()
    except StoreError as exc:
        if "lock" in str(exc).lower():
            raise StoreError(
                "the database is held by another process (a running `personae serve`?)",
                hint="stop the server, or manage keys through the admin API /v1/keys",
            ) from exc
        raise


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Interface to listen on (default 127.0.0.1: loopback only)."),
    port: int | None = typer.Option(None, help="TCP port (default 8000)."),
    log_level: str = typer.Option("info", help="uvicorn log level: critical, error, warning, info, debug."),
) -> None:
    """Run the tracking, profile and segments API (OpenAPI docs at /docs)."""
    import uvicorn

    from personae.api.app import create_app

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


@keys_app.command("create")
def keys_create(
    role: str = typer.Option(..., "--role", help="write (tracking), read (profiles) or admin (everything)."),
    name: str | None = typer.Option(None, "--name", help="What the key is for."),
    as_json: bool = typer.Option(False, "--json", help="JSON output (the key under `key`)."),
) -> None:
    """Create a key. It is printed once: personae stores only its hash."""
    store = _open_store()
    with store:  # type: ignore[attr-defined]
        record, key = keystore.create_key(store, role, name)  # type: ignore[arg-type]
    if as_json:
        print_json({**record.public(), "key": key})
        return
    console.print(f"created {record.role} key [bold]{record.key_id}[/bold] ({record.name}):")
    console.print(key, highlight=False, soft_wrap=True)
    console.print("[dim]store it now: it cannot be shown again[/dim]")


@keys_app.command("list")
def keys_list(as_json: bool = typer.Option(False, "--json", help="JSON output.")) -> None:
    """Every key (id, name, role, created, revoked) — never the secret."""
    store = _open_store()
    with store:  # type: ignore[attr-defined]
        keys = keystore.list_keys(store)  # type: ignore[arg-type]
    if as_json:
        print_json([k.public() for k in keys])
        return
    table = Table("key id", "name", "role", "created", "revoked")
    for k in keys:
        table.add_row(
            k.key_id, k.name, k.role, k.created_at.isoformat(timespec="seconds"),
            k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "",
        )  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="The key id (see `personae keys list`)."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Revoke a key: requests with it are refused from the next server start (at once via the API)."""
    store = _open_store()
    with store:  # type: ignore[attr-defined]
        record = keystore.revoke_key(store, key_id)  # type: ignore[arg-type]
    if as_json:
        print_json(record.public())
        return
    console.print(f"revoked {record.role} key {record.key_id} ({record.name})")
