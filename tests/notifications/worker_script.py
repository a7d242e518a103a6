"""Drive real `refuge worker` processes against a real database for test_kill.py and the bench.

  worker_script.py setup USERS EVENTS   migrate; USERS staff with email on; EVENTS referral-like
                                        events each notifying every one of them (USERS × EVENTS)
  worker_script.py work [WORKER_ID]     a worker with a short lease and a sweep every 2 s
  worker_script.py status               JSON counts of the outbox by status

Environment: REFUGE_MODE=demo and REFUGE_HOME (SQLite file) or DATABASE_URL; REFUGE_EMAIL_URL.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refuge.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402


def setup(users: int, events: int) -> dict:
    from refuge.core.roles import OrgKind, Role
    from refuge.core.services import organisation_create, staff_create
    from refuge.notifications.models import ChannelSettings
    from refuge.notifications.services import notify

    call_command("migrate", verbosity=0)
    org = organisation_create(by=None, slug="bench-hub", name="Hub", kind=OrgKind.HUB)
    for i in range(users):
        u = staff_create(
            by=None,
            organisation=org,
            username=f"coord{i}",
            role=Role.COORDINATOR,
            email=f"coord{i}@example.org",
            password="x" * 20,
        ).user
        ChannelSettings.objects.create(user=u, email=True)
    for i in range(events):
        with transaction.atomic():
            notify(event="partner_request.created", about=("referrals.partnerrequest", f"b{i}"))
    return {"users": users, "events": events}


def work(worker_id: str) -> None:
    from refuge.notifications import scheduler

    settings.REFUGE_NOTIFY_LEASE_SECONDS = float(os.environ.get("REFUGE_TEST_LEASE", "3"))
    settings.REFUGE_NOTIFY_SWEEP_GRACE_SECONDS = 1
    sweep = scheduler.JOBS["outbox-sweep"]
    scheduler.JOBS["outbox-sweep"] = scheduler.Job(sweep.name, 2, sweep.run)
    call_command("worker", "--interval", "0.05", "--tick", "1", "--worker-id", worker_id)


def status() -> dict:
    from django.db.models import Count

    from refuge.notifications.models import Delivery, Event

    rows = Delivery.objects.exclude(channel="app").values("status").annotate(n=Count("pk"))
    return {
        "by_status": {r["status"]: r["n"] for r in rows},
        "undispatched": Event.objects.filter(dispatched_at__isnull=True).count(),
    }


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "setup":
        print(json.dumps(setup(int(sys.argv[2]), int(sys.argv[3]))))
    elif cmd == "work":
        work(sys.argv[2] if len(sys.argv) > 2 else "w")
    else:
        print(json.dumps(status()))
