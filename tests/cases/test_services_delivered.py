from datetime import date, timedelta

import pytest
from django.urls import reverse

from refuge.cases import selectors, services
from refuge.cases.models import ServiceDelivery
from refuge.core.services import ServiceError


@pytest.fixture
def client(personas):
    c = services.client_create(by=personas["caseworker_a"].principal, name="Dilnoza")
    services.client_update(
        by=personas["caseworker_a"].principal, client=c, residence_region="CZ-10"
    )
    return c


def test_one_tap_records_a_consultation_today(client, as_persona):
    r = as_persona("caseworker_a").post(
        reverse("cases:services", args=[client.case_code]), {"kind": "legal", "channel": "phone"}
    )
    assert r.status_code == 302
    row = ServiceDelivery.objects.get()
    assert (row.kind, row.channel, row.delivered_on) == ("legal", "phone", date.today())


def test_interpretation_needs_its_language_and_the_future_is_refused(personas, client):
    p = personas["caseworker_a"].principal
    with pytest.raises(ServiceError) as exc:
        services.service_record(by=p, client=client, kind="interpretation")
    assert exc.value.code == "language_required"
    with pytest.raises(ServiceError):
        services.service_record(
            by=p, client=client, kind="legal", delivered_on=date.today() + timedelta(days=1)
        )
    services.service_record(by=p, client=client, kind="interpretation", language="uk", minutes=45)


def test_counts_name_nobody(personas, client, orgs):
    p = personas["caseworker_a"].principal
    for kind in ("legal", "legal", "social", "accompaniment_court"):
        services.service_record(by=p, client=client, kind=kind)
    rows = selectors.service_counts(by=("kind", "region"))
    assert {(r["kind"], r["client__residence_region"], r["n"], r["clients"]) for r in rows} == {
        ("legal", "CZ-10", 2, 1),
        ("social", "CZ-10", 1, 1),
        ("accompaniment_court", "CZ-10", 1, 1),
    }
    assert all(set(r) == {"kind", "client__residence_region", "n", "clients"} for r in rows)
    assert selectors.service_counts(organisations=[orgs["b"]]) == []


def test_counts_for_network_figures_take_consent_and_region(personas, client):
    p = personas["caseworker_a"].principal
    other = services.client_create(by=p, name="Aigerim")
    services.client_update(by=p, client=other, residence_region="KG-GB")
    for c in (client, other):
        services.service_record(by=p, client=c, kind="legal")
    client.reporting_consent = True
    client.save(update_fields=["reporting_consent"])

    def total(**kw):
        return sum(r["n"] for r in selectors.service_counts(**kw))

    assert total() == 2
    assert total(consented_only=True) == 1  # only Dilnoza agreed to be counted
    assert total(region="CZ") == 1 and total(region="CZ-10") == 1  # a country, a region
    assert total(region="KG-GB") == 1 and total(region="KG-C") == 0
    assert total(consented_only=True, region="KG") == 0
