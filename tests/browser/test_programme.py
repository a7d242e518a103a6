"""A facilitator takes the register on a phone and raises a concern; the partner's caseworker
sees it, nobody else does.

On SQLite the journey is skipped: twice it stopped responding after the partner-support
screenshot (worker idle in Playwright, Chromium idle, no request pending). Not reproduced since
(2026-12-06, Chromium 156, Playwright 1.65, a loaded two-core machine): without the skip it
passed 9 times of 9, four alone and five under ``-n 2`` beside test_worklist.py, with
``--timeout 300``, ``-o faulthandler_timeout=240`` and ``DEBUG=pw:api`` (the last Playwright
call is then in the captured output). Ruled out: the deadlock of one SQLite connection shared by
threads (one thread's statement calls a Python-defined SQL function and waits for the GIL while
holding the connection's mutex; another holds the GIL reading rows and waits for that mutex;
reproduced in isolation with Python 3.11's sqlite3): none of this journey's SQL calls such a
function (and conftest now keeps one thread at a time on that connection). Lift the skip once
a stop has been seen again with that log.
"""

from datetime import date

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.programmes import services
from tests.browser.conftest import shot, sign_in, submit
from tests.conftest import make_org, make_user

pytestmark = pytest.mark.browser


def test_register_and_a_one_way_concern(live_server, browser, transactional_db):
    from django.db import connection

    if connection.vendor == "sqlite":
        # Twice in this session's clean runs on SQLite (never on PostgreSQL) the worker sat
        # idle in Playwright after the partner-support screenshot; not yet explained (closing
        # note of 2026-12-06). The same journey runs on PostgreSQL; its services on both.
        pytest.skip("stops responding on SQLite's shared in-memory database: runs on PostgreSQL")
    prog_org, support_org = make_org("ekaterina"), make_org("kitezh")
    fac = make_user(prog_org, "facilitator", "fyodor")
    worker = make_user(support_org, "caseworker", "marina")
    for u in (fac, worker):
        TOTPDevice.objects.create(user=u, name="p", confirmed=True)
    from refuge.core.access import Principal

    p = Principal.for_user(fac)
    prog = services.programme_create(
        by=p, organisation=prog_org, name="DVPP", partner_support_org=support_org
    )
    group = services.group_create(
        by=p, programme=prog, name="Tuesday", start_date=date(2026, 9, 1), facilitators=[fac]
    )
    men = [
        services.participant_enrol(
            by=p, group=group, name=f"Man {i}", referral_source="court", partner_name=f"Woman {i}"
        )
        for i in range(3)
    ]

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU")
    page = phone.new_page()
    sign_in(page, live_server.url, fac)
    page.goto(f"{live_server.url}/programmes/groups/{group.pk}/")
    page.click("main form button[type=submit] >> nth=0")  # open the register for session 1
    page.wait_for_url("**/sessions/1/")
    for man, mark in zip(men, ["present", "present", "absent"], strict=True):
        page.click(f"#row-{man.code} button[value={mark}]")
        page.locator(f"#row-{man.code} button[value={mark}][aria-pressed=true]").wait_for()
    shot(page, "20-register-phone")
    assert [m.attendance.get().mark for m in men] == ["present", "present", "absent"]

    page.goto(f"{live_server.url}/programmes/participants/{men[2].code}/")
    page.select_option("#id_kind", "threat")
    page.fill("#id_text", "Said he will find her at the new flat.")
    submit(page, "button[name=concern]")
    assert "Said he will find her" not in page.content()
    shot(page, "21-concern-delivered")
    phone.close()

    desk = browser.new_context(viewport={"width": 1200, "height": 800})
    page = desk.new_page()
    sign_in(page, live_server.url, worker)
    page.goto(f"{live_server.url}/programmes/partner-support/")
    submit(page, "table a >> nth=0")
    assert "Said he will find her at the new flat." in page.content()
    shot(page, "22-partner-support")
    submit(page, "text=I have seen this")
    assert "Seen by marina" in page.content()
    desk.close()
