"""The command line as a user meets it: the real console script, and the Typer app in-process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from personae.cli import app, main

PERSONAE = Path(sys.executable).with_name("personae")

ORDERS = (
    "order_id,customer_id,ordered_at,channel,amount\n"
    "O1,C1,2024-01-01,web,10\n"
    "O2,C2,2024-01-02,fax,5\n"
    "O3,C2,2024-01-03,store,oops\n"
    "O1,C1,2024-01-01,web,10\n"
)
CUSTOMERS = "customer_id,email,first_name\nC2,Ann@Example.com,Ann\nC1,ann@example.com ,Annie\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder, with no PERSONAE_* settings from the outside."""
    for var in ("PERSONAE_DB", "PERSONAE_CONFIG_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    return tmp_path


@pytest.fixture
def cli(workdir: Path) -> Callable[..., object]:
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):
        result = runner.invoke(app, list(args), env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return invoke


@pytest.fixture
def run_main(workdir: Path, main_in_process):
    """Call the console script's ``main()`` in-process, in the work folder."""
    return main_in_process


def summary_ok(summary: dict[str, object]) -> None:
    assert {"read", "accepted", "rejected", "duplicates", "updated", "kind", "file"} <= set(summary)
    assert summary["read"] == summary["accepted"] + summary["rejected"] + summary["duplicates"]


# -- the real console script -----------------------------------------------------------------


def test_console_script_ingest_json(workdir: Path) -> None:
    db = workdir / "p.duckdb"
    proc = subprocess.run(
        [str(PERSONAE), "--db", str(db), "ingest", "orders", "orders.csv", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)  # stdout is only the JSON
    summary_ok(summary)
    assert (summary["read"], summary["accepted"], summary["rejected"], summary["duplicates"]) == (4, 1, 2, 1)
    assert db.exists()


def test_console_script_error_is_one_line_without_traceback(workdir: Path) -> None:
    proc = subprocess.run(
        [str(PERSONAE), "--db", str(workdir / "p.duckdb"), "ingest", "orders", "customers.csv"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("error: customers.csv: missing required column(s) ordered_at, amount")
    assert "found columns: customer_id, email, first_name" in line


# -- errors through main() -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["ingest", "purchases", "orders.csv"], 2, "error: unknown kind 'purchases'"),
        (["ingest", "orders", "customers.csv"], 2, "error: customers.csv: missing required column(s)"),
        (["ingest", "orders", "nowhere.csv"], 2, "error: nowhere.csv: no such file"),
        (["ingest", "orders", "orders.csv", "--format", "xlsx"], 2, "error: unknown format 'xlsx'"),
        (
            ["ingest", "orders", "orders.csv", "--map", "amount"],
            2,
            "error: --map 'amount': expected CANONICAL=SOURCE",
        ),
        (["customers", "show", "C404"], 3, "error: no customer with id or identifier 'C404'"),
    ],
)
def test_errors_are_one_line_on_stderr(run_main, args: list[str], code: int, message: str) -> None:
    got, out, err = run_main("--db", "p.duckdb", *args)
    assert got == code
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(message)
    assert "Traceback" not in err


def test_missing_columns_error_writes_nothing(run_main, workdir: Path) -> None:
    run_main("--db", "p.duckdb", "ingest", "orders", "orders.csv")
    code, _, _ = run_main("--db", "p.duckdb", "ingest", "orders", "customers.csv", "--json")
    assert code == 2
    code, out, _ = run_main("--db", "p.duckdb", "rejects", "--json")
    assert code == 0
    assert {r["file"] for r in json.loads(out)} == {"orders.csv"}


def test_error_messages_show_brackets_from_the_file_verbatim(run_main, workdir: Path) -> None:
    (workdir / "odd.csv").write_text("customer_id,amount [usd],[bold]when\nC1,3,2024-01-01\n")
    code, _, err = run_main("--db", "p.duckdb", "ingest", "orders", "odd.csv")
    assert code == 2
    assert "found columns: customer_id, amount [usd], [bold]when" in err


def test_usage_errors_exit_2_without_traceback(run_main) -> None:
    code, _, err = run_main("ingest", "orders")
    assert code == 2
    assert "Missing argument" in err
    assert "Traceback" not in err


def test_an_unexpected_error_is_one_line_with_a_way_to_see_more(
    run_main, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug still reaches the user as one line (exit 70); PERSONAE_DEBUG=1 shows the traceback."""
    import personae.cli.build as build_command

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("need at least one array to concatenate")

    monkeypatch.setattr(build_command, "run_build", broken)
    code, _, err = run_main("--db", "p.duckdb", "build")
    assert code == 70 and "Traceback" not in err
    assert err.count("\n") == 1 and "unexpected ValueError: need at least one array" in err
    assert "PERSONAE_DEBUG=1" in err
    monkeypatch.setenv("PERSONAE_DEBUG", "1")
    with pytest.raises(ValueError):
        main()


def test_a_full_disk_is_one_line_with_a_hint(run_main, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import personae.cli.build as build_command

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(build_command, "run_build", full)
    code, _, err = run_main("--db", "p.duckdb", "build")
    assert code == 74 and "the disk is full" in err and "Traceback" not in err


# -- commands through the Typer app --------------------------------------------------------


def test_ingest_json_counts(cli, workdir: Path) -> None:
    result = cli("--db", "p.duckdb", "ingest", "orders", "orders.csv", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    summary_ok(summary)
    assert summary["kind"] == "orders"
    assert (summary["accepted"], summary["rejected"], summary["duplicates"]) == (1, 2, 1)

    again = json.loads(cli("--db", "p.duckdb", "ingest", "orders", "orders.csv", "--json").stdout)
    summary_ok(again)
    assert again["accepted"] == 0


def test_ingest_plain_output(cli) -> None:
    result = cli("--db", "p.duckdb", "ingest", "orders", "orders.csv")
    assert result.exit_code == 0
    assert "read 4, accepted 1 (0 updates), rejected 2, duplicates 1" in result.stdout
    assert "personae rejects" in result.stdout


def test_rejects_json(cli) -> None:
    cli("--db", "p.duckdb", "ingest", "orders", "orders.csv")
    result = cli("--db", "p.duckdb", "rejects", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [(r["file"], r["line"], r["kind"]) for r in rows] == [
        ("orders.csv", 3, "orders"),
        ("orders.csv", 4, "orders"),
    ]
    assert "channel: unknown value 'fax'" in rows[0]["reason"]
    assert "amount: cannot read 'oops' as a number" in rows[1]["reason"]
    assert rows[1]["raw"] == "O3,C2,2024-01-03,store,oops"
    assert json.loads(cli("--db", "p.duckdb", "rejects", "--kind", "customers", "--json").stdout) == []
    assert len(json.loads(cli("--db", "p.duckdb", "rejects", "--limit", "1", "--json").stdout)) == 1


def test_rejects_table_shows_raw_text_verbatim(cli, workdir: Path) -> None:
    (workdir / "o.csv").write_text("customer_id,ordered_at,amount\nC1,[red]soon,1\n")
    cli("--db", "p.duckdb", "ingest", "orders", "o.csv")
    result = cli("--db", "p.duckdb", "rejects")
    assert result.exit_code == 0
    assert "[red]soon" in result.stdout


def test_customers_show_json(cli) -> None:
    cli("--db", "p.duckdb", "ingest", "customers", "customers.csv")
    cli("--db", "p.duckdb", "ingest", "orders", "orders.csv")
    for given in ("C1", "C2", "ANN@example.com"):
        result = cli("--db", "p.duckdb", "customers", "show", given, "--json")
        assert result.exit_code == 0, result.output
        profile = json.loads(result.stdout)
        assert profile["customer_id"] == "C1"
    assert profile["attributes"]["first_name"] == "Annie"
    assert profile["attributes"]["email"] == "ann@example.com"
    assert "customer_id:C2" in profile["identifiers"]
    assert profile["counts"]["orders"] == 1
    [merge] = profile["merged_profiles"]
    assert (merge["merged_customer_id"], merge["rule"]) == ("C2", "shared email")


def test_customers_show_plain(cli) -> None:
    cli("--db", "p.duckdb", "ingest", "customers", "customers.csv")
    result = cli("--db", "p.duckdb", "customers", "show", "C2")
    assert result.exit_code == 0
    assert "customer C1" in result.stdout
    assert "merged C2 (shared email" in result.stdout


def test_map_and_date_format_options(cli, workdir: Path) -> None:
    (workdir / "legacy.csv").write_text("cust,day,dollars\nC1,20240131,12.5\n")
    result = cli(
        "--db",
        "p.duckdb",
        "ingest",
        "orders",
        "legacy.csv",
        "--map",
        "customer_id=cust",
        "-m",
        "ordered_at=day",
        "--map",
        "amount=dollars",
        "--date-format",
        "%Y%m%d",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accepted"] == 1


def test_format_override(cli, workdir: Path) -> None:
    (workdir / "export.dat").write_text('{"customer_id": "C1", "ordered_at": "2024-01-01", "amount": 2}\n')
    result = cli("--db", "p.duckdb", "ingest", "orders", "export.dat", "--format", "jsonl", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["format"] == "jsonl"


# -- which database ----------------------------------------------------------------------------


def count_orders(db: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM orders").fetchone()[0]
    finally:
        con.close()


def test_db_option_and_environment_select_the_database(cli, workdir: Path) -> None:
    env_db, opt_db = workdir / "env.duckdb", workdir / "opt.duckdb"
    cli("ingest", "orders", "orders.csv", env={"PERSONAE_DB": str(env_db)})
    assert env_db.exists()
    assert count_orders(env_db) == 1
    cli("--db", str(opt_db), "ingest", "orders", "orders.csv", env={"PERSONAE_DB": str(env_db)})
    assert count_orders(opt_db) == 1  # --db wins over the environment
    assert not (workdir / "personae.duckdb").exists()
    cli("ingest", "orders", "orders.csv")
    assert count_orders(workdir / "personae.duckdb") == 1  # the default: ./personae.duckdb


def test_newer_database_is_refused_by_the_cli(run_main, workdir: Path) -> None:
    import duckdb

    run_main("--db", "p.duckdb", "ingest", "orders", "orders.csv")
    con = duckdb.connect("p.duckdb")
    con.execute("INSERT INTO _personae_schema VALUES (999, 'future', now())")
    con.close()
    code, _, err = run_main("--db", "p.duckdb", "rejects")
    assert code == 1
    assert err.startswith("error: p.duckdb uses schema version 999")


def test_rejects_of_a_run_can_be_cleared(run_main, workdir: Path) -> None:
    """Once fixed, a run's rejects (and their raw lines) can go: by run, by file, or all."""
    (workdir / "bad.csv").write_text(
        "order_id,customer_id,ordered_at,amount\nO1,C1,2024-01-05,ten\nO2,C1,x,1\n"
    )
    (workdir / "bad2.csv").write_text("order_id,customer_id,ordered_at,amount\nO3,C1,2024-01-05,-\n")
    for name in ("bad.csv", "bad2.csv"):
        code, _, err = run_main("--db", "p.duckdb", "ingest", "orders", name)
        assert code == 0, err
    code, out, _ = run_main("--db", "p.duckdb", "rejects", "--json")
    listed = json.loads(out)
    assert code == 0 and len(listed) == 3
    code, _, err = run_main("--db", "p.duckdb", "rejects", "clear")
    assert code == 2 and err.startswith("error: say which rejects to clear")
    first_run = next(r["ingest_id"] for r in listed if r["file"] == "bad.csv")
    code, out, _ = run_main("--db", "p.duckdb", "rejects", "clear", "--ingest", first_run, "--json")
    assert code == 0 and json.loads(out) == {"cleared": 2}
    code, out, _ = run_main("--db", "p.duckdb", "rejects", "--json")
    assert [r["file"] for r in json.loads(out)] == ["bad2.csv"]
    code, out, _ = run_main("--db", "p.duckdb", "rejects", "clear", "--file", "bad.csv")
    assert code == 0 and "nothing cleared" in out
    code, out, _ = run_main("--db", "p.duckdb", "rejects", "clear", "--all", "--json")
    assert json.loads(out) == {"cleared": 1}
    code, out, _ = run_main("--db", "p.duckdb", "rejects")
    assert code == 0 and "no rejected rows" in out


def test_a_dry_run_shows_the_mapping_and_rows_and_writes_nothing(run_main, workdir: Path) -> None:
    (workdir / "export.dat").write_text(
        "userId\tmovieId\trating\ttimestamp\n1\t31\t2.5\t1260759144\n1\t1029\t3.0\tyesterday\n"
    )
    code, out, err = run_main(
        "--db", "p.duckdb", "ingest", "events", "export.dat", "--format", "tsv",
        "--map", "customer_id=userId", "--map", "product_id=movieId", "--map", "occurred_at=timestamp",
        "--set", "type=rating", "--dry-run", "--json",
    )  # fmt: skip
    assert code == 0, err
    preview = json.loads(out)
    assert preview["mapping"] == {
        "type": "= 'rating'",
        "customer_id": "userId",
        "product_id": "movieId",
        "occurred_at": "timestamp",
    }
    assert preview["extra"] == ["rating"] and (preview["read"], preview["valid"], preview["rejected"]) == (
        2,
        1,
        1,
    )
    assert preview["rows"] == [
        {"customer_id": "1", "occurred_at": "2009-12-14T02:52:24", "type": "rating", "product_id": "31"}
    ]
    assert (
        preview["rejects"][0]["line"] == 3
        and "occurred_at: cannot read 'yesterday'" in preview["rejects"][0]["reason"]
    )
    assert not (workdir / "p.duckdb").exists()


@pytest.mark.parametrize(
    "error",
    [
        'IO Error: Could not write file "p.duckdb": No space left on device',
        "FATAL Error: Failed to create checkpoint because of error: Could not write file "
        '"p.duckdb": No space left on device',
    ],
)
def test_the_engine_saying_the_disk_is_full_is_one_line_with_a_hint(
    run_main, monkeypatch: pytest.MonkeyPatch, error: str
) -> None:
    """Issue 25.4: DuckDB reports a full disk in its own exceptions (an IOException while writing
    rows, a FatalException when a checkpoint fails — what `personae ingest` printed on a 3 MB
    tmpfs as "unexpected FatalException … a bug in personae"). The store's write fails here
    the way the engine fails: one line, the hint, exit 74, and the ingest rolled back."""
    import duckdb

    from personae.store import DuckDBStore

    kind = duckdb.FatalException if error.startswith("FATAL") else duckdb.IOException

    def full(*args: object, **kwargs: object) -> int:
        raise kind(error)

    monkeypatch.setattr(DuckDBStore, "append", full)
    code, _, err = run_main("--db", "p.duckdb", "ingest", "orders", "orders.csv")
    assert code == 74 and "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith('error: could not write file "p.duckdb": No space left on device')
    assert "(the disk is full: free some space" in err and "a bug" not in err
