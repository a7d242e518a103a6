"""Break-glass and who may give which role (issue 14, H3).

An administrator created a caseworker in another organisation, signed in with the temporary
password and read its cases and a confidential address: no reason, no alert.
"""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from refuge.cases.models import CaseNote
from refuge.cases.services import client_create, note_add
from refuge.core.access import BREAK_GLASS_SESSION_KEY, ReauthRequired
from refuge.core.audit import BreakGlassReadOnly
from refuge.core.models import AuditEvent, BreakGlass, User
from refuge.core.roles import RANK, Role, grantable_by
from refuge.core.services import (
    ServiceError,
    break_glass_open,
    staff_create,
    staff_reset_password,
)
from refuge.directory.selectors import can_see_address
from tests.conftest import sign_in
from tests.core.conftest import reauthenticate
from tests.directory.factories import make_facility

REASON = "Court order 2-41/2026 asks us to confirm what was recorded on the night of 3 May."


def fresh(persona):
    """Her principal as just after a re-authentication."""
    return replace(persona.principal, reauthenticated=True)


@pytest.fixture
def case_b(personas):
    return client_create(by=personas["caseworker_b"].principal, name="Aigul Test")


@pytest.fixture
def admin(personas):
    c = sign_in(HttpClient(), personas["admin_a"].user)
    reauthenticate(c)
    return c


def _open(admin_client, org, reason=REASON):
    return admin_client.post(
        reverse("core:break_glass"), {"organisation": org.pk, "reason": reason}
    )


# --- who gives which role ----------------------------------------------------------------------


def test_the_old_route_is_closed_an_admin_cannot_add_a_caseworker_elsewhere(
    personas, admin, case_b
):
    org_b = personas["caseworker_b"].org
    admin.post(
        reverse("core:organisation", args=[org_b.slug]), {"username": "spy", "role": "caseworker"}
    )
    r = admin.post(
        reverse("core:organisation_staff_new", args=[org_b.slug]),
        {"username": "spy", "role": "caseworker", "reason": REASON},
    )
    assert r.status_code == 200 and "role" in r.context["form"].errors
    assert not User.objects.filter(username="spy").exists()


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.OPERATOR, Role.PARTNER, Role.FACILITATOR])
def test_the_service_refuses_an_admin_case_staff_in_any_organisation(personas, role):
    for org in (personas["caseworker_b"].org, personas["caseworker_a"].org):
        with pytest.raises(ServiceError) as exc:
            staff_create(
                by=fresh(personas["admin_a"]),
                organisation=org,
                username=f"x-{org.slug}",
                role=role,
                reason=REASON,
            )
        assert exc.value.code == "forbidden"


@pytest.mark.parametrize("granter", list(Role))
def test_no_one_gives_a_role_reaching_further_than_her_own(personas, granter):
    by = fresh(personas[f"{granter.value}_a"])
    for role in Role:
        try:
            staff_create(
                by=by,
                organisation=personas["caseworker_a"].org,
                username=f"{granter.value}-gives-{role.value}",
                role=role,
                reason=REASON,
            )
            given = True
        except ServiceError:
            given = False
        assert given == (role in grantable_by(granter)), (granter, role)
        assert not given or RANK[role] <= RANK[granter]


def test_a_manager_gives_roles_in_her_own_organisation_only(personas):
    with pytest.raises(ServiceError):
        staff_create(
            by=fresh(personas["manager_a"]),
            organisation=personas["caseworker_b"].org,
            username="elsewhere",
            role=Role.CASEWORKER,
        )


def test_appointing_a_manager_is_break_glass_grade(personas, notices):
    org_b = personas["caseworker_b"].org
    with pytest.raises(ServiceError) as exc:
        staff_create(
            by=fresh(personas["admin_a"]), organisation=org_b, username="m", role="manager"
        )
    assert exc.value.code == "reason"
    new = staff_create(
        by=fresh(personas["admin_a"]),
        organisation=org_b,
        username="m",
        role="manager",
        reason=REASON,
    )
    entry = BreakGlass.objects.get()
    assert (entry.kind, entry.organisation, entry.subject, entry.action) == (
        "account",
        org_b,
        new.user,
        "staff.create",
    )
    assert entry.reason == REASON and REASON not in str(
        BreakGlass.objects.values_list("reason", flat=True)[0]
    )  # encrypted at rest
    [n] = notices
    assert (n.kind, n.organisation_id, n.by_user_id) == (
        "staff_created",
        org_b.pk,
        personas["admin_a"].user.pk,
    )


