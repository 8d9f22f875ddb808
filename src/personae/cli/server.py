"""Commands and a running ``personae serve``: hand the work to the server, or say who holds the file.

DuckDB lets one process write a database file. While ``personae serve`` runs it is that
process, and it says so in ``<db>.serve.json`` (host, port, pid and a local admin token; mode
0600; removed when it stops, ignored when its pid is gone). ``personae build``, ``ingest``,
``segments …`` and ``report`` then post their work to the server's admin API
(:mod:`personae.api.admin`) and print its answer as they would their own; any other command
stops with one line saying the server holds the file. A file held by anything else (another
command still running, a notebook) is also one line, with the holder's pid when DuckDB names it.

Plain :mod:`urllib`: a local POST does not need an HTTP client dependency.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from personae import errors
from personae.config import Settings
from personae.errors import PersonaeError, RuleError, StoreError

SUFFIX = ".serve.json"


def serve_file(db: Path | str) -> Path:
    """Where the server serving ``db`` says so: ``<db>.serve.json`` beside the database."""
    return Path(f"{Path(db).expanduser().resolve()}{SUFFIX}")


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0 checks without sending anything)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


@dataclass(frozen=True)
class Server:
    """A running ``personae serve`` on a database, as its ``.serve.json`` describes it."""

    db: str
    url: str
    token: str
    pid: int

    def call(self, operation: str, params: dict[str, Any] | None = None, timeout: float = 24 * 3600.0) -> Any:
        """Run ``operation`` in the server; its JSON answer, or the error it raised, raised again."""
        body = json.dumps(params or {}, default=str).encode()
        request = urllib.request.Request(
            f"{self.url}/v1/admin/{operation}",
            data=body,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        deadline = time.monotonic() + 10  # a server still starting up: its port opens after the file
        while True:
            try:
                with urllib.request.urlopen(request, timeout=timeout) as answer:
                    return json.loads(answer.read())
            except urllib.error.HTTPError as exc:
                raise _raised(exc) from None
            except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, ConnectionRefusedError) and time.monotonic() < deadline:
                    time.sleep(0.3)
                    continue
                raise StoreError(
                    f"`personae serve` (pid {self.pid}) holds {self.db} but does not answer at "
                    f"{self.url}: {reason}",
                    hint="see the server's log; if no server runs, delete " + str(serve_file(self.db)),
                ) from None


def _raised(exc: urllib.error.HTTPError) -> PersonaeError:
    """The server's error as the same class the command would have raised itself (same exit code)."""
    try:
        body = json.loads(exc.read())
    except (ValueError, OSError):
        body = {}
    message = str(body.get("message") or f"the server answered HTTP {exc.code}")
    hint = body.get("hint")
    cls = getattr(errors, str(body.get("error", "")), None)
    if cls is RuleError:
        return RuleError(message, rule=body.get("rule"), position=body.get("position"), hint=hint)
    if isinstance(cls, type) and issubclass(cls, PersonaeError) and cls.__init__ is PersonaeError.__init__:
        return cls(message, hint=hint)
    if exc.code == 401:
        return StoreError(message, hint=hint)
    return PersonaeError(message, hint=hint)


def running_server(db: Path | str) -> Server | None:
    """The server that serves ``db``, if one runs (a file left by a killed server is ignored)."""
    path = serve_file(db)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        server = Server(str(db), str(info["url"]), str(info["token"]), int(info["pid"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable (another user's server, a partial file): let the open decide
    return server if pid_alive(server.pid) else None


def server_for(settings: Settings) -> Server | None:
    """The server to hand a command to: only for the DuckDB engine (Spark has no file lock)."""
    if settings.engine != "duckdb" or str(settings.db) == ":memory:":
        return None
    return running_server(settings.db)


def write_serve_file(db: Path | str, host: str, port: int, token: str) -> Path:
    """Say ``db`` is served here: written atomically, readable by its owner only (0600)."""
    path = serve_file(db)
    reach = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    url = f"http://[{reach}]:{port}" if ":" in reach else f"http://{reach}:{port}"
    info = {"pid": os.getpid(), "url": url, "host": host, "port": port, "token": token, "db": str(db)}
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(info, f)
    os.replace(tmp, path)
    return path


def remove_serve_file(db: Path | str, token: str) -> None:
    """Remove the file if it is still this server's (never another's that replaced it)."""
    path = serve_file(db)
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("token") == token:
            path.unlink()


_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def explain_lock(exc: PersonaeError, settings: Settings) -> PersonaeError:
    """A lock error from DuckDB as one line saying who holds the file and what to do."""
    text = str(exc)
    if "Could not set lock" not in text and "lock" not in text.lower():
        return exc
    db = settings.db
    server = running_server(db)
    if server is not None:
        return StoreError(
            f"{db} is held by `personae serve` (pid {server.pid}, {server.url}): "
            "this command cannot run while it serves",
            hint="build, ingest, segments and report run inside the server; stop the server for this one",
        )
    found = _HOLDER.search(text)
    holder = f"process {found['pid']} ({Path(found['program']).name})" if found else "another process"
    return StoreError(
        f"{db} is locked by {holder}: DuckDB lets one process write a database file",
        hint="wait for it to finish or stop it, or use another --db",
    )
