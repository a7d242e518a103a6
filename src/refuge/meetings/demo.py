"""A Vologda-style area: the hub coordinates, police and Kitezh take part; one meeting ahead."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from refuge.cases.models import Client
from refuge.core.access import Principal
from refuge.core.models import Organisation, User
from refuge.meetings import selectors, services
from refuge.meetings.models import Area


def load(stdout) -> None:
    if Area.objects.exists() or not Organisation.objects.filter(slug="coalition-hub").exists():
        return
    hub = Organisation.objects.get(slug="coalition-hub")
    members = list(
        Organisation.objects.filter(slug__in=["vologda-police", "kitezh", "coalition-hub"])
    )
    area = services.area_create(
        by=None, name="Vologda oblast and Moscow network", coordinator_org=hub, members=members
    )
    coordinator = Principal.for_user(User.objects.get(username="coordinator"))
    meeting = services.meeting_schedule(
        by=coordinator, area=area, on=timezone.localdate() + timedelta(days=6)
    )
    worker = Principal.for_user(User.objects.get(username="caseworker"))
    police = Organisation.objects.get(slug="vologda-police")
    for client in selectors.proposals_due(worker)[:3]:
        item = services.agenda_propose(
            by=worker,
            meeting=meeting,
            client=Client.objects.get(pk=client.pk),
            summary="High risk after separation; he knows her workplace. "
            "Two children at primary school.",
        )
        services.agenda_decide(by=coordinator, item=item, accept=True)
        services.action_assign(
            by=coordinator,
            item=item,
            organisation=police,
            description="Check on the "
            "restraining order and patrol near the school at pick-up time.",
            due_on=meeting.date + timedelta(days=7),
        )
    stdout.write("Demo risk meeting scheduled.")
