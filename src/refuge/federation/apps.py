from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "refuge.federation"
    label = "federation"
    verbose_name = "Federation between networks"

    def ready(self) -> None:
        from refuge.referrals.search import register_candidate_source
        from refuge.vacancies.board import register_other_source

        from . import handover, notices, referrals, travel
        from .directory import board_facilities, peer_candidates

        # Placement search and the vacancy board learn of peers' facilities through these
        # registries only.
        register_candidate_source(peer_candidates)
        register_other_source(board_facilities)
        referrals.register()
        handover.register()
        travel.register()
        notices.register()
