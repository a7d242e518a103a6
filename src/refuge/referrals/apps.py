from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "refuge.referrals"
    label = "referrals"
    verbose_name = "Referrals and placement"

    def ready(self) -> None:
        from refuge.cases.selectors import register_client_visibility
        from refuge.directory.selectors import register_address_grant
        from refuge.vacancies.availability import register_occupancy_source
        from refuge.vacancies.beds import register_bed_claims

        from . import hooks

        register_occupancy_source(hooks.holds_occupancy)
        register_bed_claims(hooks.beds_held)
        register_address_grant(hooks.carries_out_placement)
        register_client_visibility(hooks.clients_referred_to)
