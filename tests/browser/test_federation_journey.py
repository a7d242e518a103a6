"""Issue 20 as people see it, in Chromium, in English and Russian, on a desk and on a phone.

An operator of the Moscow network searches for a place: a facility of the trusted Kyrgyz
network shows with its network's name and the age of its figure. She refers her case there.
The peer's side is played by this same instance through the test peer of tests/federation: the
offer that reached the peer comes back to one of our shared shelters as the peer's referral, a
caseworker of that shelter sees it on her worklist, on her phone, reads it in words (no codes)
and accepts; the answer travels back, and the operator finds the referral accepted, on her
referrals page and her worklist. Each page is checked by axe-core and saved as a screenshot
(``federation-<lang>-*.png``)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.cases.services import client_create
from refuge.federation import conf, directory, services, signing
from refuge.federation.models import IncomingReferral, OutboxMessage, OutgoingReferral
from tests.browser.conftest import shot, sign_in, submit
from tests.browser.test_worklist import _axe
from tests.directory.factories import make_facility
from tests.federation.peers import FakePeer
from tests.referrals.conftest import system

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
WORDS = {
    "en": {"network": "network kyrgyz-centres", "age": "figure of 2\xa0hours",
           "refer": "Refer to this network", "sent": "Referral sent to Bishkek shelter",
           "waiting": "waiting for an answer", "from": "from the network kyrgyz-centres",
           "accept": "Accept", "accepted_msg": "The referral is accepted",
           "accepted": "accepted", "lang": "Russian", "region": "Moscow",
           "mine": "Your referrals to other networks"},
    "ru": {"network": "сеть kyrgyz-centres", "age": "2\xa0часа",
           "refer": "Направить в эту сеть", "sent": "Bishkek shelter",
           "waiting": "ждёт ответа", "from": "из сети kyrgyz-centres",
           "accept": "Принять", "accepted_msg": "Направление принято",
           "accepted": "принято", "lang": "русский", "region": "Москва",
           "mine": "Ваши направления в другие сети"},
}  # fmt: skip
# Codes a person never reads (regions, languages, needs, the risk band, the decline reasons).
CODES = ("KG-GB", "KG-C", "RU-MOW", "no_place", "substance_use")
# In Russian, no English word either (English labels happen to read like some codes).
ENGLISH = ("wheelchair", "passport", "high", "Russian", "accepted", "declined", "waiting")


@pytest.fixture
def world(transactional_db, orgs, personas):
    for key in ("operator_a", "caseworker_b"):
        TOTPDevice.objects.create(user=personas[key].user, name="phone", confirmed=True)
    peer = FakePeer(recipient_key="", sender_key=conf.identity().public_key).start()
    trusted = services.peer_trust(
        by=None, name="kyrgyz-centres", base_url=peer.url, public_key=peer.public_key
    )
    # Our own shelter that shares with peers: where the peer's referral arrives.
    services.sharing_set(by=None, organisation=orgs["b"], share=True)
    sezim = system(make_facility(orgs["b"], "Sezim", region="KG-C", rooms=[("family", 4)]))
    # The peer's snapshot: one shelter in Bishkek, its figure two hours old.
    body = directory.snapshot()
    item = body["facilities"][0]
    item.update(
        id=str(uuid.uuid4()),
        name="Bishkek shelter",
        region="KG-GB",
        as_of=(timezone.now() - timedelta(hours=2, minutes=5)).isoformat(),
    )
    body["facilities"] = [item]
    directory.store_snapshot(peer=trusted, body=body)
    op = personas["operator_a"].principal
    case = client_create(by=op, name="Olga Secretname", age_band="25-34")
    yield personas, peer, trusted, sezim, case
    peer.stop()


def _relay(peer: FakePeer, kind: str, body: dict) -> None:
    """The peer sends us a signed message (its inbox's answer to ours, played back)."""
    message = signing.seal(
        peer.key, sender="fake", recipient_key=conf.identity().public_key, kind=kind, body=body
    )
    response = HttpClient().post(
        "/api/v1/federation/inbox", data=json.dumps(message), content_type="application/json"
    )
    assert response.status_code == 200, response.content


def _deliver(kind: str) -> tuple[str, dict]:
    row = OutboxMessage.objects.filter(kind=kind, status="queued").get()
    assert services.outbox_send(message_id=str(row.pk)) == "delivered"
    return str(row.pk), row


def _main(page) -> str:
    return page.locator("main").inner_text()


def _no_codes(page, lang: str) -> None:
    text = _main(page)
    shown = [c for c in (*CODES, *(ENGLISH if lang == "ru" else ())) if c in text]
    assert not shown, (shown, text[:2000])


def _fits_a_phone(page) -> None:
    wide = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                         && !e.closest(".table-wrap, nav, header"))
            .slice(0, 5).map(e => e.tagName + "." + e.className + "#" + e.id)"""
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (width, wide)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_referral_across_networks_from_search_to_accepted(live_server, browser, world, lang):
    personas, peer, trusted, sezim, case = world
    words = WORDS[lang]
    base = live_server.url
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    phone = browser.new_context(viewport=PHONE, locale="en-GB")
    try:
        # 1. The operator searches: the peer's shelter, its network's name, its figure's age.
        op = desk.new_page()
        sign_in(op, base, personas["operator_a"].user, lang=lang)
        op.goto(f"{base}/referrals/search/?case={case.case_code}&woman_age=30&languages=ru")
        row = op.locator("tr", has_text="Bishkek shelter")
        text = row.inner_text()
        assert words["network"] in text and words["age"] in text, text
        assert "KG-GB" not in text
        assert _axe(op) == []
        shot(op, f"federation-{lang}-01-search")

        # 2. She refers her case to that shelter.
        submit(op, row.locator("button[name=peer_facility]"))
        assert op.url == f"{base}/federation/referrals/"
        assert words["sent"] in op.locator(".messages").inner_text()
        assert words["waiting"] in _main(op)
        assert _axe(op) == []
        shot(op, f"federation-{lang}-02-sent")
        sent = OutgoingReferral.objects.get()

        # 3. The offer reaches the peer, carrying the minimum.
        _deliver("referral.offer")
        ((kind, offer),) = peer.received.values()
        assert kind == "referral.offer" and "Secretname" not in json.dumps(offer)

        # 4. The peer's side, played here: the offer arrives at our shared shelter Sezim.
        _relay(
            peer,
            "referral.offer",
            {**offer, "facility": str(sezim.pk), "needs": ["wheelchair"],
             "documents": ["passport"], "avoid_regions": ["RU-MOW"], "risk_level": "high"},
        )  # fmt: skip
        incoming = IncomingReferral.objects.get()

        # 5. Its caseworker, on her phone, finds it on her worklist and on the page, in words.
        cw = phone.new_page()
        sign_in(cw, base, personas["caseworker_b"].user, lang=lang)
        item = cw.locator(f"#wl-federation-received-{incoming.pk}")
        assert words["from"] in item.inner_text()
        assert _axe(cw) == []
        _fits_a_phone(cw)
        shot(cw, f"federation-{lang}-03-worklist-phone")
        cw.goto(f"{base}/federation/referrals/")
        table = cw.locator(f"#incoming-{incoming.pk}").inner_text()
        assert words["lang"] in table and words["region"] in table, table
        _no_codes(cw, lang)
        assert _axe(cw) == []
        _fits_a_phone(cw)
        shot(cw, f"federation-{lang}-04-received-phone")
        offer = cw.locator(f"#incoming-{incoming.pk}")
        submit(cw, offer.locator("form", has=cw.locator("input[value=accept]")).locator("button"))
        assert words["accepted_msg"] in cw.locator(".messages").inner_text()
        shot(cw, f"federation-{lang}-05-accepted-phone")
        incoming.refresh_from_db()
        assert incoming.status == "accepted"

        # 6. The answer goes to the peer, and the peer's answer comes back to the sender.
        _deliver("referral.answer")
        answer = next(b for k, b in peer.received.values() if k == "referral.answer")
        assert answer == {"referral": str(sent.pk), "answer": "accepted", "reason": ""}
        _relay(peer, "referral.answer", answer)
        sent.refresh_from_db()
        assert sent.status == "accepted"

        # 7. The operator sees it accepted, on her page and on her worklist, desk and phone.
        op.goto(f"{base}/federation/referrals/")
        outgoing = op.locator("#outgoing").inner_text()
        assert words["accepted"] in outgoing and words["waiting"] not in outgoing
        assert "Bishkek shelter" in outgoing
        assert _axe(op) == []
        shot(op, f"federation-{lang}-06-accepted-sender")
        op.goto(f"{base}/")
        wl = op.locator(f"#wl-federation-sent-{sent.pk}")
        assert words["accepted"] in wl.inner_text()
        assert words["mine"] in _main(op)
        assert _axe(op) == []
        shot(op, f"federation-{lang}-07-worklist-sender")
        op.set_viewport_size(PHONE)
        op.goto(f"{base}/federation/referrals/")
        _fits_a_phone(op)
        _no_codes(op, lang)
        shot(op, f"federation-{lang}-08-sender-phone")
    finally:
        desk.close()
        phone.close()


SILENT = {
    "en": {"silent": "kyrgyz-centres has not answered since", "lost": "is not lost",
           "reauth": "asks for your password and a new code first"},
    "ru": {"silent": "kyrgyz-centres не отвечает с", "lost": "не потеряно",
           "reauth": "сначала введите пароль и новый код"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_peer_that_stops_answering_is_named_with_a_way_on(live_server, browser, world, lang):
    from datetime import timedelta as td

    from refuge.federation import referrals as federated
    from refuge.federation.models import PeerFacility

    personas, peer, trusted, sezim, case = world
    TOTPDevice.objects.create(user=personas["admin_a"].user, name="phone", confirmed=True)
    peer.fail_status = 500
    federated.federated_referral_send(
        by=personas["operator_a"].principal,
        client=case,
        peer_facility=PeerFacility.objects.get(),
        household={"woman_age": 30, "languages": ["ru"]},
    )
    row = OutboxMessage.objects.get(kind="referral.offer")
    for i in range(3):
        services.outbox_send(message_id=str(row.pk), now=timezone.now() + td(hours=i + 1))
    words = SILENT[lang]
    base = live_server.url
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    phone = browser.new_context(viewport=PHONE, locale="en-GB")
    try:
        op = phone.new_page()
        sign_in(op, base, personas["operator_a"].user, lang=lang)
        op.goto(f"{base}/federation/referrals/")
        warning = op.locator("#silent-kyrgyz-centres").inner_text()
        assert words["silent"] in warning and words["lost"] in warning, warning
        assert _axe(op) == []
        _fits_a_phone(op)
        _no_codes(op, lang)
        shot(op, f"federation-{lang}-09-silent-peer-phone")
        admin = desk.new_page()
        sign_in(admin, base, personas["admin_a"].user, lang=lang)
        admin.goto(f"{base}/federation/")
        text = _main(admin)
        assert words["silent"] in text and words["reauth"] in text, text
        assert _axe(admin) == []
        shot(admin, f"federation-{lang}-10-peers-silent")
    finally:
        desk.close()
        phone.close()
