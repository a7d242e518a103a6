"""Who sees which figures: the *basis* of a principal's insights.

* coordinator: the whole network. Figures about women count only those who agreed to be counted
  in network statistics (``Client.reporting_consent``); nothing is suppressed.
* manager: their own organisation's figures, every record of it (it is their own work).
* analyst: the *reporting* basis: organisations that take part in network exports
  (``Organisation.in_network_exports``), consented women only, small cells suppressed, whole
  calendar quarters only (see periods.py). Exports use this basis for everyone.

Every query of figures.py goes through the ``*_q`` helpers here, so no table forgets a rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from refuge.core.access import Principal, require
from refuge.core.models import Organisation
from refuge.core.roles import Role, can_view_insights

from . import conf

NETWORK, ORGANISATION, REPORTING = "network", "organisation", "reporting"


@dataclass(frozen=True)
class Basis:
    scope: str
    org_id: int | None = None
    org_name: str = ""
    consent_only: bool = False
    opted_in_only: bool = False
    suppress: bool = False
    threshold: int = 5

    @property
    def fixed_periods(self) -> bool:
        """Whole completed quarters only (anything suppressed is published for good)."""
        return self.suppress

    def org_q(self, path: str) -> Q:
        """Rows owned by an organisation in scope; ``path`` leads to the Organisation."""
        q = Q()
        if self.org_id is not None:
            q &= Q(**{f"{path}_id": self.org_id})
        if self.opted_in_only:
            q &= Q(**{f"{path}__in_network_exports": True})
        return q

    def organisations(self) -> QuerySet[Organisation]:
        """The organisations in scope (for selectors of other apps that take a queryset)."""
        qs = Organisation.objects.all()
        if self.org_id is not None:
            qs = qs.filter(pk=self.org_id)
        if self.opted_in_only:
            qs = qs.filter(in_network_exports=True)
        return qs

    def consent_q(self, path: str) -> Q:
        """Rows about a woman who may be counted; ``path`` leads to the cases.Client."""
        return Q(**{f"{path}__reporting_consent": True}) if self.consent_only else Q()

    def describe(self) -> str:
        if self.scope == ORGANISATION:
            return _("Your organisation's figures: %(org)s.") % {"org": self.org_name}
        if self.scope == NETWORK:
            return _(
                "The whole network. Figures about women count those who agreed to be counted "
                "in network statistics."
            )
        return _(
            "Network figures as published: organisations that take part in network exports, "
            "women who agreed to be counted, each woman once. Counts below %(n)s, and counts "
            "from which they could be worked out, are hidden."
        ) % {"n": self.threshold}


def basis_for(p: Principal) -> Basis:
    """The basis of the principal's dashboard (403 for roles without insights)."""
    require(p, can_view_insights)
    if p.role == Role.ANALYST:
        return reporting_basis()
    if p.role == Role.MANAGER:
        return Basis(
            ORGANISATION,
            org_id=p.org_id,
            org_name=p.organisation.name if p.organisation else "",
            threshold=conf.small_cell_threshold(),
        )
    return Basis(NETWORK, consent_only=True, threshold=conf.small_cell_threshold())


def reporting_basis() -> Basis:
    """Analysts' dashboards and every export, whoever downloads it."""
    return Basis(
        REPORTING,
        consent_only=True,
        opted_in_only=True,
        suppress=True,
        threshold=conf.small_cell_threshold(),
    )


def referral_scope_q(basis: Basis) -> Q:
    """Referrals in scope: a manager's organisation sent them or was asked to take her."""
    from refuge.referrals.models import ReferralTarget

    q = basis.consent_q("client")
    if basis.opted_in_only:
        q &= Q(from_org__in_network_exports=True)
    if basis.org_id is not None:
        asked = ReferralTarget.objects.filter(
            referral=OuterRef("pk"), facility__organisation_id=basis.org_id
        )
        q &= Q(from_org_id=basis.org_id) | Q(Exists(asked))
    return q
