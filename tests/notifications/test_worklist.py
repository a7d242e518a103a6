"""The worklist home: what each role finds there, that nothing crosses an organisation, that
every item can be acted on in one tap, the counts in the navigation, and the query count."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from refuge.core.models import AuditEvent
from refuge.core.roles import Role
from refuge.notifications.templatetags.worklist_tags import clock, countdown
from refuge.notifications.worklist import Item, Section, Worklist, worklist_for
from refuge.programmes.models import RiskConcern
from refuge.referrals.models import PartnerRequest, Referral, ReferralTarget
from refuge.vacancies.models import FacilityAvailability
from tests.notifications.worklist_world import (
    CONFIDENTIAL_ADDRESS,
    CONFIDENTIAL_LOCALITY,
    build,
)

# What each persona finds on her home page in the world of worklist_world.build.
EXPECTED = {
    "coordinator_a": {"referral", "callback", "partner_request", "action", "waitlist"},
    "operator_a": {"referral", "callback", "sent", "waitlist"},
    "caseworker_a": {"referral", "callback", "waitlist"},
    "manager_a": {"referral", "callback", "waitlist"},
    "partner_a": {"action", "partner_status"},
    "facilitator_a": set(),
    "analyst_a": set(),
    "admin_a": set(),
    "coordinator_b": {"referral", "callback", "partner_request"},
    "operator_b": {"referral", "callback"},
    "caseworker_b": {"referral", "concern", "callback", "setup", "stale", "sent"},
    "manager_b": {"referral", "concern", "callback", "setup", "stale"},
    "partner_b": {"action"},
    "facilitator_b": set(),
    "analyst_b": set(),
    "admin_b": set(),
}
# Personal fields and places made by the world: none may appear on any worklist or count.
SECRETS = (
    "Secret",
    "He said where she lives",
    "916 555",
    "79165550102",
    "900 123 45 67",
    "after six",
    CONFIDENTIAL_ADDRESS,
    CONFIDENTIAL_LOCALITY,
)


@pytest.fixture
def world(personas, orgs):
    return build(personas, orgs)


def _worklist(response) -> Worklist:
    return response.context["sections"][0]["worklist"]


def _main(response) -> str:
    html = response.content.decode()
    return html[html.index('<main id="main">') :]


class _Forms(HTMLParser):
    """The forms of a page: action, the submit button's text, and every field's value."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._in_button = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "data": {}, "buttons": []})
        elif self.forms and tag == "input" and a.get("name"):
            self.forms[-1]["data"][a["name"]] = a.get("value", "")
        elif self.forms and tag == "button":
            self._in_button = True
            self.forms[-1]["buttons"].append(["", a.get("name"), a.get("value")])

    def handle_endtag(self, tag):
        if tag == "button":
            self._in_button = False

    def handle_data(self, data):
        if self._in_button and self.forms:
            self.forms[-1]["buttons"][-1][0] += data.strip()


def _tap(client, response, item_id: str, button: str, **extra):
    """Press a button of one item on the page, as the browser would send it."""
    html = response.content.decode()
    start = html.index(f'id="{item_id}"')
    end = html.index("</li>", start)
    parser = _Forms()
    parser.feed(html[start:end])
    for form in parser.forms:
        for text, name, value in form["buttons"]:
            if text == button:
                data = dict(form["data"])
                if name:
                    data[name] = value
                return client.post(form["action"], {**data, **extra})
    raise AssertionError(f"no button {button!r} in {item_id}")


# --- who sees what ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_role_finds_its_own_kinds_of_item(world, as_persona, key):
    response = as_persona(key).get("/")
    assert response.status_code == 200
    assert {s.kind for s in _worklist(response).sections} == EXPECTED[key]