def test_an_admin_resets_a_managers_sign_in_only_with_a_reason(personas, admin, notices):
    manager_b = personas["manager_b"].user
    url = reverse("core:staff_action", args=[manager_b.pk, "reset-password"])
    page = admin.get(url)
    assert page.status_code == 200 and "reason" in page.context["form"].fields
    assert admin.post(url, {"reason": "short"}).status_code == 200  # asked again
    assert not BreakGlass.objects.exists()
    r = admin.post(url, {"reason": REASON})
    assert r.context["password"]
    assert BreakGlass.objects.get().action == "staff.reset_password"
    assert [n.kind for n in notices] == ["password_reset"]
    with pytest.raises(ServiceError) as exc:
        staff_reset_password(by=fresh(personas["admin_a"]), member=manager_b, reason="")
    assert exc.value.code == "reason"
    with pytest.raises(ReauthRequired):
        staff_reset_password(by=personas["admin_a"].principal, member=manager_b, reason=REASON)


def test_an_admin_cannot_reset_case_staff_but_can_still_deactivate_and_unlock(personas, admin):
    cw = personas["caseworker_b"].user
    r = admin.post(reverse("core:staff_action", args=[cw.pk, "reset-password"]))
    assert r.status_code == 302
    cw.refresh_from_db()
    assert not cw.must_change_password
    admin.post(reverse("core:staff_action", args=[cw.pk, "unlock"]))
    admin.post(
        reverse("core:staff_action", args=[cw.pk, "deactivate"]), {"reason": "left", "sure": "1"}
    )
    cw.refresh_from_db()
    assert not cw.is_active


# --- break-glass -------------------------------------------------------------------------------


def test_without_break_glass_an_admin_reads_no_case(personas, case_b):
    c = sign_in(HttpClient(), personas["admin_a"].user)
    assert c.get(reverse("cases:list")).status_code == 403
    assert c.get(reverse("cases:detail", args=[case_b.case_code])).status_code == 403


def test_opening_needs_re_authentication_and_a_written_reason(personas, case_b):
    c = sign_in(HttpClient(), personas["admin_a"].user)
    r = c.get(reverse("core:break_glass"))
    assert r.status_code == 302 and r.url.startswith(reverse("core:reauth"))
    reauthenticate(c)
    r = _open(c, personas["caseworker_b"].org, reason="need to look")
    assert r.status_code == 200 and r.context["form"].errors
    assert not BreakGlass.objects.exists()


def test_break_glass_reads_one_organisations_cases_and_audits_every_read(
    personas, admin, case_b, notices
):
    org_b = personas["caseworker_b"].org
    r = _open(admin, org_b)
    assert r.status_code == 302 and r.url == reverse("cases:list")
    entry = BreakGlass.objects.get()
    assert [(n.kind, n.user_id, n.organisation_id) for n in notices] == [
        ("break_glass_opened", personas["admin_a"].user.pk, org_b.pk)
    ]
    page = admin.get(reverse("cases:list"))
    assert page.status_code == 200 and case_b.case_code in page.content.decode()
    assert "break-glass-banner" in page.content.decode()
    assert admin.get(reverse("cases:detail", args=[case_b.case_code])).status_code == 200
    events = AuditEvent.objects.filter(details__break_glass=str(entry.pk))
    reads = events.filter(action="read", target_type="cases.client", target_id=str(case_b.pk))
    assert reads.exists()
    assert {(e.actor, e.actor_role, e.organisation_slug) for e in events} == {
        ("admin-a", "admin", "org-a")
    }
    assert events.filter(target_type="page", target_id="cases:detail").exists()
    assert all(e.target_org_slug == "org-b" for e in events)


def test_break_glass_changes_nothing(personas, admin, case_b):
    _open(admin, personas["caseworker_b"].org)
    r = admin.post(reverse("cases:notes", args=[case_b.case_code]), {"body": "written by admin"})
    assert r.status_code == 403
    assert not CaseNote.objects.exists()
    # And through the services, whatever the page: the audit refuses the event, so the change.
    session = admin.session
    entry = BreakGlass.objects.get(pk=session[BREAK_GLASS_SESSION_KEY])
    p = personas["admin_a"].principal.under_break_glass(entry)
    with pytest.raises(BreakGlassReadOnly):
        note_add(by=p, client=case_b, body="written by admin")
    assert not CaseNote.objects.exists()


