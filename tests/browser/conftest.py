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


def shared_sqlite_connection_patch():
    """Patch Django's SQLite cursor for a live server that shares the test's connection, and
    return a function that undoes it. Two things:

    The live server and the test share one in-memory SQLite database in shared-cache mode,
    where a statement that meets another connection's table lock fails at once with "database
    table is locked" (SQLITE_LOCKED: the busy timeout does not apply). A page that polls (the
    worklist, the call queue) while the test writes made such a failure a matter of timing,
    worse on a loaded machine. Here, as a busy timeout would, a locked statement waits and is
    tried again; the transaction it belongs to is intact (SQLite fails only the statement).

    The threads of the live server and the test use one SQLite connection, and Python's sqlite3
    can deadlock the whole process on it: a thread whose statement calls a SQL function written
    in Python (Django's date truncation, extraction and arithmetic, REGEXP, ...) waits for the
    GIL while holding the connection's mutex, while another thread holds the GIL reading a
    row, which waits for that mutex. Nothing runs again, not even pytest-timeout's signal. So
    one thread at a time uses a connection: its statements and its reads of their rows.
    """
    import sqlite3
    import threading
    import time

    from django.db.backends.sqlite3 import base

    wrapper = base.SQLiteCursorWrapper
    names = ["execute", "executemany", "fetchone", "fetchmany", "fetchall", "close"]
    originals = {name: getattr(wrapper, name) for name in names}
    locks: dict[int, threading.RLock] = {}
    making = threading.Lock()

    def lock_of(cursor) -> threading.RLock:
        key = id(cursor.connection)
        with making:
            return locks.setdefault(key, threading.RLock())

    def one_at_a_time(name):
        original = originals[name]

        def call(self, *args, **kwargs):
            with lock_of(self):
                return original(self, *args, **kwargs)

        return call

    def patient(name):
        original = one_at_a_time(name)

        def call(self, *args, **kwargs):
            deadline = time.monotonic() + 10
            while True:
                try:
                    return original(self, *args, **kwargs)
                except sqlite3.OperationalError as e:
                    if "locked" not in str(e) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)  # with the connection free for the other threads

        return call

    own = {name for name in names if name in vars(wrapper)}
    for name in names:
        make = patient if name.startswith("execute") else one_at_a_time
        setattr(wrapper, name, make(name))

    def undo() -> None:
        for name, original in originals.items():
            if name in own:
                setattr(wrapper, name, original)
            else:
                delattr(wrapper, name)

    return undo


@pytest.fixture(scope="session", autouse=True)
def _shared_sqlite_connection():
    undo = shared_sqlite_connection_patch()
    yield
    undo()


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


def totp_code(device) -> str:
    """The current six-digit code of a TOTP device (what her phone shows)."""
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in(page, base: str, user, *, lang: str | None = None) -> None:
    """Sign in through the real forms: the language first when ``lang`` is given and the page
    is not in it already (the header's switch; otherwise the browser's Accept-Language
    decides), then the password, then the code of her confirmed TOTP device when she has one
    (analysts have none).

    A code is accepted once: a second sign-in of the same person within the same 30-second
    step is refused, so tests keep each person's browser context open instead.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import PASSWORD

    page.goto(f"{base}/login/")
    if lang is not None and page.locator("html").get_attribute("lang") != lang:
        page.select_option("#lang-select", lang)
        submit(page, ".lang button")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    submit(page, "main button[type=submit]")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        page.fill("#id_code", totp_code(device))
        submit(page, "main form button[type=submit] >> nth=0")
    page.wait_for_url(f"{base}/")
    if lang is not None:
        assert page.locator("html").get_attribute("lang") == lang


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def pytest_collection_modifyitems(config, items):
    """A browser test that stops responding (a renderer that never answers Playwright, whose
    close and content calls have no timeout of their own) fails after five minutes with its
    stack, instead of holding its xdist worker for the suite's fifteen."""
    for item in items:
        if "/tests/browser/" in str(item.path) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(300))
