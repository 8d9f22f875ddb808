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
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:  # pragma: no cover
        proc.kill()


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
    assert page.locator("#recommendations li").count() >= 1
    assert "action" in page.locator("#nba").text_content()
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
