"""Browser tests: Playwright for Python driving Debian's Chromium (never a downloaded browser).

Use the ``page`` fixture with ``live_server``; ``shot(page, "name")`` saves a screenshot in
tests/screenshots/ for people to look at. Console errors (a CSP violation, a failed script) fail
the test.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

CHROMIUM = os.environ.get("REFUGE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `make chromium` (Debian package chromium)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800}, locale="en-GB")
    p = context.new_page()
    errors: list[str] = []
    p.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    # Name the resource that failed (the console message does not).
    p.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.console_errors = errors  # type: ignore[attr-defined]
    yield p
    context.close()
    assert not errors, f"console errors in the browser: {errors}"


def submit(page, target, **click) -> None:
    """Click something that loads a new page (a form, a link) and wait until that page is loaded.

    A bare click returns once the click is dispatched, so reading the page straight after it
    races the navigation: the old page, or an empty document while the new one commits. An
    assertion that something is *absent* would then pass without having looked at anything.
    ``target`` is a selector or a Locator.
    """
    with page.expect_navigation():
        if isinstance(target, str):
            page.click(target, **click)
        else:
            target.click(**click)


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