def _belongs_to_reader(p, item) -> bool:
    """Whether the item's record is one the reader's organisation holds or answers for."""
    row = item.row
    match item.kind:
        case "referral":
            return row.facility.organisation_id == p.org_id
        case "concern":
            return row.support.support_org_id == p.org_id
        case "callback":
            return row.callback.organisation_id == p.org_id
        case "partner_request":  # the network's requests are every coordinator's
            return p.role == Role.COORDINATOR
        case "partner_status":
            return row.from_org_id == p.org_id
        case "action":
            return p.org_id in (row.assigned_org_id, row.item.meeting.area.coordinator_org_id)
        case "setup" | "stale":
            return row.organisation_id == p.org_id
        case "sent":
            return row.from_org_id == p.org_id and row.created_by == p.name
        case "waitlist":
            return row.organisation_id == p.org_id
    return False


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_no_item_belongs_to_another_organisation(world, personas, key):
    p = personas[key].principal
    for item in worklist_for(p, at=timezone.now()).items:
        assert _belongs_to_reader(p, item), f"{key} sees {item.key}"


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_no_personal_field_or_place_reaches_a_worklist(world, as_persona, key):
    client = as_persona(key)
    for url in ("/", "/worklist/items/", "/worklist/counts/"):
        html = client.get(url).content.decode()
        leaked = [s for s in SECRETS if s in html]
        assert not leaked, f"{key} {url}: {leaked}"


def test_a_record_of_the_other_organisation_never_shows_even_by_id(world, as_persona):
    """The callbacks, waiting list and referrals of a: none of their ids is on b's pages."""
    html = _main(as_persona("caseworker_b").get("/")) + _main(as_persona("manager_b").get("/"))
    for cb in world.callbacks["a"]:
        assert str(cb.pk) not in html
    for entry in world.waitlist:
        assert str(entry.pk) not in html and entry.client.case_code not in html
    for referral in world.referrals:  # a's referral to b's shelter: b sees the target only
        assert referral.client.case_code not in html
    for cb in world.callbacks["b"]:
        assert str(cb.pk) in html


def test_a_caseworker_sees_the_concerns_of_her_own_partners_and_the_unassigned(
    world, personas, as_persona
):
    support = world.concerns[0].support
    support.support_worker = "somebody-else"
    support.save(update_fields=["support_worker"])
    assert "concern" not in {
        s.kind for s in _worklist(as_persona("caseworker_b").get("/")).sections
    }
    assert "concern" in {s.kind for s in _worklist(as_persona("manager_b").get("/")).sections}
    support.support_worker = personas["caseworker_b"].user.username
    support.save(update_fields=["support_worker"])
    assert "concern" in {s.kind for s in _worklist(as_persona("caseworker_b").get("/")).sections}


def test_a_partner_follows_her_requests_until_a_week_after_they_end(world, personas):
    p = personas["partner_a"].principal
    request = world.requests[0]
    PartnerRequest.objects.filter(pk=request.pk).update(
        status=PartnerRequest.Status.PLACED, updated_at=timezone.now() - timedelta(days=6)
    )
    assert [i.kind for i in worklist_for(p, at=timezone.now()).items].count("partner_status") == 1
    PartnerRequest.objects.filter(pk=request.pk).update(
        updated_at=timezone.now() - timedelta(days=8)
    )
    assert "partner_status" not in [i.kind for i in worklist_for(p, at=timezone.now()).items]


def test_a_referral_that_has_been_answered_leaves_the_list(world, personas, as_persona):
    target = ReferralTarget.objects.get(referral=world.referrals[0])
    ReferralTarget.objects.filter(pk=target.pk).update(status=ReferralTarget.Status.DECLINED)
    assert "referral" not in {
        s.kind for s in _worklist(as_persona("caseworker_b").get("/")).sections
    }


def test_empty_states_say_so(db, personas, as_persona):
    quiet = as_persona("caseworker_b").get("/")
    assert "Nothing needs you right now." in _main(quiet)
    analyst = as_persona("analyst_a").get("/")
    assert "Nothing comes to this list for your role." in _main(analyst)
    assert 'class="grid"' not in _main(analyst)  # the grid of links is gone


# --- one tap to act ----------------------------------------------------------------------------


