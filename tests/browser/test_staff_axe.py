"""axe-core finds no violation on any staff page, for any role that may open it (issue 16 item 7).

The pages and who may open them come from the authorization matrix (tests/<app>/matrix.py),
which already names every URL pattern, the roles it lets in and how to make the objects its
address needs; so a new page is checked here as soon as it has its matrix entry. Each role signs
in once through the real forms, in its own browser context (every other role in Russian), and
visits every HTML page the matrix lets it open. axe-core runs its default rules (WCAG 2 A and
AA, and its best practices, as on the public pages).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.core.roles import Role, requires_second_factor
from tests.browser.conftest import sign_in
from tests.test_authorization_matrix import CASES

# About 270 pages take two to four minutes on a busy two-core machine: more than the five
# minutes other browser tests are given.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"

# Not staff HTML pages: the public help pages (test_help.py checks them in every language),
# JSON, images, scripts and files to download, and htmx fragments that are swapped into a page
# (they are checked inside the page that shows them).
NOT_PAGES = {
    "core:healthz",
    "core:enrol_qr",
    "notifications:service_worker",
    "insights:table_csv",
    "insights:export_download",
    "hotline:queue_live",
    "vacancies:board_rows",
    "worklist:counts",
    "worklist:items",
}


def _is_staff_page(name: str) -> bool:
    case = CASES[name]
    ok = case.ok if isinstance(case.ok, tuple) else (case.ok,)
    return (
        case.method == "get"
        and 200 in ok
        and name not in NOT_PAGES
        and not name.startswith(("api:", "help:", "re:"))
    )


RUN_AXE = """async () => {
    const r = await axe.run(document, {resultTypes: ["violations"]});
    return r.violations.map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(" ")).slice(0, 3).join(", ")}`);
}"""


def test_axe_finds_no_violation_on_any_staff_page_for_any_role(
    live_server, browser, personas, orgs
):
    ctx = SimpleNamespace(personas=personas, orgs=orgs)
    # Every object a page needs is made before any browser opens: the test and the live server
    # share one SQLite connection, so nothing is written here while a page is being served.
    urls: dict[str, str] = {}
    for name in sorted(n for n in CASES if _is_staff_page(n)):
        case = CASES[name]
        urls[name] = case.path or reverse(name, kwargs=case.setup(ctx) if case.setup else {})
    for role in Role:
        user = personas[f"{role.value}_a"].user
        if requires_second_factor(role):
            TOTPDevice.objects.get_or_create(user=user, name="p", defaults={"confirmed": True})

    problems: dict[str, list[str]] = {}
    visited = 0
    for i, role in enumerate(Role):
        # Every other role reads the staff pages in Russian, so both languages' names are seen.
        locale = "ru-RU" if i % 2 else "en-GB"
        context = browser.new_context(viewport={"width": 1200, "height": 800}, locale=locale)
        # Loaded into every page before its own scripts, once per context rather than sent
        # with each page (it is half a megabyte); CSP does not apply to it.
        context.add_init_script(path=AXE)
        page = context.new_page()
        try:
            sign_in(page, live_server.url, personas[f"{role.value}_a"].user)
            for name, url in urls.items():
                if role not in CASES[name].allowed:
                    continue
                response = page.goto(f"{live_server.url}{url}")
                assert response is not None and response.status == 200, (role, name, url)
                violations = page.evaluate(RUN_AXE)
                visited += 1
                if violations:
                    problems[f"{role.value} ({locale}) {name} {url}"] = violations
        finally:
            context.close()
    assert visited >= 250  # every role saw its pages (270 on 2026-12-06)
    assert not problems, "\n" + "\n".join(
        f"{where}:\n  " + "\n  ".join(found) for where, found in problems.items()
    )
