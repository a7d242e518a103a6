"""Issue 16, item 1: the guided intake. Each step saves to her case file through the same
services as the tabs, back and forward lose nothing, the search is run from all of it, and
the wrap-up of the call it started from opens prefilled (the call stays unlinked to her case)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest

from refuge.cases.models import Client, HouseholdMember, OtherParty
from refuge.hotline import adapters, merge
from refuge.hotline import services as hotline
from refuge.hotline.models import Call
from refuge.vacancies.services import availability_settings_update
from tests.directory.factories import make_facility

HER = {"name": "Irina S.", "phone": "+7 916 000 11 22", "age_band": "25-34",
       "residence_region": "RU-MOW", "languages": ["ru", "uz"], "documents": ["passport"]}  # fmt: skip
HOUSEHOLD = {"children": "m15, f9", "pets": "", "avoid_relation": "ex-partner",
             "avoid_region": "RU-MOW", "keep_avoid": "on"}  # fmt: skip


def _start(client) -> tuple[Client, str]:
    r = client.post("/cases/new/", HER)
    assert r.status_code == 302, r.content[:2000]
    her = Client.objects.get()
    assert r["Location"] == f"/cases/{her.case_code}/intake/household/"
    return her, her.case_code


def _query(url: str) -> dict:
    return parse_qs(urlparse(url).query)


def test_each_step_saves_and_going_back_loses_nothing(as_persona):
    op = as_persona("operator_a")
    her, code = _start(op)
    assert her.languages == ["ru", "uz"] and her.residence_region == "RU-MOW"
    r = op.post(f"/cases/{code}/intake/household/", HOUSEHOLD)
    assert r.status_code == 302
    assert r["Location"].startswith(f"/cases/{code}/risk/new/refuge-screen@1/?intake=1")
    assert "avoid=" not in r["Location"]  # kept in her file: the search reads it from there
    kids = sorted((m.age, m.sex) for m in HouseholdMember.objects.filter(client=her))
    assert kids == [(9, "female"), (15, "male")]
    assert list(OtherParty.objects.filter(client=her).values_list("region", flat=True)) == [
        "RU-MOW"
    ]
    # Back to step 1: everything she said is there, and saving it again changes nothing.
    page = op.get(f"/cases/{code}/intake/her/")
    form = page.context["form"]
    assert form["age_band"].value() == "25-34" and form["languages"].value() == ["ru", "uz"]
    assert form["residence_region"].value() == "RU-MOW"
    assert op.post(f"/cases/{code}/intake/her/", {**HER, "name": "Irina"}).status_code == 302
    # Back to step 2: the children as typed, the person to avoid listed, nothing doubled.
    page = op.get(f"/cases/{code}/intake/household/")
    assert page.context["form"]["children"].value() == "m15, f9"
    assert "ex-partner" in page.content.decode()
    op.post(f"/cases/{code}/intake/household/", HOUSEHOLD)
    assert HouseholdMember.objects.filter(client=her).count() == 2
    assert OtherParty.objects.filter(client=her).count() == 1
    # One child fewer: the other is kept as recorded (with a name given on the tab).
    boy = HouseholdMember.objects.get(client=her, sex="male")
    boy.name = "Timur"
    boy.save()
    op.post(f"/cases/{code}/intake/household/", {**HOUSEHOLD, "children": "м15"})
    assert [m.name for m in HouseholdMember.objects.filter(client=her)] == ["Timur"]
    assert Client.objects.count() == 1


def test_the_household_step_is_all_or_nothing(as_persona, monkeypatch):
    from refuge.cases import services
    from refuge.core.services import ServiceError

    op = as_persona("operator_a")
    her, code = _start(op)

    def refuse(**_kwargs):
        raise ServiceError("refused for the test")

    monkeypatch.setattr(services, "other_party_add", refuse)
    r = op.post(f"/cases/{code}/intake/household/", {**HOUSEHOLD, "pets": "2"})
    assert r.status_code == 200 and "refused for the test" in r.content.decode()
    # The children and the pets saved before the refusal are rolled back with it.
    assert not HouseholdMember.objects.filter(client=her).exists()
    her.refresh_from_db()
    assert her.pets == 0 and not OtherParty.objects.filter(client=her).exists()


def test_a_region_she_does_not_agree_to_keep_goes_to_this_search_only(as_persona):
    op = as_persona("operator_a")
    her, code = _start(op)
    r = op.post(f"/cases/{code}/intake/household/", {**HOUSEHOLD, "keep_avoid": ""})
    assert not OtherParty.objects.filter(client=her).exists()
    assert _query(r["Location"])["avoid"] == ["RU-MOW"]
    # The screening carries it, and finishing goes on to the search run from her file.
    answers = {f"item-{i}": "no" for i in (
        "hurt_recently", "injury_needs_care", "afraid_now", "threat_to_kill", "neck_pressure",
        "weapon", "getting_worse", "recent_separation", "following", "controls_money",
        "isolated", "sexual_harm", "pregnant", "has_children", "alcohol_drugs",
        "police_history", "broke_order")}  # fmt: skip
    answers.update({"item-threat_to_kill": "yes", "item-weapon": "yes", "finish": "1"})
    r = op.post(r["Location"], answers)
    assert r.status_code == 302 and r["Location"].startswith("/referrals/search/?")
    assert _query(r["Location"]) == {"case": [code], "go": ["1"], "avoid": ["RU-MOW"]}
    r = op.get(r["Location"])
    assert r.status_code == 302
    q = _query(r["Location"])
    assert q["avoid_regions"] == ["RU-MOW"] and q["home_region"] == ["RU-MOW"]
    assert q["children"] == ["m15, f9"] and q["languages"] == ["ru", "uz"]
    assert q["documents"] == ["passport"] and q["woman_age"] == ["30"]
    page = op.get(r["Location"])
    assert page.status_code == 200 and page.context["result"] is not None
    assert [s["key"] for s in page.context["steps"] if s["current"]] == ["search"]


def test_an_unfinished_screening_stays_in_the_intake(as_persona):
    op = as_persona("operator_a")
    _her, code = _start(op)
    url = f"/cases/{code}/risk/new/refuge-screen@1/?intake=1&avoid=RU-TUL"
    page = op.get(url)
    assert b"data-rest-no" in page.content and b'aria-current="step"' in page.content
    r = op.post(url, {"item-weapon": "yes", "finish": "1"})
    assert r.status_code == 302 and "draft=" in r["Location"]
    assert "intake=1" in r["Location"] and "avoid=RU-TUL" in r["Location"]


def test_a_forged_region_in_the_query_is_ignored(as_persona):
    op = as_persona("operator_a")
    _her, code = _start(op)
    r = op.get(f"/referrals/search/?case={code}&go=1&avoid=<script>")
    assert r.status_code == 302 and "script" not in r["Location"]


def test_the_household_step_says_what_is_wrong_and_keeps_what_was_typed(as_persona):
    op = as_persona("operator_a")
    her, code = _start(op)
    r = op.post(f"/cases/{code}/intake/household/",
                {**HOUSEHOLD, "children": "m15, boy 9", "avoid_relation": ""})  # fmt: skip
    assert r.status_code == 200
    body = r.content.decode()
    assert "Write each child as m or f" in body and "Say who he is to her" in body
    assert 'value="m15, boy 9"' in body
    assert not HouseholdMember.objects.filter(client=her).exists()


def test_the_intake_steps_follow_her_case_permissions(as_persona, personas):
    _her, code = _start(as_persona("operator_a"))
    for key in ("operator_b", "caseworker_b", "partner_a"):
        assert as_persona(key).get(f"/cases/{code}/intake/household/").status_code in (403, 404)
        assert as_persona(key).get(f"/cases/{code}/intake/her/").status_code in (403, 404)


# --- the wrap-up of the call the intake started from ------------------------------------------


@pytest.fixture
def call(orgs, personas):
    hotline.line_save(by=None, number="74950000001", organisation=orgs["a"], name="Line",
                      service_area="RU-MOW")  # fmt: skip
    hotline.extension_assign(by=None, user=personas["operator_a"].user, identity="101")
    now = time.time()
    for seq, state in enumerate(("appeared", "connected", "disconnected"), start=1):
        event = merge.Event("leg", seq, state, now - 60 + seq, location="operator", operator="101")
        hotline.call_event_ingest(inbound=adapters.Inbound(
            "json", "intake-call", event=event, line="74950000001",
            external_number="+74951234567"))  # fmt: skip
    return Call.objects.get(entry_id="intake-call")


def test_the_wrap_up_opens_with_what_the_intake_recorded(as_persona, call, orgs):
    op = as_persona("operator_a")
    assert op.get(f"/cases/new/?call={call.pk}").status_code == 200
    r = op.post(f"/cases/new/?call={call.pk}", HER)
    her = Client.objects.get()
    initial = op.get(f"/hotline/calls/{call.pk}/wrap-up/").context["form"].initial
    assert initial == {"contact_type": "victim", "outcomes": []}
    shelter = make_facility(orgs["b"], "Shelter", region="RU-TUL", rooms=[("family", 4)])
    availability_settings_update(by=None, facility=shelter, source="system", ttl_hours=24)
    r = op.get(f"/referrals/search/?case={her.case_code}&go=1", follow=True)
    query = parse_qs(r.request["QUERY_STRING"])  # the search as the page shows it
    r = op.post("/referrals/send/", {**query, "facility": [str(shelter.pk)]})
    assert r.status_code == 302 and r["Location"].startswith("/referrals/")
    initial = op.get(f"/hotline/calls/{call.pk}/wrap-up/").context["form"].initial
    assert initial["outcomes"] == ["placement"] and initial["need_shelter"] == "met"
    # Nothing that names her or her case is kept with the hint.
    assert her.case_code not in str(op.session.get("wrapup_hints"))
    r = op.post(f"/hotline/calls/{call.pk}/wrap-up/", {
        "contact_type": "victim", "outcomes": ["placement"], "need_shelter": "met"})  # fmt: skip
    assert r.status_code == 302
    assert not op.session.get("wrapup_hints")
    # A call of someone else's organisation is not a call to start from.
    assert op.get("/cases/new/?call=999999").status_code == 200
