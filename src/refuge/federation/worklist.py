"""Cross-network referrals on the worklist (refuge.notifications.worklist), registered into it
so that it learns of federation through its own registry, as the notices do.

Two kinds, each derived from the rows at the moment of reading, each within the reader's
organisation:

* ``federation_received``: a peer's referrals to a facility of the reader's organisation still
  waiting for its answer (case staff, as local referrals waiting);
* ``federation_sent``: the reader's own referrals to peers that were answered in the last week,
  and those waiting on a peer that has stopped answering (the people who refer).

Items name the peer and the facility, the household's shape as the offer carried it, a case
code at most; never a name or a place.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from refuge.core.roles import can_search_placements, can_view_cases
from refuge.notifications.worklist import LIMIT, Item, Kind, Reading, register_kind

# How long an answered referral stays on its sender's list (as a partner's ended requests do).
ANSWERED_DAYS = 7


def received(r: Reading) -> list[Item]:
    """Referrals from trusted peers to our organisation's facilities, not answered yet."""
    from .models import IncomingReferral

    rows = list(
        IncomingReferral.objects.filter(
            facility__organisation_id=r.p.org_id,
            status=IncomingReferral.Status.OPEN,
            peer__trusted=True,
        )
        .select_related("peer", "facility")
        .order_by("received_at", "pk")[: LIMIT + 1]
    )
    return [
        Item(
            kind="federation_received",
            key=f"federation_received:{row.pk}:{row.status}",
            nav="federation:referrals",
            row=row,
            at=row.received_at,
            urgent=True,
            template="federation/worklist/received.html",
            sheet_template="federation/worklist/received_line.html",
        )
        for row in rows
    ]


def sent(r: Reading) -> list[Item]:
    """The reader's referrals to peers: answered in the last week, or waiting on a peer that
    has not answered our messages lately (refuge.federation.selectors)."""
    from refuge.referrals.models import DeclineReason

    from .models import OutgoingReferral
    from .selectors import silent_peers

    silent = silent_peers(now=r.at)
    answered = [OutgoingReferral.Status.ACCEPTED, OutgoingReferral.Status.DECLINED]
    rows = list(
        OutgoingReferral.objects.filter(from_org_id=r.p.org_id, created_by=r.p.name)
        .filter(
            Q(status__in=answered, answered_at__gte=r.at - timedelta(days=ANSWERED_DAYS))
            | Q(status=OutgoingReferral.Status.SENT, peer_id__in=list(silent))
        )
        .select_related("peer", "client")
        .order_by("-answered_at", "created_at", "pk")[: LIMIT + 1]
    )
    labels = dict(DeclineReason.choices)
    items = []
    for row in rows:
        silence = silent.get(row.peer_id) if row.status == OutgoingReferral.Status.SENT else None
        items.append(
            Item(
                kind="federation_sent",
                key=f"federation_sent:{row.pk}:{row.status}:{bool(silence)}",
                nav="federation:referrals",
                row=row,
                at=row.answered_at or row.created_at,
                urgent=row.status != OutgoingReferral.Status.SENT,
                extra={
                    "silence": silence,
                    "reason": labels.get(row.decline_reason, ""),
                },
                template="federation/worklist/sent.html",
                sheet_template="federation/worklist/sent_line.html",
            )
        )
    return items


def register() -> None:
    register_kind(
        Kind(
            "federation_received",
            _("Referrals from other networks waiting for your answer"),
            "federation:referrals",
            can_view_cases,
            received,
        ),
        after="referral",
        facility_of=lambda item: item.row.facility_id,
    )
    register_kind(
        Kind(
            "federation_sent",
            _("Your referrals to other networks"),
            "federation:referrals",
            can_search_placements,
            sent,
        ),
        after="sent",
    )
