"""Erasure on request (issue 14, M6 and L4): a manager of her organisation erases her record
now; the shred ledger outside the database erases her again after a restore."""

import json
import time

import pytest
from django.urls import reverse

from refuge.cases.models import Client
from refuge.cases.retention import RULES, client_erase, client_purge_rule
from refuge.cases.services import client_close, client_create, legal_hold_set, note_add
from refuge.core import shred_ledger
from refuge.core.access import Principal, ReauthRequired
from refuge.core.fields import Erased
from refuge.core.models import AuditEvent, DataKey
from refuge.core.services import ServiceError

NAME = "Gulnara Erasova"
PHONE = "+7 916 555-77-01"


@pytest.fixture
def her(personas):
    c = client_create(by=personas["caseworker_a"].principal, name=NAME, phone=PHONE)
    note_add(by=personas["caseworker_a"].principal, client=c, body="she fears Bakyt Asanov")
    return c


def reauthenticated(client):
    s = client.session
    s["refuge_reauth_at"] = time.time()
    s.save()
    return client


def manager(personas, key="manager_a"):
    return Principal.for_user(personas[key].user, reauthenticated=True)


def _erase_url(c):
    return reverse("cases:erase", kwargs={"code": c.case_code})


def test_a_manager_erases_her_record_now(personas, as_persona, her, settings):
    web = reauthenticated(as_persona("manager_a"))
    page = web.get(_erase_url(her))
    assert page.status_code == 200 and her.case_code in page.content.decode()
    r = web.post(_erase_url(her), {"reason": "her_request", "confirm": her.case_code.lower()})
    assert r.status_code == 302 and r["Location"] == reverse("cases:list")
    c = Client.objects.get(pk=her.pk)
    assert isinstance(c.name, Erased) and isinstance(c.phone, Erased)
    assert c.phone_index == "" and c.closed_at is not None
    assert all(isinstance(n.body, Erased) for n in c.notes.all())
    key = DataKey.objects.get(pk=her.data_key_id)
    assert key.wrapped is None and key.destroyed_reason == "erasure: her_request"
    # The ledger outside the database names the key and the case's random id, nothing else.
    ledger = settings.REFUGE_SHRED_LEDGER_FILE.read_text()
    assert str(her.data_key_id) in ledger and str(her.pk) in ledger
    assert oct(settings.REFUGE_SHRED_LEDGER_FILE.stat().st_mode & 0o777) == "0o600"
    for text in (NAME, "Gulnara", "Bakyt", her.case_code, "79165557701"):
        assert text not in ledger
    # Audited without content: who, which record, the reason's category.
    event = AuditEvent.objects.get(action="client.erase")
    assert event.actor == "manager-a" and event.details == {"reason": "her_request"}
    assert event.target_id == str(her.pk)
    dump = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert NAME not in dump and "Bakyt" not in dump
    # The case page still opens (the statistics keep the case code) and shows nothing of her.
    detail = as_persona("manager_a").get(reverse("cases:detail", kwargs={"code": her.case_code}))
    assert detail.status_code == 200 and NAME not in detail.content.decode()


def test_it_asks_for_the_case_code_typed_back_and_a_reason(as_persona, her):
    web = reauthenticated(as_persona("manager_a"))
    wrong = web.post(_erase_url(her), {"reason": "her_request", "confirm": "RF-XXXX-XXXX"})
    assert wrong.status_code == 200 and "exactly as it is shown" in wrong.content.decode()
    no_reason = web.post(_erase_url(her), {"confirm": her.case_code})
    assert no_reason.status_code == 200
    bad_reason = web.post(_erase_url(her), {"reason": "she annoyed me", "confirm": her.case_code})
    assert bad_reason.status_code == 200
    assert Client.objects.get(pk=her.pk).name == NAME
    assert not AuditEvent.objects.filter(action="client.erase").exists()


def test_the_page_asks_a_manager_to_re_authenticate_first(as_persona, her):
    r = as_persona("manager_a").post(
        _erase_url(her), {"reason": "her_request", "confirm": her.case_code}
    )
    assert r.status_code == 302 and r["Location"].startswith(reverse("core:reauth"))
    assert Client.objects.get(pk=her.pk).name == NAME


@pytest.mark.parametrize(
    "persona", ["caseworker_a", "operator_a", "coordinator_a", "admin_a", "analyst_a"]
)
def test_other_roles_cannot_erase(as_persona, her, persona):
    web = reauthenticated(as_persona(persona))
    for method in ("get", "post"):
        r = getattr(web, method)(
            _erase_url(her), {"reason": "her_request", "confirm": her.case_code}
        )
        assert r.status_code == 403
    assert Client.objects.get(pk=her.pk).name == NAME


