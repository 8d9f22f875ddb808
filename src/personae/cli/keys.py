"""``personae keys``: API keys of the service (create, list, revoke)."""

from __future__ import annotations

import typer
from rich.table import Table

from personae.app import keys as keystore
from personae.cli.context import State, console, print_json
from personae.errors import StoreError

keys_app = typer.Typer(help="API keys of the service: create, list, revoke.", no_args_is_help=True)


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
