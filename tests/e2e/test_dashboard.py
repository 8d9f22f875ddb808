"""The dashboard as a person uses it: a real ``personae serve`` and headless Debian Chromium.

One small generated, built shop and one server per module; one browser per module, a fresh
context (so a fresh ``sessionStorage``) per test. Every page must load with no console error and
no request leaving the server; the builder's count must equal ``personae segments check``'s.
Screenshots land in ``tests/artifacts/dashboard/`` (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from personae.app.demo import INGEST_ORDER

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():  # pragma: no cover - `make test` installs it
    pytest.skip("needs /usr/bin/chromium (`make chromium`)", allow_module_level=True)

PERSONAE = Path(sys.executable).with_name("personae")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The rule the builder test types (with a typo first); trait-only, so live and batch agree.
RULE = "frequency >= 2 and monetary > 50"
TYPO = "frequncy >= 2 and monetary > 50"


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PERSONAE), "--db", str(db), "-q", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def ok(db: Path, *args: str) -> str:
    res = cli(db, *args)
    assert res.returncode == 0, f"personae {' '.join(args)}: {res.stderr}"
    return res.stdout


@dataclass
class Shop:
    db: Path
    root: Path
    admin: str
    read: str
    cli_count: int
    url: str = ""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    """A small generated shop, ingested and built, with an activation and two keys."""
    root = tmp_path_factory.mktemp("dashboard")
    db = root / "shop.duckdb"
    ok(db, "generate", "--customers", "150", "--seed", "7", "--out", str(root / "data"))
    for kind in INGEST_ORDER:
        ok(db, "ingest", kind, str(root / "data" / f"{kind}.csv"))
    ok(db, "build")
    ok(db, "activate", "browsed_not_bought", "--out", str(root / "audience.csv"))
    checked = json.loads(ok(db, "segments", "check", RULE, "--json"))
    keys = {r: json.loads(ok(db, "keys", "create", "--role", r, "--json"))["key"] for r in ("admin", "read")}
    return Shop(db, root, keys["admin"], keys["read"], int(checked["members_now"]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(shop: Shop) -> Iterator[Shop]:
    yield from _served(shop)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Watched:
    """A page and every problem the browser reported on it."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def ready(self) -> None:
        """Wait until the page's script finished (``data-ready``), failing if it failed."""
        self.page.wait_for_selector("body[data-ready]", timeout=30_000)
        state = self.page.get_attribute("body", "data-ready")
        problem = self.page.locator("#problem").text_content()
        assert state == "true", problem

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.ready()

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(a.search(e) for a in self.allowed)]


