from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "refuge.federation"
    label = "federation"
    verbose_name = "Federation between networks"

    def ready(self) -> None:
        from refuge.referrals.search import register_candidate_source

        from . import handover, notices, referrals, travel
        from .directory import peer_candidates

        # Placement search learns of peers' facilities through this registry only.
        register_candidate_source(peer_candidates)
        referrals.register()
        handover.register()
        travel.register()
        notices.register()
