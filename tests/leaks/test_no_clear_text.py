"""Every text column is either encrypted or on a reviewed allow-list (issue 14, M3; SPEC S3).

A new CharField or TextField fails this test until someone either makes it an
EncryptedTextField or adds it below with the reason it holds nothing personal. Person-level
free text ("returned to husband Bakyt Asanov") must never be a plain column: a database dump
or backup would carry it, and crypto-shredding her key would not erase it.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models

from refuge.core.fields import EncryptedTextField
from refuge.directory.fields import SealedFloatField, SealedTextField

# Encrypted at rest: per person (her data key), or per network (a confidential facility's
# street address and point, sealed under a key derived from the master key).
ENCRYPTED = (EncryptedTextField, SealedTextField, SealedFloatField)

STAFF = "a staff user name (who acted), not a person we support"
CODE = "a code or enum value from a fixed list"
REGION = "a region code (coarse, kept clear for matching and statistics)"
ORG = "organisation or directory data the organisation publishes or configures"
HASH = "a hash, HMAC, MAC or random token digest"

# "app.Model.field": why it may stay clear. Review each addition.
ALLOWED: dict[str, str] = {
    # Django and third-party tables
    "auth.Permission.name": "Django permission label",
    "auth.Permission.codename": CODE,
    "auth.Group.name": "Django group name",
    "contenttypes.ContentType.app_label": CODE,
    "contenttypes.ContentType.model": CODE,
    "sessions.Session.session_key": HASH,
    "sessions.Session.session_data": "signed session flags and staff user id; no case data",
    "otp_totp.TOTPDevice.name": "a staff authenticator's label",
    "otp_totp.TOTPDevice.key": "a staff TOTP secret (the authenticator's seed), not personal",
    "django_tasks_database.DBTaskResult.status": CODE,
    "django_tasks_database.DBTaskResult.task_path": "a Python dotted path",
    "django_tasks_database.DBTaskResult.queue_name": CODE,
    "django_tasks_database.DBTaskResult.backend_name": CODE,
    "django_tasks_database.DBTaskResult.exception_class_path": "a Python dotted path",
    "django_tasks_database.DBTaskResult.traceback": "stack of a task that gets ids only (S7)",
    # core
    "core.Organisation.slug": ORG,
    "core.Organisation.name": ORG,
    "core.Organisation.kind": CODE,
    "core.User.password": HASH,
    "core.User.username": STAFF,
    "core.User.first_name": "staff member's own name, needed to sign in and be contacted",
    "core.User.last_name": "staff member's own name, needed to sign in and be contacted",
    "core.User.email": "staff member's work e-mail (notifications, unlock links)",
    "core.User.preferred_language": CODE,
    "core.Membership.role": CODE,
    "core.ApiKey.role": CODE,
    "core.ApiKey.name": "a label the organisation gives its integration key",
    "core.ApiKey.prefix": "the public part of an API key, shown to identify it",
    "core.ApiKey.secret_hash": HASH,
    "core.ApiKey.revoked_reason": CODE,
    "core.AuditEvent.actor": STAFF,
    "core.AuditEvent.actor_role": CODE,
    "core.AuditEvent.organisation_slug": ORG,
    "core.AuditEvent.action": CODE,
    "core.AuditEvent.target_type": CODE,
    "core.AuditEvent.target_id": "a row id",
    "core.AuditEvent.target_org_slug": ORG,
    "core.AuditEvent.ip": "the staff member's network address (security log)",
    "core.AuditEvent.prev_mac": HASH,
    "core.AuditEvent.mac": HASH,
    "core.AuditHead.mac": HASH,
    "core.AuditHead.seal": HASH,
    "core.FormSubmission.token": "a random one-time form token",
    "core.FormSubmission.result": "the local path the first submit led to (ids, case codes)",
    "core.RateCounter.bucket": 'an action name and a key or user id ("search:user:7")',
    "core.DataKey.master_key_id": CODE,
    "core.DataKey.destroyed_reason": "a category written by code (retention rule, erasure), "
    "never her words: the key it would be encrypted with is the one destroyed",
    "core.KnownBrowser.secret_hash": HASH,
    "core.SignInFailure.username": "a staff sign-in name as typed; pruned after the window",
    "core.SignInFailure.step": CODE,
    "core.SignInFailure.source": "the network address of a sign-in attempt (security log)",
    "core.UnlockLink.token_hash": HASH,
    "core.BreakGlass.kind": CODE,
    "core.BreakGlass.action": "an audit action name (the reason itself is encrypted)",
    # directory: the published directory (a confidential facility's street address, postal
    # code and point are sealed, see refuge.directory.fields)
    "directory.Region.code": REGION,
    "directory.Region.country": CODE,
    "directory.Region.kind": CODE,
    "directory.Region.district": REGION,
    "directory.Region.name_en": "a region's name",
    "directory.Region.name_ru": "a region's name",
    "directory.Region.name_ky": "a region's name",
    "directory.Region.name_cs": "a region's name",
    "directory.OrganisationProfile.alternate_name": ORG,
    "directory.OrganisationProfile.description": ORG,
    "directory.OrganisationProfile.email": ORG,
    "directory.OrganisationProfile.website": ORG,
    "directory.Facility.name": ORG,
    "directory.Facility.alternate_name": ORG,
    "directory.Facility.kind": CODE,
    "directory.Facility.faith": CODE,
    "directory.Facility.description": ORG,
    "directory.Facility.country": CODE,
    "directory.Facility.locality": "a town (coarse, like the region)",
    "directory.Facility.address_visibility": CODE,
    "directory.Facility.email": ORG,
    "directory.Facility.website": ORG,
    "directory.Facility.source_note": "where the listing's data came from (an import, a form)",
    "directory.HouseRules.cost": CODE,
    "directory.HouseRules.cost_note": ORG,
    "directory.HouseRules.notes": ORG,
    "directory.FacilityService.kind": CODE,
    "directory.FacilityService.note": ORG,
    "directory.Phone.number": "a facility's or organisation's phone",
    "directory.Phone.extension": "a facility's or organisation's phone",
    "directory.Phone.kind": CODE,
    "directory.Phone.description": ORG,
    "directory.Phone.visibility": CODE,
    # vacancies
    "vacancies.Room.name": "a room's label",
    "vacancies.FactsVersion.token": "a random token that moves on directory writes",
    "vacancies.RoomsVersion.token": "a random token that moves on a facility's room writes",
    "vacancies.Room.kind": CODE,
    "vacancies.FacilityAvailability.source": CODE,
    "vacancies.FacilityAvailability.reported_by": STAFF,
    "vacancies.FacilityAvailability.confirmed_by": STAFF,
    # cases
    "cases.Client.case_code": "the pseudonymous case code staff say and write",
    "cases.Client.phone_index": HASH,
    "cases.Client.name_index": HASH,
    "cases.Client.age_band": CODE,
    "cases.Client.citizenship": CODE,
    "cases.Client.residence_region": REGION,
    "cases.Client.created_by": STAFF,
    "cases.HouseholdMember.created_by": STAFF,
    "cases.HouseholdMember.relation": CODE,
    "cases.HouseholdMember.sex": CODE,
    "cases.OtherParty.created_by": STAFF,
    "cases.OtherParty.region": REGION,
    "cases.RiskAssessment.created_by": STAFF,
    "cases.RiskAssessment.instrument_id": CODE,
    "cases.RiskAssessment.status": CODE,
    "cases.RiskAssessment.computed_band": CODE,
    "cases.RiskAssessment.judgement_band": CODE,
    "cases.RiskAssessment.band": CODE,
    "cases.SafetyPlan.created_by": STAFF,
    "cases.SafetyPlan.updated_by": STAFF,
    "cases.CaseNote.created_by": STAFF,
    "cases.Incident.created_by": STAFF,
    "cases.Consent.scope": CODE,
    "cases.Consent.recorded_by": STAFF,
    "cases.AftercareTask.created_by": STAFF,
    "cases.AftercareTask.kind": CODE,
    "cases.AftercareTask.assignee": STAFF,
    "cases.ServiceDelivery.kind": CODE,
    "cases.ServiceDelivery.channel": CODE,
    "cases.ServiceDelivery.language": CODE,
    "cases.ServiceDelivery.delivered_by": STAFF,
    "cases.Stay.admitted_by": STAFF,
    "cases.Stay.discharged_by": STAFF,
    "cases.Stay.outcome": CODE,
    # hotline: a call holds no number and no words (only an HMAC of the number)
    "hotline.Line.number": "the hotline's own published number",
    "hotline.Line.name": ORG,
    "hotline.Line.default_country": CODE,
    "hotline.Line.region": REGION,
    "hotline.Line.service_area": ORG,
    "hotline.OperatorExtension.identity": "a staff member's PBX extension",
    "hotline.Call.provider": CODE,
    "hotline.PendingEvent.payload": "a parsed PBX event waiting for the merger: ids, leg states, "
    "times, the line and the operator's extension; the caller's number sealed "
    "(hotline.services.pending_dumps)",
    "hotline.Call.entry_id": "the PBX's call id",
    "hotline.Call.direction": CODE,
    "hotline.Call.state": CODE,
    "hotline.Call.operator_group": "a PBX queue name",
    "hotline.Call.operator_extension": "a staff member's PBX extension",
    "hotline.Call.disconnect_reason": CODE,
    "hotline.Call.entry_result": CODE,
    "hotline.Call.caller_key": HASH,
    "hotline.Call.caller_region": REGION,
    "hotline.Call.region_source": CODE,
    "hotline.CallEvent.kind": CODE,
    "hotline.CallEvent.leg_id": "the PBX's leg id",
    "hotline.CallEvent.state": CODE,
    "hotline.CallEvent.location": REGION,
    "hotline.QuarantinedEvent.provider": CODE,
    "hotline.QuarantinedEvent.kind": CODE,
    "hotline.QuarantinedEvent.location": REGION,
    "hotline.QuarantinedEvent.digest": HASH,
    "hotline.QuarantinedEvent.error_code": CODE,
    "hotline.QuarantinedEvent.error_field": "the name of a field that failed validation",
    "hotline.QuarantinedEvent.outcome": CODE,
    "hotline.WrapUp.contact_type": CODE,
    "hotline.WrapUpNeed.need": CODE,
    "hotline.WrapUpNeed.unmet_reason": CODE,
    "hotline.Callback.timezone": CODE,
    "hotline.Callback.language": CODE,
    "hotline.Callback.status": CODE,
    "hotline.Callback.created_by": STAFF,
    "hotline.Callback.close_reason": CODE,
    "hotline.CallbackAttempt.by": STAFF,
    "hotline.CallbackAttempt.outcome": CODE,
    # insights
    "insights.SurvivorOutcome.phase": CODE,
    "insights.SurvivorOutcome.survey": CODE,
    "insights.SurvivorOutcome.recorded_by": STAFF,
    # programmes
    "programmes.Programme.name": ORG,
    "programmes.Programme.accreditation": ORG,
    "programmes.Group.name": "a group's label",
    "programmes.Participant.code": "the pseudonymous participant code",
    "programmes.Participant.referral_source": CODE,
    "programmes.Participant.status": CODE,
    "programmes.Participant.created_by": STAFF,
    "programmes.Attendance.mark": CODE,
    "programmes.Attendance.marked_by": STAFF,
    "programmes.PartnerSupport.status": CODE,
    "programmes.PartnerSupport.support_worker": STAFF,
    "programmes.RiskConcern.kind": CODE,
    "programmes.RiskConcern.raised_by": STAFF,
    "programmes.RiskConcern.acknowledged_by": STAFF,
    "programmes.OutcomeResponse.respondent": CODE,
    "programmes.OutcomeResponse.phase": CODE,
    "programmes.OutcomeResponse.survey": CODE,
    "programmes.OutcomeResponse.recorded_by": STAFF,
    # meetings
    "meetings.Area.name": ORG,
    "meetings.Meeting.status": CODE,
    "meetings.Meeting.created_by": STAFF,
    "meetings.AgendaItem.proposed_by": STAFF,
    "meetings.AgendaItem.status": CODE,
    "meetings.AgendaItem.risk_level": CODE,
    "meetings.AgendaItem.next_step": CODE,
    "meetings.Action.status": CODE,
    "meetings.Action.created_by": STAFF,
    # referrals
    "referrals.Referral.created_by": STAFF,
    "referrals.Referral.status": CODE,
    "referrals.ReferralTarget.status": CODE,
    "referrals.ReferralTarget.decline_reason": CODE,
    "referrals.ReferralTarget.no_hold_reason": CODE,
    "referrals.ReferralTarget.decided_by": STAFF,
    "referrals.Relocation.from_region": REGION,
    "referrals.Relocation.to_region": REGION,
    "referrals.Relocation.mode": CODE,
    "referrals.Relocation.currency": CODE,
    "referrals.Relocation.created_by": STAFF,
    "referrals.TurnAway.recorded_by": STAFF,
    "referrals.TurnAway.region": REGION,
    "referrals.WaitlistEntry.added_by": STAFF,
    "referrals.PartnerRequest.created_by": STAFF,
    "referrals.PartnerRequest.region": REGION,
    "referrals.PartnerRequest.status": CODE,
    "referrals.PartnerRequest.handled_by": STAFF,
    "referrals.SearchProbe.actor": STAFF,
    # notifications: ids and neutral event kinds only (S7)
    "notifications.Event.key": "an idempotency key built from an event kind and a row id",
    "notifications.Event.kind": CODE,
    "notifications.Event.about_type": CODE,
    "notifications.Event.about_id": "a row id",
    "notifications.Delivery.channel": CODE,
    "notifications.Delivery.status": CODE,
    "notifications.Delivery.last_error": CODE,
    "notifications.Delivery.provider_ref": "a message id the provider returned",
    "notifications.ChannelSettings.timezone": CODE,
    "notifications.TelegramLinkCode.code_hash": HASH,
    "notifications.PushSubscription.endpoint": "a staff browser's push endpoint",
    "notifications.PushSubscription.p256dh": "a staff browser's push public key",
    "notifications.PushSubscription.auth": "a staff browser's push secret",
    "notifications.PushSubscription.session_hash": HASH,
    "notifications.OnCall.set_by": STAFF,
    "notifications.NetworkPolicy.updated_by": STAFF,
    "notifications.ScheduleRun.job": CODE,
    "notifications.ScheduleRun.claimed_by": "a worker process's name",
    # federation: peers and what they share (facilities, never people; SPEC S7)
    "federation.Peer.name": "the name an administrator trusts a peer network under",
    "federation.Peer.base_url": "a peer network's public address",
    "federation.Peer.public_key": "a peer network's public signing key",
    "federation.Peer.sealing_key": "a peer network's public X25519 key for sealed records",
    "federation.Peer.title": "a peer network's name as staff read it, typed by an administrator",
    "federation.SeenNonce.nonce": "a random token of a signed message",
    "federation.InboxMessage.kind": CODE,
    "federation.OutboxMessage.kind": CODE,
    "federation.OutboxMessage.subject_id": "an id of what the message is about, never a field",
    "federation.OutboxMessage.status": CODE,
    "federation.OutboxMessage.last_error": CODE,
    "federation.PeerFacility.remote_id": "a peer facility's id",
    "federation.PeerFacility.name": "a peer facility's name, as its network shares it",
    "federation.PeerFacility.kind": CODE,
    "federation.PeerFacility.region": REGION,
    "federation.PeerFacility.country": CODE,
    "federation.PeerFacility.availability": CODE,
    # cross-network referrals: the offer (JSON) is the whitelist of codes and numbers that
    # travels (refuge.federation.referrals.OFFER_FIELDS); nothing here names her
    "federation.OutgoingReferral.created_by": STAFF,
    "federation.OutgoingReferral.remote_facility_id": "a peer facility's id",
    "federation.OutgoingReferral.status": CODE,
    "federation.OutgoingReferral.decline_reason": CODE,
    "federation.OutgoingReferral.consent_by": STAFF,
    "federation.IncomingReferral.status": CODE,
    "federation.IncomingReferral.decline_reason": CODE,
    "federation.IncomingReferral.decided_by": STAFF,
    "federation.IncomingReferral.arrived_by": STAFF,
    "federation.IncomingReferral.released_by": STAFF,
    "federation.IncomingReferral.no_hold_reason": CODE,
    # her journey (refuge.federation.travel): the escort's name is encrypted; the rest is how
    # and where the receiving staff meet her, typed to be told to the other network
    "federation.Journey.mode": CODE,
    "federation.Journey.escort_role": CODE,
    "federation.Journey.meeting_point": "a station or a town, typed to be shared; never a "
    "facility's address (refused) nor a person",
    "federation.Journey.created_by": STAFF,
    # help: the public pages' texts
    "help.HelpText.key": CODE,
    "help.HelpText.language": CODE,
    "help.HelpText.title": "public help page text",
    "help.HelpText.body": "public help page text",
    "help.HelpText.shipped_hash": HASH,
    "help.HelpText.updated_by": STAFF,
}


def plain_text_fields() -> list[str]:
    out = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField) and not isinstance(
                field, ENCRYPTED
            ):
                out.append(f"{model._meta.label}.{field.name}")
    return out


def test_every_plain_text_column_is_reviewed():
    unreviewed = [name for name in plain_text_fields() if name not in ALLOWED]
    assert not unreviewed, (
        "Plain text columns that may hold personal data: make them EncryptedTextField, or add "
        f"them to ALLOWED with the reason they hold nothing personal: {unreviewed}"
    )


def test_the_allow_list_has_no_stale_or_unexplained_entry():
    present = set(plain_text_fields())
    assert [name for name in ALLOWED if name not in present] == []
    assert all(len(reason) > 5 for reason in ALLOWED.values())


def test_the_free_text_named_in_the_issue_is_encrypted():
    for label in (
        "cases.Client.close_reason",
        "cases.Client.legal_hold_reason",
        "cases.OtherParty.relation",
        "referrals.Relocation.escort",
        "referrals.Relocation.paid_by",
        "referrals.WaitlistEntry.close_reason",
        "programmes.Participant.exit_reason",
        "meetings.AgendaItem.legal_basis",
        "meetings.AgendaItem.left_reason",
    ):
        app_model, field = label.rsplit(".", 1)
        assert isinstance(apps.get_model(app_model)._meta.get_field(field), EncryptedTextField)