@pytest.fixture()
def web(server: Shop, browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    w = Watched(page, server.url)
    page.on("console", lambda m: w.errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: w.errors.append(f"page error: {e}"))

    def request(r: Any) -> None:
        url = r.url
        if not (url.startswith(server.url) or url.startswith("data:")):
            w.errors.append(f"network request off the server: {url}")

    page.on("request", request)
    yield w
    context.close()
    assert not w.unexpected(), w.unexpected()


def login(web: Watched, key: str) -> None:
    """Sign in with the keyboard only: the field has focus, type, Enter."""
    page = web.page
    page.goto(web.base + "/")
    web.ready()
    assert page.evaluate("document.activeElement.id") == "api-key"
    page.keyboard.type(key)
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/segments")
    web.ready()


def unlabelled(web: Watched) -> list[str]:
    """Form controls without an accessible name (a label, aria-label or aria-labelledby)."""
    result: list[str] = web.page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
             .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length)
                      && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
             .map(e => e.id || e.name || e.outerHTML)"""
    )
    return result


def test_login_refuses_a_bad_key_then_lets_a_read_key_in(web: Watched, server: Shop) -> None:
    web.allowed.append(re.compile(r"status of 401"))  # the refused key's request, on purpose
    page = web.page
    web.goto("/")
    page.get_by_label("API key").fill("pk_read_nope_nope")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "unknown or revoked key" in alert.text_content()
    assert page.get_by_label("API key").get_attribute("aria-invalid") == "true"
    assert page.evaluate("sessionStorage.length") == 0
    login(web, server.read)
    # the key is in this tab's sessionStorage, never in a cookie
    assert page.evaluate("sessionStorage.getItem('personae.apiKey')") == server.read
    assert page.context.cookies() == []
    # signing out forgets it; pages then send you to the login page
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(server.url + "/")
    web.goto("/")
    page.goto(server.url + "/ui/segments")
    page.wait_for_url(server.url + "/")


def test_every_page_loads_labelled_and_offline(web: Watched, server: Shop) -> None:
    page = web.page
    login(web, server.read)
    live = httpx.get(server.url + "/v1/segments", headers={"Authorization": f"Bearer {server.read}"}).json()
    champions = next(s for s in live if s["name"] == "Champions")
    # segment list: every segment, the live count as the API says, the report's chart + takeaway
    rows = page.locator("#segment-table tbody tr")
    assert rows.count() == len(live)
    row = page.locator('#segment-table tbody tr[data-name="Champions"]')
    assert row.locator("td").nth(1).text_content() == f"{champions['members']:,}"
    assert page.locator("#segment-chart img").get_attribute("src").startswith("data:image/svg+xml")
    assert "Champions are" in page.locator("#segment-chart figcaption").text_content()
    assert not unlabelled(web)
    web.shot("segments")
    # the filter narrows the table
    page.get_by_label("Filter segments").fill("champ")
    assert page.locator("#segment-table tbody tr:not([hidden])").count() == 1

    pages = {
        "segment": "/ui/segments/Champions",
        "customers": "/ui/customers",
        "builder": "/ui/builder",
        "impact": "/ui/impact",
        "journeys": "/ui/journeys",
    }
    for name, path in pages.items():
        web.goto(path)
        assert not unlabelled(web), (name, unlabelled(web))
        web.shot(name)
    # the segment page lists the live members, by customer id
    web.goto(pages["segment"])
    assert page.locator("#members-total").text_content() == f"{champions['members']:,} members now."
    assert page.locator("#members-list a").count() == min(100, champions["members"])
    assert page.locator("#history-table tbody tr").count() >= 1
    # campaign impact: the activated playbook with its verdict
    web.goto(pages["impact"])
    assert page.locator("#impact-reports h2").all_text_contents() == ["browsed_not_bought"]
    assert page.locator("#impact-chart figcaption").text_content().startswith("1 playbook measured")


def test_journeys_page_draws_the_funnel_and_the_paths_and_follows_the_choices(
    web: Watched, server: Shop
) -> None:
    page = web.page
    login(web, server.read)
    page.get_by_role("link", name="Journeys").click()
    page.wait_for_url("**/ui/journeys*")
    web.ready()
    assert page.get_by_role("link", name="Journeys").get_attribute("aria-current") == "page"
    assert not unlabelled(web)
    auth = {"Authorization": f"Bearer {server.read}"}
    api = httpx.get(server.url + "/v1/dashboard/journeys", headers=auth).json()
    assert (api["within_days"], api["to"]) == (7, "order")
    for figure in ("#journey-funnel", "#journey-paths"):
        assert page.locator(f"{figure} img").get_attribute("src").startswith("data:image/svg+xml")
    # the takeaways are the report's sentences, computed from the same numbers the API serves
    funnel = page.locator("#journey-funnel figcaption").text_content()
    paths = page.locator("#journey-paths figcaption").text_content()
    assert funnel == api["funnel"]["takeaway"] and funnel.startswith("The biggest drop-off is ")
    assert paths == api["paths"]["takeaway"]
    assert f"{api['customers']:,} customers" in paths and "made a first order" in paths
    web.shot("journeys")
    # another outcome: the paths chart redraws for it, and the address keeps the choice
    page.get_by_label("Paths to", exact=True).select_option("repeat")
    page.locator("#journey-paths[data-to='repeat'][aria-busy='false']").wait_for()
    assert "made a second order" in page.locator("#journey-paths figcaption").text_content()
    assert page.locator("#paths-h").text_content() == "Paths to a second order (repeat)"
    assert page.url.endswith("?within=7&to=repeat")
    # a shorter window never counts more customers at the last step (the funnel's own invariant)
    page.get_by_label("Funnel window", exact=True).select_option("1")
    page.locator("#journey-funnel[data-within='1'][aria-busy='false']").wait_for()
    one_day = httpx.get(server.url + "/v1/dashboard/journeys?within=1&to=repeat", headers=auth).json()
    assert page.locator("#journey-funnel figcaption").text_content() == one_day["funnel"]["takeaway"]
    assert [s["step"] for s in one_day["funnel_steps"]] == api["steps"]
    for short, long in zip(one_day["funnel_steps"], api["funnel_steps"], strict=True):
        assert short["customers"] <= long["customers"]
    assert one_day["funnel_steps"][0]["customers"] == api["funnel_steps"][0]["customers"]
    web.goto("/ui/journeys?within=1&to=repeat")  # a shared address opens on the same choice
    assert page.get_by_label("Funnel window", exact=True).input_value() == "1"
    assert page.get_by_label("Paths to", exact=True).input_value() == "repeat"
    assert httpx.get(server.url + "/v1/dashboard/journeys?within=0", headers=auth).status_code in (400, 422)
    assert httpx.get(server.url + "/v1/dashboard/journeys").status_code == 401


def test_keyboard_focus_order_follows_the_page(web: Watched, server: Shop) -> None:
    page = web.page
    login(web, server.read)
    web.goto("/ui/customers")
    order = []
    for _ in range(2):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.textContent.trim()"))
    # the customer field has focus on arrival; Tab goes on to the button, then the next link
    assert order == ["Open customer", "segments page"]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "customer-id"
    # from the top of the page: skip link, then the navigation in order, then sign out
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    web.goto("/ui/impact")
    order = []
    for _ in range(7):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert order == [
        "Skip to content",
        "Segments",
        "Customers",
        "Segment builder",
        "Campaign impact",
        "Journeys",
        "Sign out",
    ]


def test_builder_counts_live_shows_errors_in_place_and_saves(web: Watched, server: Shop) -> None:
    page = web.page
    login(web, server.admin)
    web.goto("/ui/builder")
    name = f"Repeat buyers {int(time.time())}"
    page.get_by_label("Segment name").fill(name)
    rule = page.get_by_label("Rule", exact=True)
    rule.focus()
    page.keyboard.type(TYPO, delay=15)
    # the error, where it is: the misspelt name marked inside the rule, with suggestions
    mark = page.locator("#rule-errors mark")
    mark.wait_for()
    assert mark.text_content() == "frequncy"
    assert "line 1, column 1" in page.locator("#rule-errors").text_content()
    assert rule.get_attribute("aria-invalid") == "true"
    web.shot("builder-error")
    page.get_by_role("button", name="use “frequency”").click()
    status = page.locator("#rule-status[data-members]")
    status.wait_for()
    assert rule.input_value() == RULE
    assert int(status.get_attribute("data-members")) == server.cli_count
    assert f"{server.cli_count:,} customers match now" in status.text_content()
    assert rule.get_attribute("aria-invalid") is None
    # the count follows every edit
    page.keyboard.press("End")
    page.keyboard.type(" and frequency >= 1000000", delay=10)
    page.locator("#rule-status[data-members='0']").wait_for()
    for _ in range(len(" and frequency >= 1000000")):
        page.keyboard.press("Backspace")
    page.locator(f"#rule-status[data-members='{server.cli_count}']").wait_for()
    web.shot("builder")
    page.get_by_role("button", name="Save segment").click()
    saved = page.locator("#save-result a")
    saved.wait_for()
    assert "created, version 1" in saved.text_content()
    saved.click()
    page.wait_for_url(re.compile(r"/ui/segments/Repeat"))
    web.ready()
    # the saved segment, on its page: the same count as `personae segments check`
    assert int(page.locator("#segment-matches").get_attribute("data-members")) == server.cli_count
    assert page.get_by_text(name, exact=True).count() >= 1
    web.goto("/ui/segments")
    assert page.get_by_role("link", name=name, exact=True).count() == 1


def test_a_saved_segment_has_as_many_live_members_as_the_cli_counts(server: Shop) -> None:
    """Regression: a new rule on traits no earlier rule read had 0 live members until restart."""
    auth = {"Authorization": f"Bearer {server.admin}"}
    res = httpx.post(server.url + "/v1/segments", json={"name": "Live check", "rule": RULE}, headers=auth)
    assert res.status_code == 200, res.text
    live = httpx.get(server.url + "/v1/segments/Live%20check/members?limit=1", headers=auth).json()
    assert live["total"] == server.cli_count


def test_customer_360_from_a_segment_member(web: Watched, server: Shop) -> None:
    page = web.page
    login(web, server.admin)
    web.goto("/ui/segments/Champions")
    first = page.locator("#members-list a").first
    cid = first.text_content()
    first.click()
    page.wait_for_url(f"**/ui/customers/{cid}")
    web.ready()
    assert page.locator("h1").text_content() == f"Customer {cid}"
    profile = page.locator("#profile").text_content()
    assert cid in profile and "email" in profile  # an admin key sees personal data
    # segments with the values their rules read
    seg = page.locator(
        "#customer-segments tbody tr", has=page.get_by_role("link", name="Champions", exact=True)
    )
    assert "rfm_segment = Champions" in seg.text_content()
    # a timeline across channels, filterable by kind
    sources = set(page.locator("#timeline tbody tr").evaluate_all("rs => rs.map(r => r.dataset.source)"))
    assert {"event", "order"} <= sources
    page.get_by_label("Show").select_option("order")
    only = set(page.locator("#timeline tbody tr").evaluate_all("rs => rs.map(r => r.dataset.source)"))
    assert only == {"order"}
    assert page.locator("#consents li").count() >= 1
    # recommendations, each with its reason: the API's, in order (regression: the page read a
    # key the API does not send, `items`, and always said "No recommendation.")
    auth = {"Authorization": f"Bearer {server.admin}"}
    recs = httpx.get(f"{server.url}/v1/customers/{cid}/recommendations?limit=5", headers=auth).json()
    assert recs["recommendations"], recs
    shown = page.locator("#recommendations li")
    assert shown.locator("strong").all_text_contents() == [r["name"] for r in recs["recommendations"]]
    for li, r in zip(shown.all(), recs["recommendations"], strict=True):
        assert r["reason"] and li.text_content().endswith(" — " + r["reason"])
        # the products the reason cites, on the reason itself
        cited = li.locator(".reason").get_attribute("data-because")
        assert (cited or "").split() == r["because_product_ids"]
    # the next best action in words, every playbook with its status and reason (regression: raw JSON)
    nba = httpx.get(f"{server.url}/v1/customers/{cid}/next-best-action", headers=auth).json()
    words = page.locator("#nba").text_content()
    assert not re.search(r'\{"|\[\{|"playbook"\s*:', words), words
    head = page.locator("#nba p.status").text_content()
    if nba["action"]:
        assert head.startswith(f"Next: {nba['action'].replace('_', ' ')}")
    else:
        assert head.startswith(("Held out of", "No action:"))
    steps = page.locator("#nba li").all_text_contents()
    assert len(steps) == len(nba["playbooks"])
    for text, step in zip(steps, nba["playbooks"], strict=True):
        assert text.startswith(step["playbook"].replace("_", " ") + ": ") and step["reason"] in text
    assert page.locator("#traits tbody tr").count() > 20
    web.shot("customer")
    # the lookup page finds the same customer by typing the id
    web.goto("/ui/customers")
    page.keyboard.type(cid)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ui/customers/{cid}")
    web.ready()


def test_rule_check_endpoint_is_read_only_and_keyed(server: Shop) -> None:
    """The builder's endpoint: read keys may use it; no key may not; it stores nothing."""
    url = server.url + "/v1/dashboard/rule-check"
    assert httpx.post(url, json={"rule": RULE}).status_code == 401
    before = httpx.get(server.url + "/v1/segments", headers={"Authorization": f"Bearer {server.read}"}).json()
    res = httpx.post(url, json={"rule": RULE}, headers={"Authorization": f"Bearer {server.read}"})
    assert res.status_code == 200 and res.json()["members"] == server.cli_count
    bad = httpx.post(url, json={"rule": "monetary > "}, headers={"Authorization": f"Bearer {server.read}"})
    assert (
        bad.status_code == 200 and bad.json()["valid"] is False and bad.json()["errors"][0]["position"] == 11
    )
    after = httpx.get(server.url + "/v1/segments", headers={"Authorization": f"Bearer {server.read}"}).json()
    assert [s["name"] for s in after] == [s["name"] for s in before]
    page = httpx.get(server.url + "/")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert httpx.get(server.url + "/ui/static/../app.py").status_code == 404


