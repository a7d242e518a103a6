from django.core.management.base import BaseCommand

from refuge.core.crypto import master_keys
from refuge.core.services import master_key_rotate


class Command(BaseCommand):
    help = (
        "Re-wrap every data key (and re-seal confidential facility locations) with the first "
        "(active) key in REFUGE_MASTER_KEY. Put the new key "
        "first and keep the old one after it until this has run; then remove the old one."
    )

    def handle(self, *args, **options):
        from refuge.directory.services import facility_locations_reseal

        count = master_key_rotate(by=None)
        sealed = facility_locations_reseal()
        self.stdout.write(
            f"Re-wrapped {count} data keys and re-sealed {sealed} confidential facility "
            f"locations with master key {master_keys().active_id!r}."
        )
