"""The real-data gauntlet: every command a user has, on public data nobody here generated.

Each data set in ``../shared/datasets`` goes in with mapping alone, is built, and then every
command runs on it. A command may succeed or refuse, but only as a user would want: exit 0, or
exit non-zero with one ``error: …`` line; never a traceback, never ``NaN``/``inf`` in what it
prints. Skips cleanly where ``../shared/datasets`` is absent.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from personae.cli import main

DATASETS = Path(
    os.environ.get("PERSONAE_DATASETS") or Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
)
#: A number a user should never see: NaN or an infinity, in any spelling, outside a word.
NOT_A_NUMBER = re.compile(r"(?<![A-Za-z])(nan|NaN|NAN|-?inf|-?Inf|-?Infinity)(?![A-Za-z])")

#: A Rich table with a header and no rows: its header rule is followed straight by its bottom rule.
EMPTY_TABLE = re.compile(r"┩\n└")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not DATASETS.is_dir(), reason="../shared/datasets absent")]


@dataclass(frozen=True)
class RealData:
    """One public data set: how it goes in, and ids and dates to ask about."""

    name: str
    ingests: tuple[tuple[str, ...], ...]
    customer: str
    calibration_end: str
    #: files made here (name → text) for the thin shapes; other paths are in ``DATASETS``
    files: tuple[tuple[str, str], ...] = ()


REAL_DATA = (
    RealData(
        "cdnow",
        (
            (
                "orders",
                "cdnow/cdnow_master.csv",
                "--map",
                "ordered_at=date",
                "--map",
                "quantity=cds",
                "--map",
                "amount=dollars",
                "--date-format",
                "%Y%m%d",
            ),
        ),
        customer="00001",
        calibration_end="1997-09-30",
    ),
    RealData(
        "movielens",
        (
            (
                "events",
                "movielens-small/ratings.csv",
                "--map",
                "customer_id=userId",
                "--map",
                "product_id=movieId",
                "--map",
                "occurred_at=timestamp",
                "--set",
                "type=rating",
            ),
            (
                "products",
                "movielens-small/movies.csv",
                "--map",
                "product_id=movieId",
                "--map",
                "name=title",
                "--map",
                "category=genres",
                "--list-sep",
                "|",
            ),
        ),
        customer="1",
        calibration_end="2010-12-31",
    ),
    RealData(
        "clothing-reviews",
        (
            # the first column is a row index with an empty header: ingest names it column_1
            ("customers", "clothing-reviews/reviews.csv", "--map", "customer_id=column_1"),
            (
                "surveys",
                "clothing-reviews/reviews.csv",
                "--map",
                "customer_id=column_1",
                "--map",
                "score=Rating",
                "--map",
                "comment=Review Text",
                "--set",
                "kind=csat",
                "--set",
                "scale_max=5",
                "--set",
                "answered_at=2019-06-01",
            ),
            (
                # the reviews' titles as texts of their own, signed by the same customers (some
                # titles are empty: rejected with the reason)
                "texts",
                "clothing-reviews/reviews.csv",
                "--map",
                "customer_id=column_1",
                "--map",
                "text=Title",
                "--map",
                "score=Rating",
                "--map",
                "subject=Clothing ID",
                "--set",
                "scale_max=5",
                "--set",
                "source=review",
                "--set",
                "created_at=2019-06-01",
            ),
        ),
        customer="1",
        calibration_end="2019-03-31",
    ),
)


#: Thin shapes a new user's first file often has: one table, or one customer with one order.
THIN = (
    RealData(
        "only-customers",
        (("customers", "customers.csv"),),
        customer="C1",
        calibration_end="2024-06-30",
        files=(("customers.csv", "customer_id,created_at,country\nC1,2024-01-05,DE\nC2,2024-02-01,FR\n"),),
    ),
    RealData(
        "only-events",
        (("events", "events.csv"),),
        customer="C1",
        calibration_end="2024-06-30",
        files=(
            (
                "events.csv",
                "customer_id,occurred_at,type,product_id\nC1,2024-01-05T10:00:00,product_view,P1\n"
                "C1,2024-01-05T10:02:00,add_to_cart,P1\nC2,2024-02-01T09:00:00,page_view,\n",
            ),
        ),
    ),
    RealData(
        "only-surveys",
        (("surveys", "surveys.csv"),),
        customer="C1",
        calibration_end="2024-06-30",
        files=(
            (
                "surveys.csv",
                "customer_id,answered_at,kind,score,comment\nC1,2024-03-01,nps,9,Great service\n"
                "C2,2024-03-02,nps,3,The parcel came late and broken\n",
            ),
        ),
    ),
    RealData(
        # texts alone, as `personae ingest texts` takes them: one signed, one by a handle only,
        # one anonymous (a review nobody signed)
        "only-texts",
        (("texts", "texts.csv", "--set", "scale_max=5"),),
        customer="C1",
        calibration_end="2024-06-30",
        files=(
            (
                "texts.csv",
                "customer_id,handle,created_at,source,score,text\n"
                "C1,,2024-03-01,review,5,Lovely fabric and it fits well\n"
                ',@ann_77,2024-03-02,twitter,,"@shop thanks… still waiting for my parcel"\n'
                ',,2024-03-03,review,2,"Arrived late, the seams came apart after one wash"\n',
            ),
        ),
    ),
    RealData(
        # review events whose text is a property: how texts went in before `ingest texts`
        "only-review-events",
        (("events", "reviews.csv", "--set", "type=review"),),
        customer="C1",
        calibration_end="2024-06-30",
        files=(
            (
                "reviews.csv",
                "customer_id,occurred_at,text\nC1,2024-03-01,Lovely fabric and it fits well\n"
                'C2,2024-03-02,"Arrived late, the seams came apart after one wash"\n',
            ),
        ),
    ),
    RealData(
        "one-order",
        (("orders", "orders.csv"),),
        customer="C1",
        calibration_end="2024-06-30",
        files=(("orders.csv", "customer_id,ordered_at,amount\nC1,2024-03-01,25.00\n"),),
    ),
)


@dataclass
class Run:
    code: int
    out: str
    err: str


def _as_a_user_wants(args: tuple[str, ...], run: Run) -> None:
    said = f"personae {' '.join(args)} -> exit {run.code}\n{run.out[-1500:]}\n{run.err[-1500:]}"
    assert "Traceback" not in run.out + run.err, said
    if run.code != 0:
        lines = [ln for ln in run.err.splitlines() if ln.strip()]
        assert lines and lines[0].startswith("error: "), said
        assert len(lines) == 1 or not lines[1].startswith(("  File", "Traceback")), said
    bad = NOT_A_NUMBER.search(run.out)
    assert bad is None, f"{said}\nshows {bad.group(0)!r}"
    # a table with a header and no rows is an empty section that does not say why
    assert EMPTY_TABLE.search(run.out) is None, f"{said}\nprints an empty table instead of saying why"


@pytest.fixture(scope="module", params=REAL_DATA + THIN, ids=lambda d: d.name)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[RealData, Path]:
    """The data set ingested and built (once per module), as the CLI does it."""
    data: RealData = request.param
    work = tmp_path_factory.mktemp(data.name)
    db = str(work / "real.duckdb")
    for name, text in data.files:
        (work / name).write_text(text, encoding="utf-8")
    made = dict(data.files)
    for kind, path, *options in data.ingests:
        _must("--db", db, "ingest", kind, str(work / path if path in made else DATASETS / path), *options)
    _must("--db", db, "build")
    return data, work


def _must(*args: str) -> None:
    """Run a command that has to succeed (the set-up of a data set)."""
    saved = sys.argv
    sys.argv = ["personae", "--quiet", *args]
    try:
        main()
    except SystemExit as exc:
        assert not exc.code, f"personae {' '.join(args)} exited {exc.code}"
    finally:
        sys.argv = saved


def _commands(data: RealData, work: Path, playbook: str) -> list[tuple[str, ...]]:
    cid, out = data.customer, str(work)
    return [
        ("segments", "list", "--json"),
        ("segments", "members", "Champions", "--format", "json"),
        ("segments", "validate", "--segments", "Champions,Lost", "--on", "nps", "--json"),
        ("clv", "summary"),
        ("clv", "fit", "--calibration-end", data.calibration_end, "--json"),
        ("clusters", "build"),
        ("clusters", "show", "--json"),
        ("preferences", "show", cid, "--json"),
        ("recommend", cid),
        ("recommend", "evaluate", "--json"),
        ("recommend", "export", "--out", f"{out}/recommendations.csv"),
        ("actions", "next", cid, "--json"),
        ("activate", playbook, "--out", f"{out}/audience.csv", "--json"),
        ("impact", playbook, "--json"),
        ("experience", "report", "--json"),
        ("survey", "sample", "--segments", "Champions,Lost", "--out", f"{out}/sample.csv"),
        ("journey", "funnel", "--json"),
        ("journey", "touches", "--json"),
        ("journey", "paths", "--json"),
        ("journey", "dropoffs", "--json"),
        ("voice", "build"),
        ("voice", "themes", "--json"),
        ("voice", "export", "--format", "csv", "--out", f"{out}/voice.csv"),
        ("customers", "show", cid),
        ("customers", "export", cid, "--out", f"{out}/customer.json"),
        ("traits", "show", cid, "--json"),
        ("report", "--out", f"{out}/report", "--json"),
    ]


def test_every_command_answers_as_a_user_wants(built: tuple[RealData, Path], main_in_process) -> None:
    data, work = built
    db = str(work / "real.duckdb")

    def _run(*args: str) -> Run:
        return Run(*main_in_process("--quiet", *args))

    books = _run("--db", db, "actions", "playbooks", "--json")
    assert books.code == 0, books.err
    listed = json.loads(books.out)
    playbook = (listed[0] if isinstance(listed, list) else listed["playbooks"][0])["name"]
    failures = []
    for args in _commands(data, work, playbook):
        run = _run("--db", db, *args)
        try:
            _as_a_user_wants(args, run)
        except AssertionError as exc:
            failures.append(str(exc))
    report = work / "report" / "report.html"
    if report.exists():  # what the report shows a reader: its text, without tags and images
        shown = re.sub(r"<[^>]+>", " ", re.sub(r"data:image/[^\"']+", "", report.read_text(encoding="utf-8")))
        bad = NOT_A_NUMBER.search(shown)
        if bad is not None:
            failures.append(
                f"report.html shows {bad.group(0)!r}: …{shown[max(bad.start() - 80, 0) : bad.end() + 80]}…"
            )
    assert not failures, f"{len(failures)} command(s) on {data.name}:\n\n" + "\n\n".join(failures)


def test_api_reads_answer_as_a_user_wants(built: tuple[RealData, Path]) -> None:
    """The service's reads on the same store: an answer or a JSON error, never a 500 or a NaN."""
    from fastapi.testclient import TestClient

    from personae.api.app import create_app
    from personae.app import keys
    from personae.config import Settings
    from personae.store import DuckDBStore

    data, work = built
    db = work / "real.duckdb"
    with DuckDBStore.open(db) as store:
        read = keys.create_key(store, "read", "gauntlet")[1]
    cid = data.customer
    paths = [
        "/health",
        "/v1/segments",
        "/v1/segments/Champions/members",
        f"/v1/customers/{cid}",
        f"/v1/customers/{cid}/recommendations",
        f"/v1/customers/{cid}/next-best-action",
        "/v1/customers/no-such-customer",
    ]
    failures = []
    settings = Settings(db=db, service={"expiry_check_seconds": 3600})
    with TestClient(create_app(db, settings), raise_server_exceptions=False) as client:
        for path in paths:
            got = client.get(path, headers={"Authorization": f"Bearer {read}"})
            said = f"GET {path} -> {got.status_code}: {got.text[:500]}"
            if (
                got.status_code >= 500
                or got.headers.get("content-type", "").split(";")[0] != "application/json"
            ):
                failures.append(said)
            elif got.status_code >= 400 and not got.json().get("message"):
                failures.append(f"{said} (an error without a message)")
            elif NOT_A_NUMBER.search(got.text):
                failures.append(f"{said} (shows NaN or inf)")
    assert not failures, f"{len(failures)} read(s) on {data.name}:\n" + "\n".join(failures)
