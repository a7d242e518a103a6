from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "refuge.federation"
    label = "federation"
    verbose_name = "Federation between networks"

    def ready(self) -> None:
        from refuge.referrals.hooks import register_hold_table
        from refuge.referrals.search import register_candidate_source

        from . import handover, notices, referrals, travel
        from .directory import peer_candidates
        from .models import IncomingReferral

        # Placement search learns of peers' facilities through this registry only.
        register_candidate_source(peer_candidates)
        # A peer's referral accepted here holds its bed as a local referral's hold does: the
        # board, the search and every service that takes a bed count it.
        register_hold_table(IncomingReferral)
        referrals.register()
        handover.register()
        travel.register()
        notices.register()
