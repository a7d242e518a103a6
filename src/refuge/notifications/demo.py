"""Demo: every member of staff hears of new items by email (the demo prints mail to the
console unless REFUGE_EMAIL_URL points at an SMTP server)."""

from __future__ import annotations

from refuge.core.models import User
from refuge.notifications.models import ChannelSettings


def load(stdout) -> None:
    made = 0
    for user in User.objects.filter(is_active=True).exclude(email=""):
        _, created = ChannelSettings.objects.get_or_create(user=user, defaults={"email": True})
        made += created
    stdout.write(f"Notification settings for {made} members of staff (email on).")
