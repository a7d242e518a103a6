import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.core.models import AuditEvent, User
from refuge.core.roles import Role
from refuge.core.services import ServiceError, staff_create, staff_reset_password
from tests.core.conftest import reauthenticate


def test_a_manager_adds_staff_to_their_own_organisation(personas, as_persona, notices):
    c = as_persona("manager_a")
    reauthenticate(c)
    r = c.post(
        reverse("core:staff_new"),
        {"username": "new-worker", "role": "caseworker", "first_name": "Vera"},
    )
    assert r.status_code == 200 and r.context["password"]
    user = User.objects.get(username="new-worker")
    assert user.organisation == personas["manager_a"].org and user.role == Role.CASEWORKER
    assert user.must_change_password
    assert user.check_password(r.context["password"])
    assert AuditEvent.objects.filter(action="staff.create", target_id=str(user.pk)).exists()
    [n] = [n for n in notices if n.kind == "staff_created"]
    assert (n.user_id, n.organisation_id, n.by_user_id) == (
        user.pk,
        user.organisation.pk,
        personas["manager_a"].user.pk,
    )


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ANALYST, Role.ADMIN])
def test_a_manager_cannot_grant_network_roles(personas, role):
    with pytest.raises(ServiceError):
        staff_create(
            by=personas["manager_a"].principal,
            organisation=personas["manager_a"].org,
            username="x",
            role=role,
        )


def test_a_manager_cannot_touch_another_organisations_staff(personas, as_persona):
    other = personas["caseworker_b"].user
    r = as_persona("manager_a").post(
        reverse("core:staff_action", args=[other.pk, "reset-password"])
    )
    assert r.status_code == 404
    with pytest.raises(ServiceError):
        staff_reset_password(by=personas["manager_a"].principal, member=other)


def test_the_staff_list_shows_only_the_own_organisation(personas, as_persona):
    r = as_persona("manager_a").get(reverse("core:staff_list"))
    names = {row["member"].username for row in r.context["rows"]}
    assert "caseworker-a" in names and "caseworker-b" not in names


def test_resetting_the_second_factor_removes_the_device(personas, as_persona):
    user = personas["caseworker_a"].user
    TOTPDevice.objects.create(user=user, name="old", confirmed=True)
    as_persona("manager_a").post(reverse("core:staff_action", args=[user.pk, "reset-2fa"]))
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_a_manager_cannot_deactivate_themself(personas, as_persona):
    me = personas["manager_a"].user
    as_persona("manager_a").post(
        reverse("core:staff_action", args=[me.pk, "deactivate"]), {"reason": "left", "sure": "1"}
    )
    me.refresh_from_db()
    assert me.is_active


def test_deactivating_asks_why_and_for_the_tick_and_audits_the_reason(personas, as_persona):
    cw = personas["caseworker_a"].user
    url = reverse("core:staff_action", args=[cw.pk, "deactivate"])
    c = as_persona("manager_a")
    page = c.get(reverse("core:staff_list")).content.decode()
    assert f'id="deactivate-reason-{cw.pk}"' in page and 'name="sure"' in page
    for data, why in (
        ({"sure": "1"}, "Choose why the account is deactivated."),
        ({"reason": "nonsense", "sure": "1"}, "Choose why the account is deactivated."),
        ({"reason": "left"}, "Tick the box to confirm."),
    ):
        r = c.post(url, data, follow=True)
        cw.refresh_from_db()
        assert cw.is_active and why in r.content.decode()
    c.cookies["django_language"] = "ru"
    r = c.post(url, {"reason": "left"}, follow=True)
    assert "Отметьте флажок, чтобы подтвердить." in r.content.decode()
    r = c.post(url, {"sure": "1"}, follow=True)
    assert "Выберите, почему учётная запись отключается." in r.content.decode()
    assert not AuditEvent.objects.filter(action="staff.deactivate").exists()
    c.post(url, {"reason": "exposed", "sure": "1"})
    cw.refresh_from_db()
    assert not cw.is_active
    event = AuditEvent.objects.get(action="staff.deactivate", target_id=str(cw.pk))
    assert event.details == {"reason": "exposed"}


@pytest.mark.parametrize("persona", ["caseworker_a", "manager_b"])
def test_deactivating_is_refused_to_others_even_with_a_reason_and_the_tick(
    personas, as_persona, persona
):
    cw = personas["caseworker_a"].user
    r = as_persona(persona).post(
        reverse("core:staff_action", args=[cw.pk, "deactivate"]), {"reason": "left", "sure": "1"}
    )
    assert r.status_code in (403, 404)
    cw.refresh_from_db()
    assert cw.is_active


def test_an_admin_creates_an_organisation_and_its_first_manager(personas, as_persona):
    c = as_persona("admin_a")
    r = c.post(
        reverse("core:organisations"),
        {"name": "Safe House", "slug": "safe-house", "kind": "shelter"},
    )
    assert r.status_code == 302
    reauthenticate(c)
    r = c.post(
        reverse("core:organisation_staff_new", args=["safe-house"]),
        {
            "username": "sh-manager",
            "role": "manager",
            "reason": "The new shelter opens on Monday and needs its first manager.",
        },
    )
    assert r.status_code == 200 and r.context["password"]
    assert User.objects.get(username="sh-manager").organisation.slug == "safe-house"


def test_managers_see_who_read_their_records_and_nothing_else(personas, as_persona):
    from refuge.cases.services import client_create

    a = client_create(by=personas["caseworker_a"].principal, name="A")
    b = client_create(by=personas["caseworker_b"].principal, name="B")
    as_persona("caseworker_a").get(reverse("cases:detail", args=[a.case_code]))
    as_persona("caseworker_b").get(reverse("cases:detail", args=[b.case_code]))
    r = as_persona("manager_a").get(reverse("core:audit_log"), {"target": str(a.pk)})
    events = list(r.context["page"])
    assert any(e.action == "read" and e.actor == "caseworker-a" for e in events)
    r = as_persona("manager_a").get(reverse("core:audit_log"))
    assert all(e.target_org_slug == "org-a" for e in r.context["page"])