def test_accepting_from_the_worklist_accepts_the_referral(world, as_persona):
    client = as_persona("caseworker_b")
    page = client.get("/")
    target = ReferralTarget.objects.get(referral=world.referrals[0])
    done = _tap(client, page, f"wl-referral-{target.pk}", "Accept")
    assert done.status_code == 302
    assert Referral.objects.get(pk=world.referrals[0].pk).status == Referral.Status.ACCEPTED
    assert "referral" not in {s.kind for s in _worklist(client.get("/")).sections}
    # The sender's item now says to plan the journey.
    sent = _worklist(as_persona("operator_a").get("/"))
    (item,) = [i for i in sent.items if i.kind == "sent"]
    assert item.extra["accepted"] and item.urgent


def test_declining_from_the_worklist_needs_a_reason_and_records_it(world, as_persona):
    client = as_persona("caseworker_b")
    target = ReferralTarget.objects.get(referral=world.referrals[0])
    _tap(client, client.get("/"), f"wl-referral-{target.pk}", "Decline")  # no reason chosen
    target.refresh_from_db()
    assert target.status == ReferralTarget.Status.HOLDING
    _tap(client, client.get("/"), f"wl-referral-{target.pk}", "Decline", reason="safety")
    target.refresh_from_db()
    assert (target.status, target.decline_reason) == (ReferralTarget.Status.DECLINED, "safety")


def test_still_accurate_from_the_worklist_comes_back_to_it(world, as_persona):
    client = as_persona("manager_b")
    soon = world.facilities["soon0"]
    response = _tap(client, client.get("/"), f"wl-stale-{soon.pk}", "Still accurate")
    assert response.status_code == 302 and response["Location"] == "/"
    assert FacilityAvailability.objects.get(facility=soon).confirmed_at is not None
    stale = [i for i in _worklist(client.get("/")).items if i.kind == "stale"]
    assert [i.row.id for i in stale] == [world.facilities["gone0"].pk]


def test_a_concern_is_acknowledged_in_one_tap_and_then_read(world, as_persona):
    client = as_persona("caseworker_b")
    concern = world.concerns[0]
    response = _tap(client, client.get("/"), f"wl-concern-{concern.pk}", "Read and acknowledge")
    assert response.status_code == 302
    assert response["Location"] == f"/programmes/partner-support/{concern.support_id}/"
    assert RiskConcern.objects.get(pk=concern.pk).acknowledged_at is not None
    assert "concern" not in {s.kind for s in _worklist(client.get("/")).sections}


def test_a_coordinator_takes_on_a_partner_request_in_one_tap(world, as_persona):
    client = as_persona("coordinator_a")
    request = world.requests[0]
    _tap(client, client.get("/"), f"wl-request-{request.pk}", "I will handle it")
    request.refresh_from_db()
    assert request.status == PartnerRequest.Status.WORKING
    (item,) = [i for i in _worklist(client.get("/")).items if i.kind == "partner_request"]
    assert not item.urgent


def test_an_agency_marks_its_meeting_action_done_in_one_tap(world, as_persona):
    client = as_persona("partner_b")
    action = world.actions["b"][0]
    response = _tap(client, client.get("/"), f"wl-action-{action.pk}", "Mark as done")
    assert response.status_code == 302
    assert _worklist(client.get("/")).sections == []


def test_each_item_links_to_a_page_its_reader_may_open(world, as_persona):
    """Every link on every worklist opens (no 403/404 behind a tap)."""
    for key in EXPECTED:
        client = as_persona(key)
        main = _main(client.get("/"))
        for href in set(re.findall(r'<a (?:class="[^"]*" )?href="(/[^"]*)"', main)):
            assert client.get(href.replace("&amp;", "&")).status_code == 200, (key, href)


# --- the countdown -----------------------------------------------------------------------------


