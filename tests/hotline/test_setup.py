"""The hotline's set-up page: managers give their own staff extensions; administrators also
register lines. An extension decides whose a call is, so it never crosses organisations."""

from __future__ import annotations

import pytest

from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.hotline import services
from refuge.hotline.models import Line, OperatorExtension

URL = "/hotline/set-up/"


def test_a_manager_gives_her_operator_an_extension_and_takes_it_back(personas, as_persona):
    c = as_persona("manager_a")
    operator = personas["operator_a"].user
    r = c.post(URL, {"action": "extension", "user": operator.pk, "identity": " 101 "})
    assert r.status_code == 302
    ext = OperatorExtension.objects.get()
    assert (ext.identity, ext.user) == ("101", operator)
    page = c.get(URL).content.decode()
    assert "101" in page and "operator-a" in page
    r = c.post(URL, {"action": "remove", "extension": ext.pk})
    assert r.status_code == 302 and not OperatorExtension.objects.exists()
    actions = list(AuditEvent.objects.filter(action__startswith="hotline.extension")
                   .order_by("seq").values_list("action", flat=True))  # fmt: skip
    assert actions == ["hotline.extension.assign", "hotline.extension.remove"]


def test_a_manager_sees_and_offers_only_her_own_staff(personas, as_persona):
    services.extension_assign(by=None, user=personas["operator_b"].user, identity="202")
    page = as_persona("manager_a").get(URL)
    offered = set(
        page.context["ext_form"].fields["user"].queryset.values_list("username", flat=True)
    )
    assert offered == {"operator-a", "coordinator-a", "caseworker-a", "manager-a"}
    assert "202" not in page.content.decode()
    # Posting another organisation's member of staff, or removing its extension, does nothing.
    r = as_persona("manager_a").post(URL, {"action": "extension", "user": personas["operator_b"].user.pk,
                                           "identity": "303"})  # fmt: skip
    assert r.status_code == 200 and not OperatorExtension.objects.filter(identity="303").exists()
    ext = OperatorExtension.objects.get(identity="202")
    as_persona("manager_a").post(URL, {"action": "remove", "extension": ext.pk})
    assert OperatorExtension.objects.filter(identity="202").exists()


def test_a_manager_cannot_take_another_organisations_extension(personas):
    """The calls answered on 202 are org b's operator's; re-assigning 202 to her own operator
    would show org a those calls."""
    services.extension_assign(by=None, user=personas["operator_b"].user, identity="202")
    with pytest.raises(ServiceError) as exc:
        services.extension_assign(by=personas["manager_a"].principal,
                                  user=personas["operator_a"].user, identity="202")  # fmt: skip
    assert exc.value.code == "forbidden"
    assert OperatorExtension.objects.get(identity="202").user == personas["operator_b"].user
    # an administrator may move it
    services.extension_assign(by=personas["admin_a"].principal, user=personas["operator_a"].user,
                              identity="202")  # fmt: skip
    assert OperatorExtension.objects.get(identity="202").user == personas["operator_a"].user


@pytest.mark.parametrize("who", ["facilitator_a", "analyst_a", "partner_a"])
def test_only_staff_who_take_calls_get_an_extension(personas, who):
    with pytest.raises(ServiceError) as exc:
        services.extension_assign(by=None, user=personas[who].user, identity="404")
    assert exc.value.code == "invalid"


def test_an_administrator_registers_a_line_and_gives_it_to_an_organisation(orgs, as_persona):
    c = as_persona("admin_a")
    data = {"action": "line", "number": "+7 (495) 000-00-09", "name": "Night line",
            "organisation": orgs["b"].pk, "region": "RU-MOW", "service_area": ["RU-MOW", "RU-MOS"],
            "default_country": "RU"}  # fmt: skip
    # The form offers regions by name and sends their codes; nobody types a code.
    page = c.get(URL).content.decode()
    assert '<option value="RU-MOS">Moscow Oblast</option>' in page
    assert '<option value="KG">Kyrgyzstan: the whole country</option>' in page
    assert c.post(URL, data).status_code == 302
    line = Line.objects.get(number="74950000009")
    assert (line.organisation, line.service_area) == (orgs["b"], "RU-MOW,RU-MOS")
    assert "Moscow, Moscow Oblast" in c.get(URL).content.decode()
    bad = c.post(URL, {**data, "service_area": "Moscow"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert Line.objects.filter(number="74950000009").get().service_area == "RU-MOW,RU-MOS"


def test_a_manager_cannot_register_lines(orgs, as_persona):
    r = as_persona("manager_a").post(URL, {"action": "line", "number": "74950000010",
                                           "default_country": "RU"})  # fmt: skip
    assert r.status_code == 200 and not Line.objects.filter(number="74950000010").exists()
    assert "Lines are registered by an administrator." in r.content.decode()
