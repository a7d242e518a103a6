from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "refuge.federation"
    label = "federation"
    verbose_name = "Federation between networks"

    def ready(self) -> None:
        from refuge.referrals.hooks import register_hold_table
        from refuge.referrals.search import register_candidate_source
        from refuge.vacancies.board import register_other_source

        from . import handover, notices, referrals, travel
        from .directory import board_facilities, peer_candidates
        from .models import IncomingReferral

        # Placement search and the vacancy board learn of peers' facilities through these
        # registries only.
        register_candidate_source(peer_candidates)
        register_other_source(board_facilities)
        # A peer's referral accepted here holds its bed as a local referral's hold does: the
        # board, the search and every service that takes a bed count it.
        register_hold_table(IncomingReferral)
        referrals.register()
        handover.register()
        travel.register()
        notices.register()
