from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "refuge.cases"
    label = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from refuge.core.shred_ledger import register_after_reapply
        from refuge.vacancies.availability import register_occupancy_source
        from refuge.vacancies.beds import register_bed_claims

        from .occupancy import beds_taken, stays_occupancy
        from .retention import forget_blind_indexes

        register_occupancy_source(stays_occupancy)
        register_bed_claims(beds_taken)
        register_after_reapply(forget_blind_indexes)
