from datetime import date

import pytest

from refuge.programmes import services


@pytest.fixture
def programme(personas, orgs):
    """A programme of org a whose partners are supported by org b's caseworkers."""
    return services.programme_create(
        by=personas["facilitator_a"].principal,
        organisation=orgs["a"],
        name="Ekaterina DVPP",
        partner_support_org=orgs["b"],
        accreditation="Respect",
    )


@pytest.fixture
def group(personas, programme):
    return services.group_create(
        by=personas["facilitator_a"].principal,
        programme=programme,
        name="Tuesday group",
        start_date=date(2026, 9, 1),
        facilitators=[personas["facilitator_a"].user],
    )


@pytest.fixture
def participant(personas, group):
    return services.participant_enrol(
        by=personas["facilitator_a"].principal,
        group=group,
        name="Sergei Orlov",
        referral_source="court",
        partner_name="Irina Orlova",
        partner_contact="+7 900 123 45 67 after 18:00, says 'from the clinic'",
    )
