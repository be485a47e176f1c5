"""The HTML audit report in a real headless Chromium (Debian's package, driven by Playwright).

The report of three generated repositories (clean, leaky with live, revoked, baselined,
deleted and untracked secrets, broken) is opened from file://; the test checks there is
no console error and no request beyond the file itself, that the totals shown equal the
hand count, that filtering and sorting work, that hostile names stayed text, and leaves a
screenshot at ``test-artifacts/audit-report.png`` (and in pytest's tmp dir).

Without Chromium or Playwright the test skips locally and FAILS when ``CI`` is set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from test_audit import EVIL_FILE, audit, assert_no_secret, build_estate, record_revocation, serve_providers

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = ROOT / "test-artifacts" / "audit-report.png"
CHROMIUM = os.environ.get("LEAKTRAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def _unavailable(why: str) -> None:
    message = f"browser test cannot run: {why} (apt-get install -y chromium; pip install playwright)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        _unavailable(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def srv():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def visible_paths(page) -> list[str]:
    return page.locator("#findings tbody tr:visible td:nth-child(5) .path").all_inner_texts()


def test_report_in_a_real_browser(browser, srv: HTTPServer, tmp_path: Path) -> None:
    estate = build_estate(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    record_revocation(out / ".leaktrap" / "audit.jsonl", "gitlab-pat", EVIL_FILE, estate.secrets["revoked"])
    res = audit("repos", "--verify", *serve_providers(srv, estate), "-o", str(out / "audit.html"), cwd=tmp_path)
    assert res.code == 1, res.err
    report = out / "audit.html"
    assert_no_secret(estate.all_secrets, res, report)

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")

    try:
        _check_totals(page)
        _check_filters(page)
        _check_sorting(page)
        assert page.evaluate("window.__pwned") is None  # hostile names stayed text
        assert page.locator("img").count() == 0
        assert problems == []
        assert requests == [report.as_uri()]  # nothing else: no network, no asset
    finally:
        shot = tmp_path / "audit-report.png"
        page.locator("#reset").click()
        page.screenshot(path=str(shot), full_page=True)
        ARTIFACT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, ARTIFACT)
        page.close()


def _check_totals(page) -> None:
    """The hand count of tests/test_audit.py::build_estate, with --verify and the audit log."""
    def total(key: str) -> int:
        return int(page.locator(f'[data-total="{key}"]').inner_text())

    def card(key: str) -> int:
        return int(page.locator(f'[data-card="{key}"]').inner_text())

    assert (card("findings"), card("repositories"), card("failed")) == (5, 3, 1)
    assert (card("status:live"), card("status:new"), card("status:baselined"), card("status:revoked")) == (1, 2, 1, 1)
    assert [total(f"severity:{s}") for s in ("critical", "high", "medium", "low", "info")] == [4, 1, 0, 0, 0]
    assert [total(f"status:{s}") for s in ("live", "new", "submitted", "revoked", "baselined")] == [1, 2, 0, 1, 1]
    assert [total(f"verification:{v}") for v in ("valid", "invalid", "unknown", "no-endpoint", "not-checked")] == [1, 3, 0, 1, 0]
    assert (total("provider:GitHub"), total("provider:GitLab")) == (2, 3)
    assert (total("repo:repos/clean"), total("repo:repos/leaky")) == (0, 5)
    assert page.locator("#findings tbody tr").count() == 5
    assert page.locator("#shown-count").inner_text() == "5"
    failed = page.locator('#repositories tr[data-repo-status="failed"]')
    assert failed.count() == 1 and "repos/broken" in failed.inner_text() and "not a readable git repository" in failed.inner_text()
    segments = page.locator("svg.timeline rect title").all_text_contents()  # stacked by severity
    assert segments == ["2023-03: 1 critical", "2023-09: 2 critical", "2023-09: 1 high"]
    assert page.locator(f'#findings td:has-text("{EVIL_FILE}")').count() == 1


def _check_filters(page) -> None:
    page.select_option('select[data-filter="status"]', "new")
    assert sorted(visible_paths(page)) == ["deploy/token.txt", "scratch.py"]
    assert page.locator("#shown-count").inner_text() == "2"
    page.select_option('select[data-filter="severity"]', "high")
    assert visible_paths(page) == ["deploy/token.txt"]
    page.locator("#reset").click()
    page.fill("#search", "octocat")  # no row mentions it: the reason is not searched
    assert visible_paths(page) == [] and page.locator("#no-match").is_visible()
    page.fill("#search", "SCRATCH")
    assert visible_paths(page) == ["scratch.py"]
    page.locator("#reset").click()
    page.locator('button.pick[data-pick="status"][data-value="live"]').click()  # a total is a filter too
    assert visible_paths(page) == ["app.py"]
    page.locator("#reset").click()
    assert len(visible_paths(page)) == 5


def _check_sorting(page) -> None:
    header = page.locator('th[data-col="exposure"] button')
    header.click()
    ascending = visible_paths(page)
    assert ascending[0] == "scratch.py" and ascending[-1] == "settings.py"  # never committed, then oldest last
    assert page.locator('th[data-col="exposure"]').get_attribute("aria-sort") == "ascending"
    header.click()
    assert visible_paths(page)[0] == "settings.py"
    assert page.locator('th[data-col="exposure"]').get_attribute("aria-sort") == "descending"
    page.locator('th[data-col="severity"] button').click()
    severities = page.locator("#findings tbody tr:visible").evaluate_all("rows => rows.map(r => r.dataset.severity)")
    assert severities == ["critical"] * 4 + ["high"]
    page.select_option('select[data-filter="head"]', "no")  # sorting keeps the filter
    assert sorted(visible_paths(page)) == sorted([EVIL_FILE, "deploy/token.txt"])


def test_an_empty_report_works_too(browser, tmp_path: Path) -> None:
    from test_audit import make_repo

    make_repo(tmp_path / "only").commit("init", **{"a.py": "print(1)\n"})
    res = audit("only", "-o", "empty.html", cwd=tmp_path)
    assert res.code == 0, res.err
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto((tmp_path / "empty.html").as_uri())
    assert page.locator('[data-card="findings"]').inner_text() == "0"
    assert page.locator("#shown-count").inner_text() == "0" and page.locator("#no-match").is_visible()
    assert "nothing to chart" in page.locator("#timeline").inner_text()
    page.locator('th[data-col="severity"] button').click()
    assert problems == []
    page.close()
