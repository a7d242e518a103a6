from django.core.management.base import BaseCommand
from django.utils import timezone

from refuge.core.models import ApiKey


class Command(BaseCommand):
    help = "List API keys: prefix, label, organisation, role, created, last used, expiry, status."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="only this organisation's keys (slug)")

    def handle(self, *args, org, **options):
        keys = ApiKey.objects.select_related("organisation").order_by("organisation__slug", "pk")
        if org:
            keys = keys.filter(organisation__slug=org)
        now = timezone.now()
        self.stdout.write(
            f"{'prefix':<14}{'label':<24}{'organisation':<22}{'role':<13}"
            f"{'created':<12}{'last used':<12}{'expires':<12}status"
        )
        for k in keys:
            if k.revoked_at:
                status = f"revoked ({k.revoked_reason})"
            elif k.expires_at <= now:
                status = "expired"
            else:
                status = "active"
            last = k.last_used_at.date().isoformat() if k.last_used_at else "-"
            self.stdout.write(
                f"{k.prefix:<14}{k.name[:23]:<24}{k.organisation.slug[:21]:<22}{k.role:<13}"
                f"{k.created_at.date().isoformat():<12}{last:<12}"
                f"{k.expires_at.date().isoformat():<12}{status}"
            )
