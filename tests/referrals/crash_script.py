"""Kill the process (SIGKILL) in the middle of a placement and let the caller inspect the
database. Usage: crash_script.py setup|accept|arrive|state

- setup: a referral to two facilities with holds (ids printed as JSON)
- accept: start accepting, and die after the target is marked but before the others are
  withdrawn and the referral is updated
- arrive: start the arrival, and die after her case moved but before the stay exists
- state: print what the database holds now
"""

from __future__ import annotations

import json
import os
import signal
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refuge.settings")
import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def main(step: str) -> None:
    from refuge.cases.models import Client, Stay
    from refuge.core.access import Principal
    from refuge.core.models import User
    from refuge.referrals import services
    from refuge.referrals.models import Referral, ReferralTarget

    if step == "setup":
        call_command("migrate", verbosity=0)
        from refuge.cases.services import client_create
        from refuge.core.roles import OrgKind
        from refuge.core.services import organisation_create, staff_create
        from refuge.directory.services import facility_create
        from refuge.vacancies.services import availability_settings_update, room_create

        hub = organisation_create(by=None, slug="hub", name="Hub", kind=OrgKind.HUB)
        shelter = organisation_create(by=None, slug="shelter", name="Shelter", kind=OrgKind.SHELTER)
        op = Principal.for_user(
            staff_create(
                by=None,
                organisation=hub,
                username="op",
                role="operator",
                password="crash-password-123",
            ).user
        )
        staff_create(
            by=None,
            organisation=shelter,
            username="cw",
            role="caseworker",
            password="crash-password-123",
        )
        ids = []
        for name in ("A", "B"):
            f = facility_create(
                by=None,
                organisation=shelter,
                name=name,
                kind="crisis_centre_shelter",
                region="RU-YAR",
            )
            room_create(by=None, facility=f, name="Room", kind="dorm", beds=1)
            availability_settings_update(by=None, facility=f, source="system", ttl_hours=24)
            ids.append(str(f.pk))
        ref = services.referral_create(
            by=op, client=client_create(by=op), household={"woman_age": 30}, facility_ids=ids
        )
        print(json.dumps({"referral": str(ref.pk), "facilities": ids}))
        return
    cw = Principal.for_user(User.objects.get(username="cw"))
    ref = Referral.objects.get()
    if step == "accept":
        target = ref.targets.order_by("facility__name").first()
        original = ReferralTarget.save

        def save_then_die(self, *args, **kwargs):
            original(self, *args, **kwargs)
            if self.status == "accepted":
                die()

        ReferralTarget.save = save_then_die
        services.referral_accept(by=cw, referral=ref, facility=target.facility)
    elif step == "accept_ok":
        services.referral_accept(
            by=cw, referral=ref, facility=ref.targets.order_by("facility__name").first().facility
        )
    elif step == "arrive":
        import refuge.referrals.services as svc

        svc.stay_admit = die  # the case has moved, the stay is next: the process dies here
        services.referral_arrive(by=cw, referral=ref)
    elif step == "finish":
        target = ref.targets.order_by("facility__name").first()
        if ref.status == "open":
            services.referral_accept(by=cw, referral=ref, facility=target.facility)
        services.referral_arrive(by=cw, referral=Referral.objects.get())
    ref = Referral.objects.get()
    client = Client.objects.get(pk=ref.client_id)
    print(
        json.dumps(
            {
                "referral": ref.status,
                "targets": sorted((t.status, t.hold_active) for t in ref.targets.all()),
                "client_org": client.organisation.slug,
                "stays": Stay.objects.filter(client=client).count(),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