def test_a_held_place_counts_down_from_the_servers_clock(world, as_persona):
    target = ReferralTarget.objects.get(referral=world.referrals[0])
    html = _main(as_persona("caseworker_b").get("/"))
    item = html[html.index(f'id="wl-referral-{target.pk}"') :]
    timer = re.search(r'<span class="wl-countdown[^"]*" role="timer"([^>]*)>([^<]*)</span>', item)
    attrs = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', timer.group(1)))
    assert attrs["data-deadline"] == target.hold_expires_at.isoformat()
    assert attrs["data-template"] == "{time} left" and attrs["data-done"] == "hold expired"
    assert re.fullmatch(r"1:59:\d\d left", timer.group(2))


def test_an_expired_hold_says_so_and_no_timer_runs(world, as_persona):
    target = ReferralTarget.objects.get(referral=world.referrals[0])
    ReferralTarget.objects.filter(pk=target.pk).update(
        hold_expires_at=timezone.now() - timedelta(minutes=1)
    )
    html = _main(as_persona("caseworker_b").get("/"))
    item = html[
        html.index(f'id="wl-referral-{target.pk}"') : html.index(
            "</li>", html.index(f'id="wl-referral-{target.pk}"')
        )
    ]
    assert "hold expired" in item and "wl-countdown" not in item


def test_the_countdown_in_russian(world, as_persona):
    client = as_persona("caseworker_b")
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    html = _main(client.get("/"))
    assert "Что ждёт вас сейчас" in html
    assert re.search(r'data-template="осталось \{time\}"', html)
    assert re.search(r">осталось 1:59:\d\d<", html)


def test_the_countdown_tag():
    now = timezone.now()
    assert clock(3600 + 5 * 60 + 9) == "1:05:09" and clock(309) == "5:09" and clock(-4) == "0:00"
    soon = countdown(now + timedelta(minutes=10), now, "hold")
    assert 'class="wl-countdown soon"' in soon and ">10:00 left<" in soon
    later = countdown(now + timedelta(hours=2), now, "stale")
    assert 'class="wl-countdown"' in later and ">unknown in 2:00:00<" in later
    assert ">hold expired<" in countdown(now - timedelta(seconds=1), now, "hold")


@given(st.integers(min_value=0, max_value=10**7))
def test_the_clock_reads_back_to_the_same_number_of_seconds(seconds):
    parts = [int(x) for x in clock(seconds).split(":")]
    assert all(0 <= x < 60 for x in parts[1:])
    total = parts[-1] + 60 * parts[-2] + (3600 * parts[0] if len(parts) == 3 else 0)
    assert total == seconds


keys = st.lists(st.text(min_size=1, max_size=12), min_size=0, max_size=8, unique=True)


@given(keys, st.randoms())
def test_the_signature_ignores_order_and_notices_any_change(ks, rnd):
    def wl(key_list):
        items = [Item(kind="x", key=k, nav="", row=None) for k in key_list]
        return Worklist(at=timezone.now(), sections=[Section("x", "x", items)])

    shuffled = list(ks)
    rnd.shuffle(shuffled)
    assert wl(ks).signature == wl(shuffled).signature
    if ks:
        assert wl(ks).signature != wl(ks[:-1]).signature
        assert wl(ks).signature != wl([*ks[:-1], ks[-1] + "!"]).signature


# --- the counts in the navigation --------------------------------------------------------------


def _badges(response) -> dict[str, str]:
    found = re.findall(
        r'<span class="nav-count" id="nav-count-([a-z-]+)" hx-swap-oob="true"( hidden)?>'
        r'(?:<span aria-hidden="true">(\d+)</span>)?',
        response.content.decode(),
    )
    return {slug: (n or "") for slug, _hidden, n in found}


def test_the_counts_fill_a_badge_per_navigation_entry(world, as_persona):
    badges = _badges(as_persona("caseworker_b").get("/worklist/counts/"))
    assert badges["core-home"] == "7"
    assert badges["referrals-inbox"] == "1"
    assert badges["referrals-sent"] == "1"
    assert badges["vacancies-board"] == "3"  # one to set up, two figures to confirm
    assert badges["hotline-queue"] == "1"
    assert badges["programmes-partner-support-list"] == "1"
    assert badges["directory-list"] == "" and badges["cases-list"] == ""  # nothing there
    assert "referrals-partner-requests" not in badges  # not her page