def test_rule_names_offer_the_event_properties_the_data_has(web: Watched, server: Shop) -> None:
    """The builder lists the properties the events carry (the demo's checkouts carry ``items``);
    a click writes one into the rule, and a misspelt one is answered with the right name."""
    url = server.url + "/v1/dashboard/rule-names"
    assert httpx.get(url).status_code == 401
    data = httpx.get(url, headers={"Authorization": f"Bearer {server.read}"}).json()
    props = {p["name"]: p for p in data["properties"]}
    assert "number" in props["items"]["types"] and props["items"]["events"] > 0
    assert {"sum_of", "matches", "events"} <= {n["name"] for n in data["names"] if n["kind"] == "function"}
    check = server.url + "/v1/dashboard/rule-check"
    typo = 'max_of("checkout_started", "itmes") >= 4'
    bad = httpx.post(check, json={"rule": typo}, headers={"Authorization": f"Bearer {server.read}"}).json()
    assert bad["valid"] is False and bad["errors"][0]["suggestions"][0] == "items"
    page = web.page
    login(web, server.read)
    web.goto("/ui/builder")
    page.locator("#rule-names summary").click()
    page.get_by_role("button", name="items (number)").click()
    assert page.get_by_label("Rule", exact=True).input_value() == "items"


def test_the_script_reports_a_read_the_contract_does_not_declare(web: Watched, server: Shop) -> None:
    """The guard behind READS: a field read that no contract names is a console error."""
    login(web, server.read)
    page = web.page
    value = page.evaluate("async () => (await api('/v1/dashboard/impact')).reports.length >= 0")
    assert value is True and not web.unexpected()  # a declared read: quiet
    page.evaluate("async () => (await api('/v1/dashboard/impact')).verdicts")
    page.wait_for_timeout(200)
    assert any("contract: the dashboard reads verdicts" in e for e in web.errors), web.errors
    web.errors.clear()


