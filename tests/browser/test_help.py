"""The public help pages in a real browser: quick exit (button, Esc, without JavaScript) and
Back, tab order, no cookie, axe-core on every page in every language, page weight, print.

The neutral site the quick exit goes to is external in production; here a tiny local server
on another port plays it (the machine has no internet, and the test must not depend on it).
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from refuge.directory.hours import Window
from refuge.directory.models import Region
from refuge.directory.services import facility_hours_set
from refuge.help.conf import PUBLIC_LANGUAGES
from tests.browser.conftest import SCREENSHOTS, shot
from tests.help.factories import bishkek_directory, ensure_regions

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
PAGE_SUFFIXES = [
    "",
    "safety/",
    "leaflets/",
    "leaflets/emergency/",
    "leaflets/rights/",
    "leaflets/counselling/",
]
LIMIT = 50_000


class _Neutral(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server API
        title = "Before" if self.path.startswith("/start") else "Weather"
        body = f"<!doctype html><html lang=en><title>{title}</title><h1>{title}</h1>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def neutral():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Neutral)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def site(live_server, transactional_db, settings, neutral):
    ensure_regions()
    directory = bishkek_directory()
    # Opening hours on the listed centre, so axe and the screenshots see them too.
    facility_hours_set(
        by=None,
        facility=directory["public"],
        windows=[Window((0, 1, 2, 3, 4), 9 * 60, 18 * 60), Window((5,), 10 * 60, 14 * 60)],
    )
    settings.REFUGE_QUICK_EXIT_URL = f"{neutral}/weather"
    return live_server.url


def _all_pages(base: str) -> list[str]:
    regions = [f"region/{code}/" for code in Region.objects.values_list("code", flat=True)]
    return [
        f"{base}/help/{lang}/{suffix}"
        for lang in PUBLIC_LANGUAGES
        for suffix in [*PAGE_SUFFIXES, *regions]
    ]


@pytest.mark.parametrize("how", ["button", "escape"])
def test_the_quick_exit_leaves_and_back_does_not_return(site, neutral, page, how):
    page.goto(f"{neutral}/start")
    page.goto(f"{site}/help/en/")
    page.click("text=Bishkek")
    page.wait_for_url("**/help/en/region/KG-GB/")
    page.click("text=Leaflets for migrant women >> nth=-1")
    page.wait_for_url("**/help/en/leaflets/")
    if how == "button":
        page.click("#quick-exit")
    else:
        page.keyboard.press("Escape")
    page.wait_for_url(f"{neutral}/weather")
    assert page.title() == "Weather"
    page.go_back()
    assert page.url == f"{neutral}/start", "Back returned to the help site"
    page.go_back()
    assert "/help/" not in page.url


def test_the_quick_exit_is_first_in_tab_order_on_every_kind_of_page(site, page):
    for url in [f"{site}/help/ru/", f"{site}/help/ky/region/KG-GB/", f"{site}/help/nowhere/"]:
        page.goto(url)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "quick-exit", url
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip", url


def test_without_javascript_the_exit_is_still_a_link(site, neutral, browser):
    context = browser.new_context(java_script_enabled=False)
    p = context.new_page()
    p.goto(f"{site}/help/cs/")
    p.click("#quick-exit")
    p.wait_for_url(f"{neutral}/weather")
    context.close()


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "Mon–Fri 9 a.m.–6 p.m."), ("ky", "Дүй.–Жума 9:00–18:00"), ("cs", "Po–Pá 9:00–18:00")],
)
def test_the_region_page_shows_opening_hours(site, page, lang, expected):
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{site}/help/{lang}/region/KG-GB/")
    hours = page.locator(".service .hours").first
    assert expected in hours.inner_text()
    hours.scroll_into_view_if_needed()
    shot(page, f"help-{lang}-region-hours")


def test_no_cookie_is_ever_set(site, page):
    set_cookie = []
    page.on(
        "response",
        lambda r: set_cookie.append(r.url) if r.headers.get("set-cookie") else None,
    )
    page.goto(f"{site}/help/")
    for lang in PUBLIC_LANGUAGES:
        for suffix in [*PAGE_SUFFIXES, "region/KG-GB/", "region/XX/"]:
            page.goto(f"{site}/help/{lang}/{suffix}")
    assert page.context.cookies() == []
    assert set_cookie == []
    assert page.evaluate("document.cookie") == ""


def test_axe_finds_no_violation_on_any_page_in_any_language(site, page):
    source = AXE.read_text(encoding="utf-8")
    problems = {}
    pages = [*_all_pages(site), f"{site}/help/ru/region/XX/", f"{site}/help/de/"]
    for url in pages:
        page.goto(url)
        page.evaluate(source)
        violations = page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ["violations"]});
                return r.violations.map(v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).slice(0, 3).join(", ")}`);
            }"""
        )
        if violations:
            problems[url] = violations
    assert len(pages) >= 5 * 48
    assert not problems, problems


def test_every_page_weighs_under_50_kb_transferred(site, page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes = {}
    for lang in PUBLIC_LANGUAGES:
        for suffix in [*PAGE_SUFFIXES, "region/KG-GB/"]:
            url = f"{site}/help/{lang}/{suffix}"
            page.goto(url)
            page.wait_for_load_state("load")
            sizes[url] = page.evaluate(
                """() => performance.getEntriesByType("navigation")[0].transferSize +
                    performance.getEntriesByType("resource").reduce((s, e) => s + e.transferSize, 0)"""
            )
    biggest = max(sizes.items(), key=lambda kv: kv[1])
    print("\n" + "\n".join(f"{v:>7} B  {k.removeprefix(site)}" for k, v in sorted(sizes.items())))
    assert all(v > 2_000 for v in sizes.values()), "transfer sizes were not measured"
    assert biggest[1] < LIMIT, biggest


@pytest.mark.parametrize(
    ("name", "url", "width"),
    [
        ("help-ru-region-phone", "/help/ru/region/KG-GB/", 390),
        ("help-ky-home-phone", "/help/ky/", 390),
        ("help-cs-leaflet-phone", "/help/cs/leaflets/rights/", 390),
        ("help-en-home-desktop", "/help/en/", 1200),
        ("help-uk-region-desktop", "/help/uk/region/KG-GB/", 1200),
        ("help-cs-404-desktop", "/help/cs/region/XX/", 1200),
    ],
)
def test_screenshots(site, page, name, url, width):
    page.set_viewport_size({"width": width, "height": 844 if width < 600 else 800})
    page.goto(f"{site}{url}")
    # Nothing runs wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, name)


@pytest.mark.parametrize("lang", ["ru", "cs", "ky"])
def test_leaflets_print_on_at_most_two_pages(site, page, lang):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for slug in ("emergency", "rights", "counselling"):
        page.goto(f"{site}/help/{lang}/leaflets/{slug}/")
        pdf = page.pdf(format="A4", print_background=True)
        (SCREENSHOTS / f"leaflet-{lang}-{slug}.pdf").write_bytes(pdf)
        pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
        assert 1 <= pages <= 2, (lang, slug, pages)
    page.emulate_media(media="print")
    page.goto(f"{site}/help/{lang}/leaflets/emergency/")
    assert not page.is_visible("#quick-exit") and not page.is_visible(".safety")
    assert page.is_visible(".print-only")
    shot(page, f"help-{lang}-leaflet-print")