def test_the_navigation_polls_the_counts_in_the_background(world, as_persona):
    html = as_persona("caseworker_b").get("/vacancies/").content.decode()
    poll = re.search(r'<span hx-get="/worklist/counts/" ([^>]*)>', html).group(1)
    assert 'hx-trigger="load, every 30s"' in poll and "data-background" in poll
    assert "data-worklist-counts" in poll and 'hx-swap="none"' in poll
    assert 'id="nav-count-referrals-inbox" hidden' in html


def test_the_counts_tell_the_page_when_its_list_is_out_of_date(world, as_persona):
    client = as_persona("caseworker_b")
    seen = _worklist(client.get("/")).signature
    assert "HX-Trigger" not in client.get("/worklist/counts/", {"seen": seen})
    assert "HX-Trigger" not in client.get("/worklist/counts/")  # a page without the list
    ReferralTarget.objects.filter(referral=world.referrals[0]).update(
        status=ReferralTarget.Status.DECLINED
    )
    changed = client.get("/worklist/counts/", {"seen": seen})
    assert changed["HX-Trigger"] == "worklist-changed"
    fresh = client.get("/worklist/items/", headers={"HX-Request": "true"})
    assert (
        'id="worklist"' in fresh.content.decode() and "wl-referral-" not in fresh.content.decode()
    )
    assert "HX-Trigger" not in client.get("/worklist/counts/", {"seen": _worklist_signature(fresh)})


def _worklist_signature(response) -> str:
    return re.search(
        r'<input type="hidden" name="seen" value="([0-9a-f]+)"', response.content.decode()
    ).group(1)


def test_a_background_poll_never_keeps_a_session_alive(world, as_persona, settings):
    client = as_persona("caseworker_b")
    client.get("/")
    session = client.session
    session["last_activity"] = time.time() - 25 * 60
    session.save()
    before = client.session["last_activity"]
    assert client.get("/worklist/counts/", headers={"X-Refuge-Background": "1"}).status_code == 200
    assert client.session["last_activity"] == before
    session = client.session
    session["last_activity"] = time.time() - 31 * 60
    session.save()
    gone = client.get(
        "/worklist/counts/", headers={"X-Refuge-Background": "1", "HX-Request": "true"}
    )
    # The poll stops with the sign-in page, which replaces the whole page.
    assert gone.status_code == 204 and gone["HX-Redirect"].startswith("/login/")
    assert "_auth_user_id" not in client.session


def test_counting_decrypts_nothing_and_writes_no_audit_event(world, as_persona):
    client = as_persona("operator_a")
    before = AuditEvent.objects.count()
    client.get("/worklist/counts/", headers={"X-Refuge-Background": "1"})
    assert AuditEvent.objects.count() == before
    # The page reads her safe times to say whom to call now: that is one audited list read.
    client.get("/")
    (event,) = AuditEvent.objects.order_by("-pk")[:1]
    assert (event.action, event.target_type) == ("read_list", "hotline.callback")
    assert str(world.callbacks["a"][0].pk) in event.details["ids"]


def test_the_counts_and_the_page_agree(world, personas):
    for key in EXPECTED:
        p = personas[key].principal
        now = timezone.now()
        page, counts = worklist_for(p, at=now), worklist_for(p, at=now, decrypt=False)
        assert page.signature == counts.signature and page.counts() == counts.counts(), key