def test_a_manager_of_another_organisation_gets_nothing(as_persona, her):
    web = reauthenticated(as_persona("manager_b"))
    r = web.post(_erase_url(her), {"reason": "her_request", "confirm": her.case_code})
    assert r.status_code == 404
    assert Client.objects.get(pk=her.pk).name == NAME


def test_the_service_refuses_without_re_authentication_or_outside_her_organisation(personas, her):
    with pytest.raises(ReauthRequired):
        client_erase(by=personas["manager_a"].principal, client=her, reason="her_request")
    with pytest.raises(ServiceError, match="organisation"):
        client_erase(by=manager(personas, "manager_b"), client=her, reason="her_request")
    with pytest.raises(ServiceError):
        client_erase(by=manager(personas), client=her, reason="because")
    assert Client.objects.get(pk=her.pk).name == NAME


def test_a_record_on_legal_hold_is_not_erased(personas, her):
    legal_hold_set(by=personas["manager_a"].principal, client=her, on=True, reason="court")
    with pytest.raises(ServiceError, match="legal hold"):
        client_erase(by=manager(personas), client=her, reason="her_request")
    assert Client.objects.get(pk=her.pk).name == NAME


def test_the_closing_note_goes_with_her(personas, her):
    client_close(by=personas["caseworker_a"].principal, client=her, reason="returned to him")
    client_erase(by=manager(personas), client=her, reason="her_request")
    assert Client.objects.get(pk=her.pk).close_reason == ""
    with pytest.raises(ServiceError, match="already"):
        client_erase(by=manager(personas), client=her, reason="her_request")


def test_the_ledger_erases_again_a_key_that_a_restore_brought_back(personas, her):
    """What `refuge restore` does after loading an older backup (the drill in
    tests/core/test_backup.py runs it end to end)."""
    before = bytes(DataKey.objects.get(pk=her.data_key_id).wrapped)
    client_erase(by=manager(personas), client=her, reason="her_request")
    # The "restore": the old row with her wrapped key and her phone index is back.
    phone_index = "f" * 64
    DataKey.objects.filter(pk=her.data_key_id).update(wrapped=before, destroyed_at=None)
    Client.objects.filter(pk=her.pk).update(phone_index=phone_index)
    from refuge.core import crypto

    crypto.key_cache.clear()
    assert Client.objects.get(pk=her.pk).name == NAME  # readable again: the L4 finding
    done = shred_ledger.reapply()
    assert done.destroyed == 1 and not done.problems
    c = Client.objects.get(pk=her.pk)
    assert isinstance(c.name, Erased) and c.phone_index == ""
    assert AuditEvent.objects.filter(action="shred_ledger.reapply").exists()
    assert shred_ledger.reapply().destroyed == 0  # idempotent


def test_retention_shreds_go_into_the_ledger_too(personas, her):
    client_close(by=personas["caseworker_a"].principal, client=her, reason="moved")
    client_purge_rule(by=None, client=her, rule=next(r for r in RULES if r.action == "shred"))
    entries, problems = shred_ledger.read()
    assert [e.key_id for e in entries] == [her.data_key_id] and not problems


def test_a_ledger_line_forged_without_the_key_destroys_nothing(personas, her, settings):
    other = client_create(by=personas["caseworker_a"].principal, name="Not Erased")
    line = {"data_key": str(other.data_key_id), "target": "", "at": "2026-01-01T00:00:00Z"}
    settings.REFUGE_SHRED_LEDGER_FILE.write_text(json.dumps({**line, "sig": "0" * 64}) + "\n")
    done = shred_ledger.reapply()
    assert done.destroyed == 0 and "not signed with the key" in done.problems[0]
    assert Client.objects.get(pk=other.pk).name == "Not Erased"


def test_the_page_speaks_russian(as_persona, her):
    web = reauthenticated(as_persona("manager_a"))
    page = web.get(_erase_url(her), headers={"Accept-Language": "ru"}).content.decode()
    for text in ("Стереть её запись", "ключ, который их", "Она попросила", "в журнал аудита"):
        assert text.lower() in page.lower(), text


def test_the_console_re_applies_the_ledger_after_any_other_restore(personas, her):
    import io

    from django.core.management import call_command

    before = bytes(DataKey.objects.get(pk=her.data_key_id).wrapped)
    client_erase(by=manager(personas), client=her, reason="mistake")
    DataKey.objects.filter(pk=her.data_key_id).update(wrapped=before, destroyed_at=None)
    out = io.StringIO()
    call_command("reapply_shreds", stdout=out)
    assert "1 data keys destroyed again" in out.getvalue()
    assert DataKey.objects.get(pk=her.data_key_id).wrapped is None
