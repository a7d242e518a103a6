"""SPEC S1: a confidential address only to the facility's own staff (and, through a grant,
to the people carrying out a placement there); every display audited."""

import pytest

from refuge.core.models import AuditEvent
from refuge.directory import selectors
from tests.directory.factories import make_facility

SECRET = "Secret lane 7"


@pytest.fixture
def confidential(orgs):
    return make_facility(
        orgs["a"],
        "Hidden house",
        address=SECRET,
        locality="Hiddenville",
        latitude=55.1,
        longitude=37.2,
    )


def _reads(facility):
    return AuditEvent.objects.filter(action="facility.address_read", target_id=str(facility.pk))


def _page(as_persona, who, facility):
    response = as_persona(who).get(f"/directory/{facility.pk}/")
    # Analysts have no directory at all (aggregate figures only), nor partners and facilitators
    # (professionals-only addresses and phones).
    outside = who.startswith(("analyst", "partner", "facilitator"))
    assert response.status_code == (403 if outside else 200)
    return response.content.decode()


@pytest.mark.parametrize("who", ["caseworker_a", "manager_a", "operator_a", "coordinator_a"])
def test_own_staff_see_a_confidential_address_and_each_display_is_audited(
    confidential, as_persona, who
):
    assert SECRET in _page(as_persona, who, confidential)
    assert SECRET in _page(as_persona, who, confidential)
    events = _reads(confidential)
    assert events.count() == 2
    assert events.first().actor == who.replace("_", "-")
    assert SECRET not in str(events.first().details)


@pytest.mark.parametrize(
    "who",
    [
        "caseworker_b",
        "manager_b",
        "operator_b",
        "coordinator_b",
        "admin_b",
        "partner_a",
        "facilitator_a",
        "analyst_a",
        "admin_a",
    ],
)
def test_nobody_else_sees_it_not_even_other_roles_of_the_same_organisation(
    confidential, as_persona, who
):
    page = _page(as_persona, who, confidential)
    assert SECRET not in page and "Hiddenville" not in page and "55.1" not in page
    assert not _reads(confidential).exists()


def test_professionals_only_addresses(orgs, as_persona):
    f = make_facility(
        orgs["a"], "Pro house", address="Pro street 3", address_visibility="professionals"
    )
    for who in ("operator_b", "caseworker_b", "coordinator_b"):
        assert "Pro street 3" in _page(as_persona, who, f)
    for who in ("partner_b", "facilitator_b", "analyst_b"):
        assert "Pro street 3" not in _page(as_persona, who, f)
    assert not _reads(f).exists()  # only confidential displays are audited


def test_public_addresses_are_shown_to_everyone(orgs, as_persona):
    f = make_facility(
        orgs["a"], "Open office", address="Open street 1", address_visibility="public"
    )
    assert "Open street 1" in _page(as_persona, "caseworker_b", f)
    assert "Open street 1" in _page(as_persona, "admin_b", f)


def test_a_placement_grant_opens_the_address_to_the_people_carrying_it_out(
    confidential, personas, as_persona
):
    caseworker_b = personas["caseworker_b"]

    def grant(p, facility):
        return p.user == caseworker_b.user and facility.pk == confidential.pk

    selectors.register_address_grant(grant)
    try:
        assert SECRET in _page(as_persona, "caseworker_b", confidential)
        assert SECRET not in _page(as_persona, "operator_b", confidential)
        # Even with a grant, roles that never see addresses do not.
        assert not selectors.can_see_address(personas["partner_b"].principal, confidential)
    finally:
        selectors.unregister_address_grant(grant)
    assert SECRET not in _page(as_persona, "caseworker_b", confidential)
    assert _reads(confidential).count() == 1


def test_the_board_and_the_list_never_show_a_confidential_locality(confidential, as_persona):
    for who in ("caseworker_a", "coordinator_b"):
        client = as_persona(who)
        for url in ("/vacancies/", "/directory/"):
            page = client.get(url).content.decode()
            assert "Hidden house" in page
            assert "Hiddenville" not in page and SECRET not in page
    assert not _reads(confidential).exists()
