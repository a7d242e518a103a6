"""Notifications' pages: everyone has her own settings; managers see failures and set the rota;
coordinators set the escalation; the webhook answers only to Telegram's secret. The worklist's
live parts and daily sheets (refuge.notifications.worklist_urls)."""

import uuid

from refuge.core.roles import Role as R
from tests.directory.factories import make_facility
from tests.matrix_base import ALL_ROLES, Case, roles

_ANY = {"delivery_id": str(uuid.uuid4())}

CASES = [
    Case("notifications:mine", allowed=ALL_ROLES),
    # An unknown item is not an error: back to her notifications.
    Case("notifications:open", method="post", allowed=ALL_ROLES, ok=302, setup=lambda c: _ANY),
    # Not set up in tests (no bot token): back to her page with a message.
    Case("notifications:telegram_link", method="post", allowed=ALL_ROLES, ok=302),
    Case("notifications:telegram_unlink", method="post", allowed=ALL_ROLES, ok=302),
    # No secret header: 403 for everyone, signed in or not.
    Case("notifications:telegram_webhook", method="post", ok=403, denied=403, anon=403),
    Case("notifications:push_subscribe", method="post", allowed=ALL_ROLES, ok=400),
    Case("notifications:push_unsubscribe", method="post", allowed=ALL_ROLES, ok=302),
    # The service worker is public: it carries no data.
    Case("notifications:service_worker", ok=200, denied=200, anon=200),
    Case("notifications:failed", allowed=roles(R.MANAGER)),
    Case("notifications:rota", allowed=roles(R.MANAGER)),
    Case("notifications:policy", allowed=roles(R.COORDINATOR)),
    # Everyone signed in has a worklist (empty for the roles with no kind of item).
    Case("worklist:items", allowed=ALL_ROLES),
    Case("worklist:counts", allowed=ALL_ROLES),
    Case("worklist:sheet_network", allowed=roles(R.COORDINATOR)),
    # A facility's sheet is for its own staff (another organisation's facility: 404).
    Case(
        "worklist:sheet_facility",
        setup=lambda ctx: {
            "facility_id": make_facility(ctx.orgs["a"], "Own house", rooms=[("family", 2)]).pk
        },
        allowed=roles(R.CASEWORKER, R.MANAGER),
    ),
]