# -- every page on real data -------------------------------------------------------------------------
DATASETS = Path(
    os.environ.get("PERSONAE_DATASETS") or Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
)
#: How each public data set goes in (as tests/e2e/test_real_data.py does), and a customer to open.
_CDNOW = ("--map", "ordered_at=date", "--map", "quantity=cds", "--map", "amount=dollars")
_RATINGS = ("--map", "customer_id=userId", "--map", "product_id=movieId", "--map", "occurred_at=timestamp")
_MOVIES = ("--map", "product_id=movieId", "--map", "name=title", "--map", "category=genres")
REAL_DATA: dict[str, tuple[tuple[tuple[str, ...], ...], str]] = {
    "cdnow": ((("orders", "cdnow/cdnow_master.csv", *_CDNOW, "--date-format", "%Y%m%d"),), "00001"),
    "movielens": (
        (
            ("events", "movielens-small/ratings.csv", *_RATINGS, "--set", "type=rating"),
            ("products", "movielens-small/movies.csv", *_MOVIES),
        ),
        "1",
    ),
}
#: What a person must never read on a page (outside rules, which are code).
NOT_SHOWN = re.compile(r"\b(NaN|-?Infinity|undefined|null)\b")
#: Text a page shows while its data is on its way.
LOADING = ("", "Loading…")