# --- navigation entries ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("href", "keys"),
    [
        ("/referrals/sent/", {"coordinator", "operator", "caseworker", "manager"}),
        ("/referrals/waiting-list/", {"coordinator", "operator", "caseworker", "manager"}),
        ("/referrals/partner-requests/", {"coordinator", "operator", "partner"}),
        ("/federation/referrals/", {"coordinator", "operator", "caseworker", "manager"}),
    ],
)
def test_the_navigation_reaches_sent_referrals_the_waiting_list_and_partner_requests(
    db, as_persona, href, keys
):
    for role in Role:
        client = as_persona(f"{role.value}_a")
        nav = client.get("/").content.decode().split("<nav", 1)[1].split("</nav>", 1)[0]
        assert (f'href="{href}"' in nav) == (role.value in keys), role
        if role.value in keys:
            assert client.get(href).status_code == 200


# --- failed deliveries (from the outbox) -------------------------------------------------------


def _failed(user, org, *, error="smtp_unreachable", gave_up=False):
    from refuge.notifications.models import Channel, Delivery, Event

    event = Event.objects.create(
        key=f"test:{user.pk}:{error}", kind="referral.received", about_type="x", about_id="1"
    )
    return Delivery.objects.create(
        event=event,
        user=user,
        organisation=org,
        channel=Channel.EMAIL,
        status=Delivery.Status.FAILED,
        attempts=5,
        last_error=error,
        next_attempt_at=None if gave_up else timezone.now() + timedelta(minutes=5),
    )


def test_failed_deliveries_show_for_their_organisations_manager_only(
    world, personas, orgs, as_persona
):
    mine = _failed(personas["caseworker_b"].user, orgs["b"], gave_up=True)
    theirs = _failed(personas["caseworker_a"].user, orgs["a"])
    page = as_persona("manager_b").get("/")
    (section,) = [s for s in _worklist(page).sections if s.kind == "failed"]
    assert [i.row.pk for i in section.items] == [mine.pk] and section.items[0].urgent
    main = _main(page)
    assert "A message to caseworker-b could not be delivered (email)" in main
    assert "the mail server did not answer" in main and "smtp_unreachable" not in main
    assert 'href="/notifications/failed/"' in main
    assert str(theirs.pk) not in main
    assert _badges(as_persona("manager_b").get("/worklist/counts/"))["core-home"] == "7"
    for key in ("caseworker_b", "manager_a", "coordinator_b", "operator_b"):
        kinds = {i.kind for i in worklist_for(personas[key].principal, at=timezone.now()).items}
        assert ("failed" in kinds) == (key == "manager_a"), key


# --- queries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["caseworker_b", "manager_b", "coordinator_a", "operator_a"])
def test_the_worklist_costs_the_same_queries_for_one_item_or_many(personas, orgs, as_persona, key):
    build(personas, orgs, n=1)
    client = as_persona(key)
    client.get("/")  # sessions, caches
    with CaptureQueriesContext(connection) as one:
        client.get("/")
    with CaptureQueriesContext(connection) as one_counted:
        client.get("/worklist/counts/")
    few = len(_worklist(client.get("/")).items)
    build(personas, orgs, n=3)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/")
    with CaptureQueriesContext(connection) as many_counted:
        client.get("/worklist/counts/")
    assert len(_worklist(page).items) > few
    assert len(many) == len(one), [q["sql"][:120] for q in many.captured_queries]
    assert len(many_counted) == len(one_counted)
    assert len(one) <= 40 and len(one_counted) <= 25, (len(one), len(one_counted))


# --- bad input ---------------------------------------------------------------------------------


def test_bad_input_never_gives_a_server_error(world, as_persona, client):
    staff = as_persona("caseworker_b")
    for seen in ("x" * 10_000, "<script>", "‮evil"):
        response = staff.get("/worklist/counts/", {"seen": seen})
        assert response.status_code == 200 and response["HX-Trigger"] == "worklist-changed"
    assert staff.get("/worklist/counts/", {"seen": "\x00"}).status_code == 400  # NUL: refused
    for url in ("/worklist/items/", "/worklist/counts/"):
        assert staff.post(url).status_code == 405
        assert client.get(url).status_code == 302  # signed out: to the sign-in page
        gone = client.get(url, headers={"HX-Request": "true"})
        assert gone.status_code == 204 and gone["HX-Redirect"].startswith("/login/")
