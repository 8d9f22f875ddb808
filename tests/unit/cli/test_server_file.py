"""``<db>.serve.json``: how a command finds the server holding its database (cli/server.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from personae.cli.server import (
    explain_lock,
    remove_serve_file,
    running_server,
    serve_file,
    write_serve_file,
)
from personae.config import load_settings
from personae.errors import StoreError


def test_the_file_is_the_owners_only_and_names_a_reachable_url(tmp_path: Path) -> None:
    db = tmp_path / "shop.duckdb"
    path = write_serve_file(db, "0.0.0.0", 8123, "tok")
    assert path == serve_file(db) and path.name == "shop.duckdb.serve.json"
    assert path.stat().st_mode & 0o777 == 0o600
    server = running_server(db)  # this very process: alive
    assert server is not None and server.url == "http://127.0.0.1:8123" and server.token == "tok"
    remove_serve_file(db, "another server's token")  # not ours: kept
    assert path.exists()
    remove_serve_file(db, "tok")
    assert not path.exists() and running_server(db) is None


def test_a_file_left_by_a_dead_server_is_ignored(tmp_path: Path) -> None:
    db = tmp_path / "shop.duckdb"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    serve_file(db).write_text(
        json.dumps({"pid": int(dead.stdout), "url": "http://127.0.0.1:9", "token": "t"}), encoding="utf-8"
    )
    assert running_server(db) is None
    serve_file(db).write_text("{half a fi", encoding="utf-8")
    assert running_server(db) is None


def test_a_lock_error_says_who_holds_the_file(tmp_path: Path) -> None:
    db = tmp_path / "shop.duckdb"
    settings = load_settings(db=db)
    duckdb_said = StoreError(
        f'cannot open database {db}: IO Error: Could not set lock on file "{db}": Conflicting lock is '
        "held in /usr/bin/python3.11 (PID 4242). See also https://duckdb.org/docs/stable/connect/concurrency"
    )
    line = str(explain_lock(duckdb_said, settings))
    assert line == (
        f"{db} is locked by process 4242 (python3.11): DuckDB lets one process write a database file "
        "(wait for it to finish or stop it, or use another --db)"
    )
    write_serve_file(db, "127.0.0.1", 8123, "tok")
    line = str(explain_lock(duckdb_said, settings))
    assert "held by `personae serve`" in line and "build, ingest, segments and report run inside" in line
    other = StoreError("cannot open database: not a DuckDB file")
    assert explain_lock(other, settings) is other
