"""The root ``personae`` command: global options, the command table, and how errors reach the user.

Thin shell: every command parses its options, calls one library function and prints. The
commands are listed once, in :data:`personae.cli.commands.COMMANDS`; this module adds them to
the root app in that order (no command registers itself by being imported).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import typer
from rich.markup import escape

from personae.cli.commands import COMMANDS, Command, Group
from personae.cli.context import State, err_console
from personae.errors import PersonaeError

app = typer.Typer(
    name="personae",
    help="Know each customer, segment them, and personalize — from your own data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for _entry in COMMANDS:
    if isinstance(_entry, Group):
        app.add_typer(_entry.app, name=_entry.name)
    elif isinstance(_entry, Command):
        app.command(_entry.name)(_entry.run)


@app.callback()
def _global(
    db: Path | None = typer.Option(
        None, "--db", envvar="PERSONAE_DB", help="DuckDB database file (default: ./personae.duckdb)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    engine: str | None = typer.Option(
        None, "--engine", help="duckdb (default) or spark; env PERSONAE_ENGINE (docs/scaling.md)."
    ),
    warehouse: str | None = typer.Option(
        None,
        "--warehouse",
        help="Spark engine: Parquet warehouse folder or URI (default: ./personae-warehouse).",
    ),
    spark_master: str | None = typer.Option(
        None, "--spark-master", help="Spark engine: master URL (default: local[*], or spark-submit's)."
    ),
) -> None:
    """personae: customer segmentation and personalization engine."""
    State.db = db
    State.quiet = quiet
    State.engine, State.warehouse, State.spark_master = engine, warehouse, spark_master


def main() -> None:
    """Console entry point: run the app, turning personae errors into one line and an exit code."""
    try:
        app(standalone_mode=False)
    except PersonaeError as exc:
        # escape: messages quote file content (e.g. a column "amount [usd]"), not markup
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("interrupted: nothing was changed by the interrupted step")
        raise SystemExit(130) from None
    except typer.Abort:
        raise SystemExit(1) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except Exception as exc:
        # usage errors (missing argument, unknown command…), duck-typed: newer Typer vendors
        # Click as typer._click (no `click` module), older Typer raises click's own classes
        code, show = getattr(exc, "exit_code", None), getattr(exc, "show", None)
        if callable(show) and isinstance(code, int):
            show()
            raise SystemExit(code) from None
        message, exit_code = unexpected(exc)
        err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        if os.environ.get("PERSONAE_DEBUG"):
            raise
        raise SystemExit(exit_code) from None


#: What the system says when the disk is full or a file cannot be written.
_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free some space, or point --db at another disk, and run it again",
    errno.EACCES: "check the file's permissions, or choose another path",
    errno.EROFS: "the file system is read-only: choose another path",
}


#: How engines say the disk is full in their own exceptions (not an OSError with an errno).
_DISK_FULL = ("no space left on device", "disk full", "disk quota exceeded")


def _disk_full(exc: BaseException) -> str | None:
    """The line of ``exc`` (or what caused it) that says the disk is full, if one does.

    >>> _disk_full(RuntimeError('FATAL Error: Could not write file "p.duckdb": No space left on device'))
    'could not write file "p.duckdb": No space left on device'
    """
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        for line in str(seen).splitlines():
            lowered = line.lower()
            if any(s in lowered for s in _DISK_FULL):
                at = lowered.find("could not write")
                text = line[at:] if at >= 0 else line.strip()
                return text[:1].lower() + text[1:]
        seen = seen.__cause__ or seen.__context__
    return None


def unexpected(exc: BaseException) -> tuple[str, int]:
    """One line (and an exit code) for an error personae did not raise on purpose.

    Never a traceback: the system's own errors (disk full, permissions) get a hint a user can act
    on and exit 74 (EX_IOERR); anything else is a bug, said so in one line with the way to see the
    traceback (``PERSONAE_DEBUG=1``) and exit 70 (EX_SOFTWARE).

    >>> message, code = unexpected(OSError(errno.ENOSPC, "No space left on device"))
    >>> code, message.split(" (")[1][:33]
    (74, 'the disk is full: free some space')
    >>> unexpected(RuntimeError('IO Error: Could not write file "p.duckdb": No space left on device'))[1]
    74
    >>> unexpected(ValueError("need at least one array"))[1]
    70
    """
    if isinstance(exc, OSError) and exc.errno is not None:
        hint = _OS_HINTS.get(exc.errno, "check the path and the disk, then run it again")
        return f"{exc} ({hint})", 74
    if full := _disk_full(exc):
        # the database engine's own error (DuckDB: "IO Error: Could not write file …: No space
        # left on device", or a FATAL one when a checkpoint failed): the same one line
        return f"{full} ({_OS_HINTS[errno.ENOSPC]})", 74
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return (
        f"unexpected {detail} (a bug in personae: please report it with the command you ran; "
        "PERSONAE_DEBUG=1 shows the traceback)",
        70,
    )