@dataclass
class RealShop:
    name: str
    customer: str
    server: Shop


@pytest.fixture(scope="module", params=sorted(REAL_DATA))
def real(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealShop]:
    """The public data set ingested with mapping alone, built, keyed and served (once a module)."""
    if not DATASETS.is_dir():
        pytest.skip(f"{DATASETS} absent (set PERSONAE_DATASETS)")
    name: str = request.param
    ingests, customer = REAL_DATA[name]
    root = tmp_path_factory.mktemp(f"real-{name}")
    db = root / "real.duckdb"
    for kind, path, *options in ingests:
        ok(db, "ingest", kind, str(DATASETS / path), *options)
    ok(db, "build")
    admin = json.loads(ok(db, "keys", "create", "--role", "admin", "--json"))["key"]
    shop = Shop(db, root, admin, admin, 0)
    yield from (RealShop(name, customer, s) for s in _served(shop))


def _served(shop: Shop) -> Iterator[Shop]:
    """``shop`` with a running ``personae serve`` (stopped when the generator is closed)."""
    port = _free_port()
    log = (shop.root / "serve.log").open("ab")
    proc = subprocess.Popen(
        [str(PERSONAE), "serve", "--port", str(port), "--log-level", "warning"],
        env={**os.environ, "PERSONAE_DB": str(shop.db)},
        cwd=shop.root,
        stdout=log,
        stderr=log,
    )
    shop.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            assert proc.poll() is None, (shop.root / "serve.log").read_text()
            try:
                if httpx.get(shop.url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        yield shop
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()


def _shown(web: Watched) -> str:
    """The page's main text as a person reads it, without rules (code may say `null`)."""
    text: str = web.page.evaluate(
        """() => { const m = document.querySelector('main').cloneNode(true);
                   m.querySelectorAll('code, pre').forEach(c => c.remove()); return m.innerText; }"""
    )
    return text


def _nothing_blank(web: Watched, where: str) -> None:
    """Every part of the page has content or a sentence saying why it has none; no bad number."""
    page = web.page
    shown = _shown(web)
    bad = NOT_SHOWN.search(shown)
    assert bad is None, f"{where} shows {bad.group(0)!r}:\n{shown[:3000]}"
    assert page.locator("main [aria-busy='true']").count() == 0, where
    for caption in page.locator("main figure figcaption").all_text_contents():
        assert caption.strip() not in LOADING, f"{where}: a chart without a takeaway"
    blank: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('main tbody, main ol, main ul:not(.columns)')]
             .filter(e => !e.innerText.trim())
             .map(e => e.closest('[id]') ? e.closest('[id]').id : e.tagName)"""
    )
    assert blank == [], f"{where}: empty with no word why: {blank}"
    # a section whose list is empty (a segment with no member) says so in a sentence
    empty_members = page.locator("#members-list:empty")
    if empty_members.count():
        assert page.locator("#members-total").text_content().endswith("."), where


@pytest.fixture()
def real_web(real: RealShop, browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    w = Watched(page, real.server.url)

    def console(m: Any) -> None:
        if m.type == "error":
            w.errors.append(f"console: {m.text} ({m.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda e: w.errors.append(f"page error: {e}"))
    # a part the API cannot answer on this data (nothing to recommend from) is a 404 the page
    # explains in words; the browser logs the status itself
    w.allowed.append(re.compile(r"status of 404 .*/recommendations\?"))
    yield w
    context.close()
    assert not w.unexpected(), w.unexpected()


def test_every_page_works_on_real_data(real_web: Watched, real: RealShop) -> None:
    web, page, base = real_web, real_web.page, real.server.url
    auth = {"Authorization": f"Bearer {real.server.admin}"}
    login(web, real.server.admin)
    _nothing_blank(web, "segments")
    web.shot(f"{real.name}-segments")
    live = httpx.get(base + "/v1/segments", headers=auth).json()
    assert page.locator("#segment-table tbody tr").count() == len(live)
    # a segment with members (if any), and one without
    with_members = [s["name"] for s in live if s["members"] > 0]
    empty = [s["name"] for s in live if s["live"] and s["members"] == 0]
    for name in (with_members[:1] + empty[:1]) or ["Champions"]:
        web.goto("/ui/segments/" + name)
        _nothing_blank(web, f"segment {name}")
        assert page.locator("#segment-matches").text_content().endswith(".")
    web.shot(f"{real.name}-segment")
    # the customer 360 of a known customer: every part says something in words
    web.goto("/ui/customers/" + real.customer)
    _nothing_blank(web, "customer")
    assert page.locator("h1").text_content() == f"Customer {real.customer}"
    assert page.locator("#timeline tbody tr[data-source]").count() >= 1
    recs = page.locator("#recommendations li").all_text_contents()
    assert recs and (recs[0].startswith("No recommendation: ") or " — " in recs[0]), recs
    nba = page.locator("#nba").text_content()
    assert re.match(r"(Next: |Held out of |No action: )", nba) and "{" not in nba, nba
    web.shot(f"{real.name}-customer")
    for path in ("/ui/customers", "/ui/builder", "/ui/impact"):
        web.goto(path)
        _nothing_blank(web, path)
    assert page.locator("#impact-chart figcaption").text_content().endswith(".")
    # the builder counts a rule on this data as `segments check` would
    web.goto("/ui/builder")
    page.get_by_label("Rule", exact=True).fill("frequency >= 2")
    status = page.locator("#rule-status[data-members]")
    status.wait_for()
    checked = httpx.post(base + "/v1/dashboard/rule-check", json={"rule": "frequency >= 2"}, headers=auth)
    assert int(status.get_attribute("data-members")) == checked.json()["members"]
    # journeys: the menu offers the data's event types, and each outcome draws or says why
    web.goto("/ui/journeys")
    offered = page.locator("#journey-to option").evaluate_all("os => os.map(o => o.value)")
    types = {t for t in offered if t not in ("order", "repeat", "lapsed", "detractor")}
    assert types == ({"rating"} if real.name == "movielens" else set()), offered
    for outcome in offered:
        page.get_by_label("Paths to", exact=True).select_option(outcome)
        page.locator(f"#journey-paths[data-to='{outcome}'][aria-busy='false']").wait_for()
        _nothing_blank(web, f"journeys to {outcome}")
        funnel = page.locator("#journey-funnel figcaption").text_content()
        assert "did you mean" not in funnel and "no 'product_view' events in the data" in funnel, funnel
        paths = page.locator("#journey-paths figcaption").text_content()
        assert "did you mean" not in paths and paths.endswith((".", ")")), paths
    web.shot(f"{real.name}-journeys")
