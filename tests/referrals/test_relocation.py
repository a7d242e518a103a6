"""The journey between regions: who may be named to carry it out (and so see the confidential
address), and a travel-plan form that keeps what was saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.referrals import services
from refuge.referrals.models import Relocation
from tests.conftest import make_org, make_user
from tests.directory.factories import make_facility
from tests.referrals.conftest import FAMILY, system

ADDRESS = "ul. Lesnaya 7"


@pytest.fixture
def accepted(personas, client_a):
    shelter = system(make_facility(personas["caseworker_b"].org, "Vladimir refuge",
                                   region="RU-VLA", rooms=[("family", 4)] * 2, address=ADDRESS))  # fmt: skip
    ref = services.referral_create(by=personas["operator_a"].principal, client=client_a,
                                   household=FAMILY, facility_ids=[shelter.pk])  # fmt: skip
    services.referral_accept(by=personas["caseworker_b"].principal, referral=ref, facility=shelter)
    ref.refresh_from_db()
    return ref


def _plan(personas, ref, *carriers, by="operator_a"):
    return services.relocation_plan(by=personas[by].principal, referral=ref, mode="train",
                                    carriers=[personas[c].user for c in carriers])  # fmt: skip


def test_staff_of_both_organisations_can_carry_it_out(personas, accepted):
    reloc = _plan(personas, accepted, "operator_a", "caseworker_b")
    assert set(reloc.carriers.values_list("username", flat=True)) == {"operator-a", "caseworker-b"}
    assert reloc.from_region == "RU-MOW" and reloc.to_region == "RU-VLA"


@pytest.mark.parametrize("who", ["facilitator_a", "partner_a", "analyst_b", "admin_b"])
def test_no_one_outside_case_work_is_named_even_inside_the_two_organisations(
    personas, accepted, who
):
    with pytest.raises(ServiceError) as exc:
        _plan(personas, accepted, who)
    assert exc.value.code == "forbidden"
    assert not Relocation.objects.exists()


def test_staff_of_a_third_organisation_cannot_be_named(personas, accepted):
    stranger = make_user(make_org("org-c"), "caseworker", "stranger")
    with pytest.raises(ServiceError) as exc:
        services.relocation_plan(by=personas["operator_a"].principal, referral=accepted,
                                 mode="train", carriers=[stranger])  # fmt: skip
    assert exc.value.code == "forbidden"


def test_no_plan_before_a_shelter_accepts_nor_by_anyone_else(personas, client_a, accepted):
    shelter = accepted.accepted_target.facility
    other = services.referral_create(by=personas["operator_a"].principal, client=client_a,
                                     household=FAMILY, facility_ids=[shelter.pk])  # fmt: skip
    with pytest.raises(ServiceError) as exc:
        _plan(personas, other, "operator_a")
    assert exc.value.code == "conflict"
    outsider = make_user(make_org("org-c"), "operator", "outsider")
    from refuge.core.access import Principal

    with pytest.raises(ServiceError) as exc:
        services.relocation_plan(by=Principal.for_user(outsider), referral=accepted, mode="bus")
    assert exc.value.code == "forbidden"


def test_a_carrier_sees_the_address_audited_and_a_colleague_does_not(
    personas, accepted, as_persona
):
    url = reverse("referrals:detail", args=[accepted.pk])
    assert ADDRESS not in as_persona("operator_a").get(url).content.decode()
    _plan(personas, accepted, "operator_a")
    assert ADDRESS in as_persona("operator_a").get(url).content.decode()
    assert AuditEvent.objects.filter(action="facility.address_read",
                                     actor="operator-a").exists()  # fmt: skip
    assert ADDRESS not in as_persona("coordinator_a").get(url).content.decode()


def test_the_form_offers_only_case_staff_and_keeps_the_saved_plan(personas, accepted, as_persona):
    _plan(personas, accepted, "operator_a")
    page = as_persona("operator_a").get(reverse("referrals:detail", args=[accepted.pk]))
    form = page.context["relocation_form"]
    offered = set(form.fields["carriers"].queryset.values_list("username", flat=True))
    assert offered == {f"{r}-{o}" for r in ("caseworker", "manager", "operator", "coordinator")
                       for o in ("a", "b")}  # fmt: skip
    assert form.initial["mode"] == "train"
    assert form.initial["carriers"] == [personas["operator_a"].user.pk]
    html = page.content.decode()
    assert f'value="{personas["operator_a"].user.pk}"' in html
    assert 'value="train" selected' in html


def test_a_posted_carrier_outside_case_work_is_refused(personas, accepted, as_persona):
    url = reverse("referrals:act", args=[accepted.pk, "relocation"])
    r = as_persona("operator_a").post(
        url, {"mode": "train", "carriers": [personas["facilitator_a"].user.pk]}
    )
    assert r.status_code == 200 and r.context["relocation_form"].errors["carriers"]
    assert not Relocation.objects.exists()


# --- travel dates that make sense (issue 16) ---------------------------------------------------


def _local(when) -> str:
    from django.utils import timezone

    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("field", ["departs_at", "arrives_at"])
@pytest.mark.parametrize("year", ["1900", "9999"])
def test_a_date_out_of_the_coming_year_is_refused_beside_its_field_keeping_what_was_typed(
    personas, accepted, as_persona, field, year
):
    url = reverse("referrals:act", args=[accepted.pk, "relocation"])
    typed = f"{year}-03-04T10:30"
    r = as_persona("operator_a").post(
        url, {"mode": "bus", "escort": "Her sister", "paid_by": "Fund X", field: typed}
    )
    assert r.status_code == 200
    form = r.context["relocation_form"]
    assert form.errors[field] == ["Give a date between yesterday and a year from now."]
    assert set(form.errors) == {field}
    html = r.content.decode()
    assert f'value="{typed}"' in html and 'value="Her sister"' in html
    assert 'value="Fund X"' in html and 'value="bus" selected' in html
    assert "Give a date between yesterday and a year from now." in html
    assert not Relocation.objects.exists()


def test_the_date_refusal_is_in_russian(personas, accepted, as_persona):
    c = as_persona("operator_a")
    c.cookies["django_language"] = "ru"
    r = c.post(reverse("referrals:act", args=[accepted.pk, "relocation"]),
               {"mode": "bus", "departs_at": "1900-03-04T10:30"})  # fmt: skip
    assert "Укажите дату не раньше вчерашней и не позже чем через год." in r.content.decode()


def test_an_arrival_before_the_departure_is_refused_on_the_arrival(personas, accepted, as_persona):
    from datetime import timedelta

    from django.utils import timezone

    soon = timezone.now() + timedelta(days=2)
    data = {"mode": "train", "departs_at": _local(soon),
            "arrives_at": _local(soon - timedelta(hours=5))}  # fmt: skip
    r = as_persona("operator_a").post(
        reverse("referrals:act", args=[accepted.pk, "relocation"]), data
    )
    form = r.context["relocation_form"]
    assert r.status_code == 200 and set(form.errors) == {"arrives_at"}
    assert form.errors["arrives_at"] == ["The expected arrival cannot be before the departure."]
    assert f'value="{data["departs_at"]}"' in r.content.decode()
    assert not Relocation.objects.exists()


def test_a_sane_plan_is_saved(personas, accepted, as_persona):
    from datetime import timedelta

    from django.utils import timezone

    soon = timezone.now() + timedelta(days=2)
    r = as_persona("operator_a").post(
        reverse("referrals:act", args=[accepted.pk, "relocation"]),
        {
            "mode": "train",
            "departs_at": _local(soon),
            "arrives_at": _local(soon + timedelta(hours=9)),
            "carriers": [personas["operator_a"].user.pk],
        },  # fmt: skip
    )
    assert r.status_code == 302
    reloc = Relocation.objects.get(referral=accepted)
    assert reloc.mode == "train" and reloc.arrives_at - reloc.departs_at == timedelta(hours=9)


@pytest.mark.parametrize("who", ["facilitator_a", "analyst_b"])
def test_roles_outside_case_work_still_cannot_plan(personas, accepted, as_persona, who):
    r = as_persona(who).post(
        reverse("referrals:act", args=[accepted.pk, "relocation"]), {"mode": "train"}
    )
    assert r.status_code in (403, 404)
    assert not Relocation.objects.exists()


# --- the carriers' sight of the address ends (issue 14) ---------------------------------------


def _carrier_sees(as_persona, ref) -> bool:
    url = reverse("referrals:detail", args=[ref.pk])
    return ADDRESS in as_persona("operator_a").get(url).content.decode()


def _plan_times(personas, ref, **times):
    return services.relocation_plan(by=personas["operator_a"].principal, referral=ref,
                                    mode="train", carriers=[personas["operator_a"].user],
                                    **times)  # fmt: skip


def test_a_carrier_loses_the_address_hours_after_the_expected_arrival(
    personas, accepted, as_persona
):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    _plan_times(personas, accepted, departs_at=now - timedelta(hours=20),
                arrives_at=now - timedelta(hours=11))  # fmt: skip
    assert _carrier_sees(as_persona, accepted)  # 11 h after: still on the way, perhaps
    _plan_times(personas, accepted, departs_at=now - timedelta(hours=20),
                arrives_at=now - timedelta(hours=13))  # fmt: skip
    assert not _carrier_sees(as_persona, accepted)  # she never arrived: the window closed
    # ...though the shelter's own staff still see it.
    url = reverse("referrals:detail", args=[accepted.pk])
    assert ADDRESS in as_persona("caseworker_b").get(url).content.decode()


def test_without_times_the_window_runs_from_the_plan(personas, accepted, as_persona, settings):
    from datetime import timedelta

    from django.utils import timezone

    reloc = _plan_times(personas, accepted)
    assert _carrier_sees(as_persona, accepted)
    Relocation.objects.filter(pk=reloc.pk).update(created_at=timezone.now() - timedelta(hours=13))
    assert not _carrier_sees(as_persona, accepted)
    settings.REFUGE_CARRIER_ADDRESS_HOURS = 24
    assert _carrier_sees(as_persona, accepted)


def test_the_address_api_refuses_a_carrier_after_the_window(personas, accepted):
    from datetime import timedelta

    from django.utils import timezone

    from refuge.directory.selectors import can_see_address

    facility = accepted.accepted_target.facility
    _plan_times(personas, accepted, arrives_at=timezone.now() - timedelta(hours=13))
    assert not can_see_address(personas["operator_a"].principal, facility)


def test_an_arrival_before_the_departure_is_refused(personas, accepted):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    with pytest.raises(ServiceError):
        _plan_times(personas, accepted, departs_at=now, arrives_at=now - timedelta(hours=1))
