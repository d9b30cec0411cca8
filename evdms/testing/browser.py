"""Real Chromium (Debian's, never a download) driven by Playwright, for the main flows.

A failing browser test leaves a screenshot in test-artifacts/ so one can see the page.

The ``page`` fixture is a desktop screen (1366 px) unless a test asks for both sizes
with ``@both_screens``, and a British English browser unless it names another
``locale``; ``check_page(page)`` is what a flow calls on each main page it visits:
nothing wider than the screen, no word broken inside a table cell
(``assert_layout_ok``) and no serious or critical WCAG 2.2 A/AA failure found by axe-core
(``assert_accessible``).
"""

from __future__ import annotations

import re
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_failed_key] = report.failed
    return report


_failed_key = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `make test`, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


DESKTOP: dict[str, Any] = {"viewport": {"width": 1366, "height": 860}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}
SCREENS = {"desktop": DESKTOP, "phone": PHONE}

# The main flows run on a laptop and on a phone: `@both_screens` above the test.
both_screens = pytest.mark.parametrize("screen", ["desktop", "phone"], indirect=True)


@pytest.fixture
def screen(request) -> dict[str, Any]:
    """The browser context's options: a desktop unless parametrised with a SCREENS name."""
    return SCREENS[getattr(request, "param", "desktop")]


@pytest.fixture
def locale() -> str:
    """The browser's language (its Accept-Language): British English unless a test
    parametrises it, e.g. ``@pytest.mark.parametrize("locale", ["nl-NL"])``."""
    return "en-GB"


@pytest.fixture
def page(browser, request, screen, locale):
    context = browser.new_context(**screen, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.console_errors = console_errors
    yield page
    if request.node.stash.get(_failed_key, False):
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


def screenshot(page, name: str) -> Path:
    """Keep a picture of a page as a test artifact (for looking at what we built)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def is_phone(page) -> bool:
    return page.viewport_size["width"] < 720


def main_nav_link(page, name: str | re.Pattern[str]):
    """A link of the main navigation, opening the "Menu" first on a phone (both named in
    the page's language)."""
    from django.utils import translation

    with translation.override(page.locator("html").get_attribute("lang") or "en-gb"):
        menu, main = translation.gettext("Menu"), translation.gettext("Main")
    toggle = page.get_by_role("button", name=menu, exact=True)
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    return page.get_by_role("navigation", name=main, exact=True).get_by_role("link", name=name)


_LAYOUT_SCRIPT = (Path(__file__).parent / "layout_check.js").read_text(encoding="utf-8")


def assert_layout_ok(page) -> None:
    """The page fits its window (a wide table scrolls in its own box) and no table cell
    breaks a word in the middle."""
    problems = page.evaluate(_LAYOUT_SCRIPT)
    assert not problems, f"{page.url} at {page.viewport_size['width']}px:\n" + "\n".join(
        problems[:20]
    )


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def assert_accessible(page) -> None:
    """axe-core (shipped inside axe-playwright-python) finds no serious or critical
    WCAG 2.2 A/AA violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    lines = []
    for violation in bad:
        lines.append(f"{violation['impact']}: {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['failureSummary']}")
    assert not bad, f"{page.url} at {page.viewport_size['width']}px:\n" + "\n".join(lines)


def check_page(page) -> None:
    """What every main page of a flow must pass, on whatever screen the test uses."""
    page.wait_for_load_state("load")
    assert_layout_ok(page)
    assert_accessible(page)
