"""The audit log in words: each event as a sentence a manager can read.

"Olga Ivanova, hotline operator, Coalition hotline, read the profile of case RF-7K2Q." The
names are resolved for a whole page at once (one query per kind of record, never one per row),
and only from what the reader may know: case codes (pseudonymous) rather than client names, and
nothing is decrypted. A record that was erased or no longer exists is said to be so.

Sentences are built from translated templates with ``%(name)s`` placeholders; every value put
into them is escaped, and names are wrapped in ``<bdi>`` so a name in another script does not
reorder the sentence around it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import Q
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from refuge.core.models import ApiKey, AuditEvent, Organisation, User
from refuge.core.roles import Role

if TYPE_CHECKING:
    from refuge.core.access import Principal

# How many case codes a list read shows before it folds the rest into a count.
LIST_SHOWN = 10

# What was read, by the ``what`` the access helper wrote ("read the profile of case RF-…").
READS = {
    "profile": gettext_lazy("read the profile of %(target)s"),
    "notes": gettext_lazy("read the notes of %(target)s"),
    "risk": gettext_lazy("read the risk assessments of %(target)s"),
    "consent": gettext_lazy("read the consents of %(target)s"),
    "household": gettext_lazy("read the household of %(target)s"),
    "aftercare": gettext_lazy("read the aftercare of %(target)s"),
    "services": gettext_lazy("read the services given to %(target)s"),
    "stays": gettext_lazy("read the stays of %(target)s"),
    "safety_plan": gettext_lazy("read the safety plan of %(target)s"),
    "safety_plan_print": gettext_lazy("printed the safety plan of %(target)s"),
    "close": gettext_lazy("opened the closing form of %(target)s"),
    "erase": gettext_lazy("opened the erasure form of %(target)s"),
    "legal_hold": gettext_lazy("opened the legal hold form of %(target)s"),
    "placement_search": gettext_lazy("searched for a place for %(target)s"),
    "referral": gettext_lazy("read %(target)s to refer her"),
    "referral_shared": gettext_lazy("read what a referral shared about %(target)s"),
    "waitlist": gettext_lazy("read %(target)s to put her on a waiting list"),
    "survivor_copy": gettext_lazy("prepared her own copy of the record of %(target)s"),
    "outcome_survey": gettext_lazy("read %(target)s for an outcome survey"),
    "meeting_item": gettext_lazy("read %(target)s on a meeting's agenda"),
    "attempt": gettext_lazy("read %(target)s to record a call attempt"),
    "break_glass_page": gettext_lazy("opened %(target)s under break-glass"),
}
READ_OTHER = gettext_lazy("read %(target)s")

# Every other action by its code. An action missing here is still shown, by its code.
ACTIONS = {
    # signing in and accounts
    "auth.sign_in": gettext_lazy("signed in"),
    "auth.sign_out": gettext_lazy("signed out"),
    "auth.sign_in_failed": gettext_lazy("failed to sign in"),
    "auth.lockout": gettext_lazy("was locked out after failed sign-ins"),
    "auth.unlock": gettext_lazy("unlocked %(target)s"),
    "auth.unlock_link_sent": gettext_lazy("was sent an unlock link for %(target)s"),
    "auth.reauthenticated": gettext_lazy("confirmed her password again"),
    "auth.password_change": gettext_lazy("changed the password of %(target)s"),
    "auth.second_factor_enrolled": gettext_lazy("set up a second factor for %(target)s"),
    "staff.create": gettext_lazy("created %(target)s"),
    "staff.activate": gettext_lazy("changed whether %(target)s is active"),
    "staff.reset_password": gettext_lazy("reset the password of %(target)s"),
    "staff.reset_second_factor": gettext_lazy("reset the second factor of %(target)s"),
    "api_key.create": gettext_lazy("created %(target)s"),
    "api_key.revoke": gettext_lazy("revoked %(target)s"),
    "break_glass.open": gettext_lazy("opened %(target)s"),
    "break_glass.close": gettext_lazy("ended %(target)s"),
    "break_glass.account": gettext_lazy("created or reset an account under %(target)s"),
    "organisation.create": gettext_lazy("created %(target)s"),
    "organisation.rename": gettext_lazy("renamed %(target)s"),
    "organisation.profile_update": gettext_lazy("updated the profile of %(target)s"),
    "organisation.phone_add": gettext_lazy("added a phone number to %(target)s"),
    # cases
    "client.create": gettext_lazy("opened %(target)s"),
    "client.update": gettext_lazy("updated %(target)s"),
    "client.close": gettext_lazy("closed %(target)s"),
    "client.erase": gettext_lazy("erased %(target)s"),
    "client.legal_hold": gettext_lazy("changed the legal hold on %(target)s"),
    "client.transfer": gettext_lazy("transferred %(target)s"),
    "client.reindex_names": gettext_lazy("rebuilt the name index of the cases"),
    "data_key.shred": gettext_lazy("destroyed the data key of %(target)s"),
    "retention.purge": gettext_lazy("erased %(target)s at the end of its retention period"),
    "shred_ledger.reapply": gettext_lazy("erased %(target)s again from the shred ledger"),
    "note.add": gettext_lazy("added a note to %(target)s"),
    "consent.record": gettext_lazy("recorded a consent of %(target)s"),
    "consent.withdraw": gettext_lazy("recorded a withdrawn consent of %(target)s"),
    "household.add": gettext_lazy("added a household member to %(target)s"),
    "household.remove": gettext_lazy("removed a household member from %(target)s"),
    "other_party.add": gettext_lazy("added another party to %(target)s"),
    "assessment.complete": gettext_lazy("completed a risk assessment of %(target)s"),
    "assessment.judgement": gettext_lazy("raised the risk level of %(target)s by judgement"),
    "incident.record": gettext_lazy("recorded an incident for %(target)s"),
    "safety_plan.save": gettext_lazy("saved the safety plan of %(target)s"),
    "service.record": gettext_lazy("recorded a service given to %(target)s"),
    "aftercare.add": gettext_lazy("planned aftercare for %(target)s"),
    "aftercare.done": gettext_lazy("recorded aftercare given to %(target)s"),
    "stay.admit": gettext_lazy("admitted %(target)s"),
    "stay.discharge": gettext_lazy("recorded the departure of %(target)s"),
    # referrals
    "referral.create": gettext_lazy("sent a referral for %(target)s"),
    "referral.opened": gettext_lazy("opened a referral for %(target)s"),
    "referral.accept": gettext_lazy("accepted a referral for %(target)s"),
    "referral.decline": gettext_lazy("declined a referral for %(target)s"),
    "referral.withdraw": gettext_lazy("withdrew a referral for %(target)s"),
    "evacuation.referral": gettext_lazy("referred %(target)s in an evacuation"),
    "relocation.plan": gettext_lazy("planned the relocation of %(target)s"),
    "waitlist.add": gettext_lazy("put %(target)s on a waiting list"),
    "waitlist.callback": gettext_lazy("called back %(target)s from the waiting list"),
    "turn_away.record": gettext_lazy("recorded a turn-away"),
    "partner_request.create": gettext_lazy("created %(target)s"),
    "partner_request.update": gettext_lazy("updated %(target)s"),
    "search.pattern": gettext_lazy("ran searches that look like a pattern"),
    # facilities and places
    "facility.create": gettext_lazy("created %(target)s"),
    "facility.update": gettext_lazy("updated %(target)s"),
    "facility.address_read": gettext_lazy("read the address of %(target)s"),
    "facility.hours_update": gettext_lazy("updated the opening hours of %(target)s"),
    "facility.rules_update": gettext_lazy("updated the house rules of %(target)s"),
    "facility.services_update": gettext_lazy("updated the services of %(target)s"),
    "facility.phone_add": gettext_lazy("added a phone number to %(target)s"),
    "facility.phone_remove": gettext_lazy("removed a phone number from %(target)s"),
    "facility.phones_replace": gettext_lazy("replaced the phone numbers of %(target)s"),
    "room.create": gettext_lazy("added a room to %(target)s"),
    "room.update": gettext_lazy("updated a room of %(target)s"),
    "availability.report": gettext_lazy("reported the free places of %(target)s"),
    "availability.confirm": gettext_lazy("confirmed the free places of %(target)s"),
    "availability.settings": gettext_lazy("changed the availability settings of %(target)s"),
    "directory.load": gettext_lazy("loaded the directory"),
    "hsds.import": gettext_lazy("imported a directory file"),
    "hsds.export": gettext_lazy("exported the directory"),
    # hotline
    "hotline.call.take": gettext_lazy("took %(target)s"),
    "hotline.call.manual": gettext_lazy("recorded %(target)s by hand"),
    "hotline.wrapup.create": gettext_lazy("wrote the wrap-up of %(target)s"),
    "hotline.callback.create": gettext_lazy("scheduled %(target)s"),
    "hotline.callback.attempt": gettext_lazy("recorded an attempt at %(target)s"),
    "hotline.callback.close": gettext_lazy("closed %(target)s"),
    "hotline.line.create": gettext_lazy("added %(target)s"),
    "hotline.calls.bulk_load": gettext_lazy("loaded calls in bulk"),
    "hotline.extension.assign": gettext_lazy("assigned a phone extension to %(target)s"),
    "hotline.extension.remove": gettext_lazy("removed the phone extension of %(target)s"),
    # notifications
    "notification.settings": gettext_lazy("changed the notification settings of %(target)s"),
    "notification.retry": gettext_lazy("retried %(target)s"),
    "notification.escalate": gettext_lazy("escalated %(target)s"),
    "notification.on_call_set": gettext_lazy("set the on-call rota of %(target)s"),
    "notification.policy_set": gettext_lazy("set the network's notification policy"),
    "notification.push_subscribed": gettext_lazy("subscribed a device of %(target)s to alerts"),
    "notification.push_refused": gettext_lazy("refused a device subscription for %(target)s"),
    "notification.telegram_linked": gettext_lazy("linked Telegram for %(target)s"),
    "notification.telegram_unlinked": gettext_lazy("unlinked Telegram for %(target)s"),
    "notification.telegram_link_refused": gettext_lazy("refused a Telegram link"),
    "notification.telegram_webhook_refused": gettext_lazy("refused a Telegram message"),
    "worklist.daily_sheet": gettext_lazy("printed the daily sheet"),
    # statistics, programmes, meetings, the system
    "insights.export": gettext_lazy("exported statistics"),
    "insights.exports_participation": gettext_lazy("changed whether %(target)s is in exports"),
    "insights.outcome_record": gettext_lazy("recorded an outcome survey of %(target)s"),
    "programme.create": gettext_lazy("created %(target)s"),
    "programme.group_create": gettext_lazy("created %(target)s"),
    "programme.enrol": gettext_lazy("enrolled %(target)s"),
    "programme.session": gettext_lazy("recorded %(target)s"),
    "programme.attendance": gettext_lazy("recorded attendance at %(target)s"),
    "programme.review": gettext_lazy("reviewed %(target)s"),
    "programme.complete": gettext_lazy("recorded that %(target)s completed the programme"),
    "programme.outcome": gettext_lazy("recorded an outcome for %(target)s"),
    "partner_support.open": gettext_lazy("opened %(target)s"),
    "partner_support.update": gettext_lazy("updated %(target)s"),
    "partner_support.risk_concern": gettext_lazy("raised a risk concern in %(target)s"),
    "partner_support.concern_acknowledged": gettext_lazy(
        "acknowledged a risk concern in %(target)s"
    ),
    "meeting.area_create": gettext_lazy("created %(target)s"),
    "meeting.schedule": gettext_lazy("scheduled %(target)s"),
    "meeting.propose": gettext_lazy("proposed %(target)s"),
    "meeting.agenda_decide": gettext_lazy("decided on %(target)s"),
    "meeting.held": gettext_lazy("recorded that %(target)s was held"),
    "meeting.item_conclude": gettext_lazy("concluded %(target)s"),
    "meeting.action_assign": gettext_lazy("assigned %(target)s"),
    "meeting.action_done": gettext_lazy("recorded %(target)s as done"),
    # federation between networks (the peer's name is in the event's details)
    "federation.peer_trust": gettext_lazy("trusted a peer network"),
    "federation.peer_untrust": gettext_lazy("stopped trusting a peer network"),
    "federation.sharing_start": gettext_lazy("shared free places with peer networks"),
    "federation.sharing_stop": gettext_lazy("stopped sharing free places with peer networks"),
    "federation.message_received": gettext_lazy("sent a message from a peer network"),
    "federation.message_refused": gettext_lazy("refused a message from a peer network"),
    "federation.message_queued": gettext_lazy("queued a message to a peer network"),
    "federation.message_delivered": gettext_lazy("delivered a message to a peer network"),
    "federation.message_retry": gettext_lazy("will try again to reach a peer network"),
    "federation.message_failed": gettext_lazy("gave up reaching a peer network"),
    "federation.snapshot_sent": gettext_lazy("was sent the free places we share"),
    "federation.snapshot_stored": gettext_lazy("stored a peer network's free places"),
    "federation.snapshot_failed": gettext_lazy("could not fetch a peer network's free places"),
    "federation.record_consent": gettext_lazy(
        "recorded the consent of %(target)s to hand her record to a peer network"
    ),
    "federation.record_sealed": gettext_lazy("sealed a case record for a peer network"),
    "federation.record_handed_over": gettext_lazy(
        "handed the record of %(target)s over to a peer network"
    ),
    "federation.record_received": gettext_lazy("received a case record from a peer network"),
    "federation.journey_plan": gettext_lazy("planned a journey from a peer network"),
    "federation.journey_arrived": gettext_lazy(
        "recorded the arrival of a woman referred by a peer network"
    ),
    "federation.journey_received": gettext_lazy("received a journey plan from a peer network"),
    "federation.journey_plan_stale": gettext_lazy(
        "received an older journey plan from a peer network"
    ),
    "federation.journey_arrival_received": gettext_lazy(
        "was told by a peer network that she arrived"
    ),
    "master_key.rotate": gettext_lazy("rotated the master key"),
    "backup": gettext_lazy("made a backup"),
}


def _fill(template: Any, **values: Any) -> SafeString:
    """The translated template, escaped, with the (escaped) values put in."""
    return mark_safe(  # noqa: S308 - both the template and every value are escaped here
        conditional_escape(str(template)) % {k: conditional_escape(v) for k, v in values.items()}
    )


def _bdi(name: str) -> SafeString:
    return format_html("<bdi>{}</bdi>", name)


def _code(code: str) -> SafeString:
    """A case code, kept on one line (a sentence may otherwise break it at a hyphen)."""
    return format_html('<bdi class="code">{}</bdi>', code)


def _short(value: Any) -> str:
    return str(value)[:8]


class _Names:
    """Everything a page of events names, fetched once per kind of record."""

    def __init__(self, events: list[AuditEvent], reader: Principal) -> None:
        self.reader_org = None if reader.role == Role.ADMIN else reader.org_slug
        ids: dict[str, set[str]] = defaultdict(set)
        for e in events:
            if e.target_id:
                ids[e.target_type].add(e.target_id)
            if e.action == "read_list":
                ids[e.target_type].update(str(i) for i in (e.details or {}).get("ids", []))
        usernames = {e.actor for e in events if e.actor and ":" not in e.actor}
        usernames.discard("system")
        prefixes = {e.actor[4:] for e in events if e.actor.startswith("api:")}
        org_slugs = {e.organisation_slug for e in events if e.organisation_slug}

        self.users = (
            {
                u["username"]: (f"{u['first_name']} {u['last_name']}".strip() or u["username"])
                for u in User.objects.filter(username__in=usernames).values(
                    "username", "first_name", "last_name"
                )
            }
            if usernames
            else {}
        )
        user_pks = {i for i in ids.get("core.user", ()) if i.isdigit()}
        self.accounts = (
            {
                str(u["pk"]): (f"{u['first_name']} {u['last_name']}".strip() or u["username"])
                for u in User.objects.filter(pk__in=user_pks).values(
                    "pk", "username", "first_name", "last_name"
                )
            }
            if user_pks
            else {}
        )
        org_pks = {i for i in ids.get("core.organisation", ()) if i.isdigit()}
        self.orgs: dict[str, str] = {}
        self.org_by_pk: dict[str, str] = {}
        if org_slugs or org_pks:
            for o in Organisation.objects.filter(Q(slug__in=org_slugs) | Q(pk__in=org_pks)).values(
                "pk", "slug", "name"
            ):
                self.orgs[o["slug"]] = o["name"]
                self.org_by_pk[str(o["pk"])] = o["name"]
        key_pks = {i for i in ids.get("core.apikey", ()) if i.isdigit()}
        self.keys: dict[str, str] = {}
        self.key_by_pk: dict[str, str] = {}
        if prefixes or key_pks:
            for k in ApiKey.objects.filter(Q(prefix__in=prefixes) | Q(pk__in=key_pks)).values(
                "pk", "prefix", "name"
            ):
                self.keys[k["prefix"]] = k["name"]
                self.key_by_pk[str(k["pk"])] = k["name"]
        self.cases = self._by_uuid(
            "cases.Client",
            ids.get("cases.client", ()),
            "case_code",
            "organisation__slug",
            "data_key__destroyed_at",
        )
        self.facilities = self._by_uuid(
            "directory.Facility", ids.get("directory.facility", ()), "name"
        )

    @staticmethod
    def _by_uuid(label: str, wanted: Iterable[str], *fields: str) -> dict[str, dict[str, Any]]:
        valid = set()
        for value in wanted:
            try:
                valid.add(uuid.UUID(value))
            except (ValueError, AttributeError, TypeError):
                continue
        if not valid:
            return {}
        model = apps.get_model(label)
        return {str(r["pk"]): r for r in model.objects.filter(pk__in=valid).values("pk", *fields)}

    # --- who -----------------------------------------------------------------------------

    def actor(self, e: AuditEvent) -> SafeString:
        if not e.actor or e.actor == "system":
            return _fill(_("The system"))
        if e.actor.startswith("api:"):
            prefix = e.actor[4:]
            return _fill(_("API key %(name)s"), name=_bdi(self.keys.get(prefix, prefix)))
        return _bdi(self.users.get(e.actor, e.actor))

    def role(self, e: AuditEvent) -> str:
        if not e.actor_role:
            return ""
        label = str(Role(e.actor_role).label) if e.actor_role in Role.values else e.actor_role
        return label[:1].lower() + label[1:]

    # --- what ----------------------------------------------------------------------------

    def case(self, pk: str) -> SafeString:
        row = self.cases.get(pk)
        if row is None:
            return _fill(_("a case that no longer exists"))
        if self.reader_org is not None and row["organisation__slug"] != self.reader_org:
            return _fill(_("a case of another organisation"))
        if row["data_key__destroyed_at"] is not None:
            return _fill(_("case %(code)s, since erased"), code=_code(row["case_code"]))
        return _fill(_("case %(code)s"), code=_code(row["case_code"]))

    def target(self, e: AuditEvent) -> SafeString:
        kind, pk = e.target_type, e.target_id
        if not pk:
            return _fill(_("a record"))
        if kind == "cases.client":
            return self.case(pk)
        if kind == "directory.facility":
            row = self.facilities.get(pk)
            if row is None:
                return _fill(_("a facility that no longer exists"))
            return _fill(_("facility %(name)s"), name=_bdi(row["name"]))
        if kind == "core.user":
            if pk not in self.accounts:
                return _fill(_("an account that no longer exists"))
            return _fill(_("the account of %(name)s"), name=_bdi(self.accounts[pk]))
        if kind == "core.organisation":
            if pk not in self.org_by_pk:
                return _fill(_("an organisation that no longer exists"))
            return _fill(_("organisation %(name)s"), name=_bdi(self.org_by_pk[pk]))
        if kind == "core.apikey":
            if pk not in self.key_by_pk:
                return _fill(_("an API key that no longer exists"))
            return _fill(_("API key %(name)s"), name=_bdi(self.key_by_pk[pk]))
        short = _bdi(_short(pk))
        words = {
            "core.breakglass": _("break-glass session %(id)s"),
            "hotline.call": _("call %(id)s"),
            "hotline.callback": _("callback %(id)s"),
            "hotline.line": _("hotline line %(id)s"),
            "referrals.partnerrequest": _("partner request %(id)s"),
            "referrals.turnaway": _("turn-away %(id)s"),
            "notifications.delivery": _("notification %(id)s"),
            "insights.export": _("export %(id)s"),
            "page": _("page %(id)s"),
        }
        if kind == "page":
            short = _bdi(pk)
        return _fill(words.get(kind, _("record %(id)s")), id=short)

    def list_read(self, e: AuditEvent) -> SafeString:
        details = e.details or {}
        ids = [str(i) for i in details.get("ids", [])]
        n = len(ids)
        if e.target_type != "cases.client":
            if e.target_type == "hotline.callback":
                template = ngettext(
                    "read a list of %(count)s callback",
                    "read a list of %(count)s callbacks",
                    n,
                )
            else:
                template = ngettext(
                    "read a list of %(count)s record", "read a list of %(count)s records", n
                )
            return _fill(template, count=n)
        if details.get("search"):
            template = ngettext(
                "searched the cases and saw %(count)s result: %(items)s",
                "searched the cases and saw %(count)s results: %(items)s",
                n,
            )
            if n == 0:
                return _fill(_("searched the cases and found none"))
        else:
            template = ngettext(
                "read a list of %(count)s case: %(items)s",
                "read a list of %(count)s cases: %(items)s",
                n,
            )
            if n == 0:
                return _fill(_("read an empty list of cases"))
        shown = [self._case_code(pk) for pk in ids[:LIST_SHOWN]]
        items = mark_safe(", ".join(conditional_escape(s) for s in shown))  # noqa: S308 - escaped
        rest = n - len(shown)
        if rest:
            more = _fill(ngettext("and %(count)s more", "and %(count)s more", rest), count=rest)
            items = format_html("{} {}", items, more)
        return _fill(template, count=n, items=items)

    def _case_code(self, pk: str) -> SafeString:
        row = self.cases.get(pk)
        if row is None:
            return _fill(_("a case that no longer exists"))
        if self.reader_org is not None and row["organisation__slug"] != self.reader_org:
            return _fill(_("a case of another organisation"))
        if row["data_key__destroyed_at"] is not None:
            return _fill(_("%(code)s (since erased)"), code=_code(row["case_code"]))
        return _code(row["case_code"])

    def action(self, e: AuditEvent) -> SafeString:
        if e.action == "read_list":
            return self.list_read(e)
        if e.action == "read":
            what = str((e.details or {}).get("what", ""))
            return _fill(READS.get(what, READ_OTHER), target=self.target(e))
        template = ACTIONS.get(e.action)
        if template is None:
            if e.target_id:
                return _fill(
                    _("did “%(action)s” to %(target)s"), action=e.action, target=self.target(e)
                )
            return _fill(_("did “%(action)s”"), action=e.action)
        if "%(target)s" in str(template):
            return _fill(template, target=self.target(e))
        return _fill(template)

    def sentence(self, e: AuditEvent) -> SafeString:
        actor, role, action = self.actor(e), self.role(e), self.action(e)
        org = self.orgs.get(e.organisation_slug, e.organisation_slug)
        if role and org:
            return _fill(
                _("%(actor)s, %(role)s, %(organisation)s, %(action)s."),
                actor=actor,
                role=role,
                organisation=_bdi(org),
                action=action,
            )
        if role:
            return _fill(
                _("%(actor)s, %(role)s, %(action)s."), actor=actor, role=role, action=action
            )
        return _fill(_("%(actor)s %(action)s."), actor=actor, action=action)


def describe(events: Iterable[AuditEvent], *, reader: Principal) -> list[AuditEvent]:
    """Give each event a ``sentence`` (safe HTML), resolving every name on the page at once."""
    events = list(events)
    names = _Names(events, reader)
    for e in events:
        e.sentence = names.sentence(e)
    return events