def test_break_glass_is_scoped_to_case_pages_of_one_organisation(personas, admin, case_b):
    case_a = client_create(by=personas["caseworker_a"].principal, name="Own hub case")
    _open(admin, personas["caseworker_b"].org)
    assert admin.get(reverse("cases:detail", args=[case_a.case_code])).status_code == 404
    for name in ("vacancies:board", "directory:list", "core:staff_list", "core:api_keys"):
        assert admin.get(reverse(name)).status_code == 403, name
    assert admin.get("/api/v1/me").json()["role"] == "admin"  # the API is not under it


def test_the_other_case_pages_go_through_the_same_helpers(personas, admin, case_b):
    """Referrals, risk meetings and partner support answer as for the organisation's own
    caseworker, and each page is audited under the break-glass id."""
    _open(admin, personas["caseworker_b"].org)
    entry = BreakGlass.objects.get()
    for name in (
        "referrals:inbox",
        "referrals:sent",
        "meetings:list",
        "programmes:partner_support_list",
        "cases:tasks",
    ):
        assert admin.get(reverse(name)).status_code == 200, name
        assert AuditEvent.objects.filter(
            details__break_glass=str(entry.pk), target_type="page", target_id=name
        ).exists()


def test_signing_out_ends_break_glass(personas, admin, notices):
    _open(admin, personas["caseworker_b"].org)
    admin.post(reverse("core:logout"))
    entry = BreakGlass.objects.get()
    assert entry.closed_at is not None and not entry.is_open()
    assert notices[-1].kind == "break_glass_closed"


def test_break_glass_never_opens_a_confidential_address(personas):
    org_b = personas["caseworker_b"].org
    facility = make_facility(org_b, "Hidden house", address="Secret lane 7")
    entry = break_glass_open(by=fresh(personas["admin_a"]), organisation=org_b, reason=REASON)
    p = personas["admin_a"].principal.under_break_glass(entry)
    assert not can_see_address(p, facility)
    assert can_see_address(personas["caseworker_b"].principal, facility)


def test_it_ends_by_itself_after_the_window(personas, admin, case_b):
    _open(admin, personas["caseworker_b"].org)
    BreakGlass.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert admin.get(reverse("cases:list")).status_code == 403
    assert BREAK_GLASS_SESSION_KEY not in admin.session


def test_its_managers_see_it_with_the_reason_and_can_end_it(personas, admin, case_b, notices):
    _open(admin, personas["caseworker_b"].org)
    admin.get(reverse("cases:detail", args=[case_b.case_code]))
    entry = BreakGlass.objects.get()
    manager_b = sign_in(HttpClient(), personas["manager_b"].user)
    page = manager_b.get(reverse("core:audit_log"))
    [shown] = page.context["register"]
    assert shown.pk == entry.pk and shown.reads >= 2 and REASON in page.content.decode()
    listed = manager_b.get(reverse("core:audit_log"), {"break_glass": str(entry.pk)})
    assert all(e.details.get("break_glass") == str(entry.pk) for e in listed.context["page"])
    other = sign_in(HttpClient(), personas["manager_a"].user).get(reverse("core:audit_log"))
    assert other.context["register"] == []
    assert manager_b.post(reverse("core:break_glass_close", args=[entry.pk])).status_code == 302
    assert admin.get(reverse("cases:list")).status_code == 403
    assert [n.kind for n in notices][-1] == "break_glass_closed"
    assert notices[-1].by_user_id == personas["manager_b"].user.pk


def test_she_ends_it_herself_from_the_banner(personas, admin, case_b):
    _open(admin, personas["caseworker_b"].org)
    entry = BreakGlass.objects.get()
    r = admin.post(reverse("core:break_glass_close", args=[entry.pk]))
    assert r.status_code == 302
    assert BREAK_GLASS_SESSION_KEY not in admin.session
    assert admin.get(reverse("cases:list")).status_code == 403


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_only_administrators_open_break_glass(personas, role):
    with pytest.raises(Exception) as exc:
        break_glass_open(
            by=fresh(personas[f"{role.value}_a"]),
            organisation=personas["caseworker_b"].org,
            reason=REASON,
        )
    assert exc.type.__name__ == "PermissionDenied"


def test_a_refusal_under_break_glass_carries_the_usual_headers(personas, admin):
    _open(admin, personas["caseworker_b"].org)
    r = admin.get(reverse("vacancies:board"))
    assert r.status_code == 403
    assert r["Cache-Control"] == "no-store" and "default-src" in r["Content-Security-Policy"]
