"""State changes of client records."""

from __future__ import annotations

import json
import secrets
import unicodedata
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import phonenumbers
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refuge.core import audit, crypto
from refuge.core.access import Principal, require
from refuge.core.db import retry_on_conflict
from refuge.core.fields import Erased
from refuge.core.models import Organisation
from refuge.core.roles import can_create_cases, can_view_cases
from refuge.core.services import ServiceError, data_key_create, data_key_shred

from . import instruments
from .models import (
    AftercareTask,
    CaseNote,
    Client,
    Consent,
    ConsentScope,
    Document,
    HouseholdMember,
    Incident,
    Need,
    OtherParty,
    RiskAssessment,
    SafetyPlan,
    ServiceDelivery,
    Sex,
    Stay,
)
from .risk import engine
from .risk.refusals import answer_refusal, unknown_instrument

_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # Crockford-like: no I, L, O, U, 0, 1


def new_case_code() -> str:
    body = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"RF-{body[:4]}-{body[4:]}"


def normalise_phone(raw: str, region: str = "RU") -> str:
    """E.164 form, or a clear error. The region is the default for numbers without +."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ServiceError(_("This does not look like a phone number."), "invalid_phone") from exc
    if not phonenumbers.is_possible_number(number):
        raise ServiceError(_("This does not look like a phone number."), "invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_index(e164: str) -> str:
    return crypto.blind_index(e164, purpose="phone")


def normalise_name(raw: str) -> str:
    """The form of a name that is indexed: NFKC, casefolded, whitespace collapsed, ё as е.

    Staff type "Ё" and "Е" interchangeably in Russian names, so they must index alike.
    """
    folded = unicodedata.normalize("NFKC", raw).casefold().replace("ё", "е")
    return " ".join(folded.split())


def name_index(name: str) -> str:
    """Blind index of a full name, or "" for no name (an empty name matches nobody)."""
    normal = normalise_name(name)
    return crypto.blind_index(normal, purpose="name") if normal else ""


def client_create(
    *,
    by: Principal,
    name: str = "",
    phone: str = "",
    birth_date: date | None = None,
    age_band: str = "",
    phone_region: str = "RU",
    **profile: Any,
) -> Client:
    """Open her case. Besides who she is, the intake may give any profile field (languages,
    documents, region…), checked as `client_update` checks them."""
    require(by, can_create_cases)
    e164 = normalise_phone(phone, phone_region) if phone else ""
    profile = _checked_profile(profile)
    with transaction.atomic():
        client = Client(
            case_code=new_case_code(),
            organisation=by.organisation,
            data_key=data_key_create(),
            name=name,
            phone=e164,
            phone_index=phone_index(e164) if e164 else "",
            name_index=name_index(name),
            birth_date=birth_date.isoformat() if birth_date else "",
            age_band=age_band,
            created_by=by.name,
        )
        for key, value in profile.items():
            setattr(client, key, "" if value is None else value)
        client.save()
        audit.record(
            actor=by,
            action="client.create",
            target_type="cases.client",
            target_id=client.pk,
            target_org_slug=client.organisation.slug,
        )
    return client


def client_shred(*, by: Principal | None, client: Client, reason: str) -> None:
    """Crypto-shred: the record stays as a statistic, her identity becomes unreadable."""
    with transaction.atomic():
        data_key_shred(
            by=by,
            key=client.data_key,
            reason=reason,
            target_org_slug=client.organisation.slug,
            target_type="cases.client",
            target_id=client.pk,
        )
        Client.objects.filter(pk=client.pk).update(phone_index="", name_index="")


def reindex_names() -> tuple[int, int]:
    """Recompute every client's name blind index (after the field was added, or a key change).

    Decrypts each name with her own data key; an erased client (key shredded) keeps no index.
    Returns (reindexed, skipped as erased). Run by ``refuge reindex-names``.
    """
    done = skipped = 0
    qs = Client.objects.only("id", "data_key_id", "name", "name_index").order_by("pk")
    for client in qs.iterator(chunk_size=500):
        name = client.name
        value = "" if isinstance(name, Erased) else name_index(name or "")
        skipped += isinstance(name, Erased)
        if value != client.name_index:
            Client.objects.filter(pk=client.pk).update(name_index=value)
        done += not isinstance(name, Erased)
    if done or skipped:
        audit.record(
            actor=None,
            action="client.reindex_names",
            target_type="cases.client",
            details={"reindexed": done, "erased": skipped},
        )
    return done, skipped


# --- the case file -------------------------------------------------------------------------


def _event(by: Principal, action: str, client: Client, obj: Any = None, **details: Any) -> None:
    audit.record(
        actor=by,
        action=action,
        target_type="cases.client",
        target_id=client.pk,
        target_org_slug=client.organisation.slug,
        details={
            **({"part": obj._meta.model_name, "part_id": str(obj.pk)} if obj is not None else {}),
            **details,
        },
    )


def _writable(by: Principal, client: Client) -> None:
    require(by, can_view_cases)
    if by.org_id != client.organisation_id:
        raise ServiceError(
            _("Only the organisation that holds this case can change it."), "forbidden"
        )


def _check_choices(values: list[str], allowed: type, unknown: str) -> list[str]:
    """`unknown` is the translated refusal, with %(values)s for what was not recognised."""
    bad = sorted(set(values) - set(allowed.values))
    if bad:
        raise ServiceError(unknown % {"values": ", ".join(bad)})
    return sorted(set(values))


PROFILE_FIELDS = {
    "name",
    "birth_date",
    "age_band",
    "safe_contact",
    "safe_times",
    "health_notes",
    "languages",
    "citizenship",
    "documents",
    "residence_region",
    "needs",
    "pets",
    "reporting_consent",
}


def _checked_profile(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise ServiceError(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    fields = dict(fields)
    if "documents" in fields:
        fields["documents"] = _check_choices(
            fields["documents"], Document, _("Unknown documents: %(values)s.")
        )
    if "needs" in fields:
        fields["needs"] = _check_choices(fields["needs"], Need, _("Unknown needs: %(values)s."))
    if isinstance(fields.get("birth_date"), date):
        fields["birth_date"] = fields["birth_date"].isoformat()
    return fields


def client_update(
    *,
    by: Principal,
    client: Client,
    phone: str | None = None,
    phone_region: str = "RU",
    **fields: Any,
) -> Client:
    _writable(by, client)
    fields = _checked_profile(fields)
    with transaction.atomic():
        for key, value in fields.items():
            setattr(client, key, "" if value is None else value)
        if "name" in fields:
            client.name_index = name_index(client.name)
        if phone is not None:
            e164 = normalise_phone(phone, phone_region) if phone else ""
            client.phone, client.phone_index = e164, phone_index(e164) if e164 else ""
        client.save()
        _event(
            by,
            "client.update",
            client,
            fields=sorted(fields) + (["phone"] if phone is not None else []),
        )
    return client


def household_member_add(
    *,
    by: Principal,
    client: Client,
    age: int,
    sex: str,
    relation: str = HouseholdMember.Relation.CHILD,
    name: str = "",
) -> HouseholdMember:
    _writable(by, client)
    if not 0 <= age <= 120:
        raise ServiceError(_("Age must be between 0 and 120."))
    if client.household.count() >= 20:
        raise ServiceError(
            _("A household of more than 20 people cannot be recorded here; call the hub.")
        )
    with transaction.atomic():
        member = HouseholdMember.objects.create(
            client=client,
            data_key_id=client.data_key_id,
            age=age,
            sex=sex,
            relation=relation,
            name=name,
            created_by=by.name,
        )
        _event(by, "household.add", client, member)
    return member


def household_children_set(*, by: Principal, client: Client, children: list[dict]) -> None:
    """Her children as the intake gives them (``m15, f9``): the ones already recorded that
    match by sex and age stay as they are (with any name given on the household tab); the
    others are added or removed. Going back to the step and saving again changes nothing."""
    _writable(by, client)
    for child in children:
        if not 0 <= int(child["age"]) <= 120 or child["sex"] not in Sex.values:
            raise ServiceError(_("Age must be between 0 and 120."))
    with transaction.atomic():
        kept = list(client.household.select_for_update().filter(relation="child"))
        wanted = sorted((int(c["age"]), c["sex"]) for c in children)
        others = client.household.exclude(relation="child").count()
        if others + len(wanted) > 20:
            raise ServiceError(
                _("A household of more than 20 people cannot be recorded here; call the hub.")
            )
        for member in kept:
            key = (member.age, member.sex)
            if key in wanted:
                wanted.remove(key)
            else:
                _event(by, "household.remove", client, member)
                member.delete()
        for age, sex in wanted:
            member = HouseholdMember.objects.create(
                client=client,
                data_key_id=client.data_key_id,
                age=age,
                sex=sex,
                relation=HouseholdMember.Relation.CHILD,
                created_by=by.name,
            )
            _event(by, "household.add", client, member)


def intake_household_save(
    *,
    by: Principal,
    client: Client,
    children: list[dict],
    pets: int,
    avoid_relation: str = "",
    avoid_region: str = "",
) -> None:
    """The guided intake's household step, all or nothing: her children (as
    `household_children_set`), her pets, and, when she agrees to keep it, who she must avoid
    and his region (once: saving the step again adds no second record)."""
    with transaction.atomic():
        household_children_set(by=by, client=client, children=children)
        if pets != client.pets:
            client_update(by=by, client=client, pets=pets)
        if avoid_region and not client.other_parties.filter(region=avoid_region).exists():
            other_party_add(by=by, client=client, relation=avoid_relation, region=avoid_region)


def household_member_remove(*, by: Principal, member: HouseholdMember) -> None:
    _writable(by, member.client)
    with transaction.atomic():
        _event(by, "household.remove", member.client, member)
        member.delete()


def other_party_add(
    *,
    by: Principal,
    client: Client,
    relation: str,
    name: str = "",
    details: str = "",
    region: str = "",
) -> OtherParty:
    _writable(by, client)
    with transaction.atomic():
        party = OtherParty.objects.create(
            client=client,
            data_key_id=client.data_key_id,
            relation=relation,
            name=name,
            details=details,
            region=region,
            created_by=by.name,
        )
        _event(by, "other_party.add", client, party)
    return party


# --- risk assessment -----------------------------------------------------------------------


def _clean_answers(inst: engine.Instrument, answers: Mapping[str, Any]) -> dict[str, Any]:
    types = {i.id: i.type for i in inst.items}
    clean: dict[str, Any] = {}
    for key, value in answers.items():
        if value in (None, ""):
            continue
        if types.get(key) == "severity":
            try:
                value = int(value)
            except (TypeError, ValueError) as exc:
                raise ServiceError(
                    _("%(item)s: choose a level from 1 to 5.") % {"item": key}
                ) from exc
        clean[key] = value
    try:
        engine.check_answers(inst, clean)
    except engine.AnswerError as exc:
        raise ServiceError(answer_refusal(exc), "invalid_answer") from exc
    return clean


def assessment_history(client: Client, *, months: int = 12) -> engine.History:
    """Incidents in the window and the time since the last assessment that flagged a referral
    (a client has a handful of assessments, so the flags are read in Python)."""
    since = timezone.localdate() - timedelta(days=round(months * 30.44))
    incidents = client.incidents.filter(occurred_on__gte=since).count()
    done = client.assessments.filter(status=RiskAssessment.Status.COMPLETE).order_by(
        "-completed_at"
    )
    last = next(
        (
            a.completed_at
            for a in done.only("completed_at", "flags")
            if "refer_to_meeting" in a.flags
        ),
        None,
    )
    months_since = (timezone.now() - last).days / 30.44 if last else None
    return engine.History(incidents_in_window=incidents, months_since_last_referral=months_since)


def assessment_save(
    *,
    by: Principal,
    client: Client,
    instrument_id: str,
    version: int,
    answers: Mapping[str, Any],
    finish: bool,
    assessment: RiskAssessment | None = None,
) -> tuple[RiskAssessment, engine.Result]:
    """Save answers. With ``finish``, score and complete it if every required item is answered;
    otherwise it stays a draft (an incomplete assessment is never scored as complete)."""
    _writable(by, client)
    if assessment is not None and assessment.status == RiskAssessment.Status.COMPLETE:
        raise ServiceError(
            _("A completed assessment is never changed; start a new one."), "conflict"
        )
    try:
        inst = instruments.get(instrument_id, version)
    except instruments.UnknownInstrument as exc:
        raise ServiceError(unknown_instrument(instrument_id, version)) from exc
    except engine.InstrumentError as exc:
        raise ServiceError(str(exc)) from exc
    clean = _clean_answers(inst, answers)
    result = engine.score(inst, clean)
    history = assessment_history(client)
    with transaction.atomic():
        a = assessment or RiskAssessment(
            client=client,
            data_key_id=client.data_key_id,
            instrument_id=inst.id,
            instrument_version=inst.version,
            created_by=by.name,
        )
        a.answers = json.dumps(clean, ensure_ascii=False, sort_keys=True)
        if finish and result.complete:
            band, extra = engine.apply_history(inst, result.band, history)
            a.status = RiskAssessment.Status.COMPLETE
            a.score, a.computed_band, a.band = result.score, result.band, band
            a.flags = list(dict.fromkeys([*result.flags, *extra]))
            if (
                band != result.band
                and "refer_to_meeting" not in a.flags
                and inst.band_rank(band) == len(inst.bands) - 1
            ):
                a.flags.append("refer_to_meeting")
            a.completed_at = timezone.now()
        a.save()
        _event(
            by,
            "assessment.complete"
            if a.status == RiskAssessment.Status.COMPLETE
            else "assessment.draft",
            client,
            a,
            band=a.band or None,
        )
    return a, result


def assessment_judge(
    *, by: Principal, assessment: RiskAssessment, band: str, reason: str
) -> RiskAssessment:
    """Professional judgement raises the level (never lowers it) with a written reason."""
    _writable(by, assessment.client)
    if assessment.status != RiskAssessment.Status.COMPLETE:
        raise ServiceError(_("Complete the assessment before recording a judgement."))
    if not reason.strip():
        raise ServiceError(_("Write the reason for your judgement."), "reason_required")
    inst = instruments.get(assessment.instrument_id, assessment.instrument_version)
    if band not in inst.band_names():
        raise ServiceError(_("Unknown level %(band)r.") % {"band": band})
    try:
        final = engine.raise_level(inst, assessment.band, band)
    except engine.AnswerError as exc:
        raise ServiceError(answer_refusal(exc), "cannot_lower") from exc
    with transaction.atomic():
        assessment.judgement_band, assessment.judgement_reason, assessment.band = (
            band,
            reason.strip(),
            final,
        )
        flags = list(assessment.flags)
        if inst.band_rank(final) == len(inst.bands) - 1 and "refer_to_meeting" not in flags:
            flags.append("refer_to_meeting")
        assessment.flags = flags
        assessment.save(update_fields=["judgement_band", "judgement_reason", "band", "flags"])
        _event(by, "assessment.judgement", assessment.client, assessment, band=final)
    return assessment


def incident_record(
    *, by: Principal, client: Client, occurred_on: date, forms: list[str]
) -> Incident:
    _writable(by, client)
    if occurred_on > timezone.localdate():
        raise ServiceError(_("An incident cannot be in the future."))
    with transaction.atomic():
        incident = Incident.objects.create(
            client=client, occurred_on=occurred_on, forms=sorted(set(forms)), created_by=by.name
        )
        _event(by, "incident.record", client, incident)
    return incident


# --- safety plan, notes ---------------------------------------------------------------------

SAFETY_PLAN_SECTIONS = (
    "warning_signs",
    "safe_places",
    "people_to_call",
    "leaving_bag",
    "children",
    "digital_safety",
    "at_work",
    "after_leaving",
)


def safety_plan_save(*, by: Principal, client: Client, sections: Mapping[str, str]) -> SafetyPlan:
    _writable(by, client)
    unknown = set(sections) - set(SAFETY_PLAN_SECTIONS)
    if unknown:
        raise ServiceError(
            _("Unknown sections: %(sections)s.") % {"sections": ", ".join(sorted(unknown))}
        )
    body = {k: (sections.get(k) or "").strip() for k in SAFETY_PLAN_SECTIONS}
    with transaction.atomic():
        plan = SafetyPlan.objects.filter(client=client).first() or SafetyPlan(
            client=client, data_key_id=client.data_key_id, created_by=by.name
        )
        plan.sections = json.dumps(body, ensure_ascii=False)
        plan.updated_by = by.name
        plan.save()
        _event(by, "safety_plan.save", client, plan)
    return plan


def note_add(*, by: Principal, client: Client, body: str, about_others: bool = False) -> CaseNote:
    _writable(by, client)
    if not body.strip():
        raise ServiceError(_("The note is empty."))
    with transaction.atomic():
        note = CaseNote.objects.create(
            client=client,
            data_key_id=client.data_key_id,
            body=body.strip(),
            about_others=about_others,
            created_by=by.name,
        )
        _event(by, "note.add", client, note)
    return note


# --- consent --------------------------------------------------------------------------------


def consent_record(
    *, by: Principal, client: Client, scope: str, days: int, recipient: Organisation | None = None
) -> Consent:
    _writable(by, client)
    if scope not in ConsentScope.values:
        raise ServiceError(_("Unknown consent scope %(scope)r.") % {"scope": scope})
    if not 1 <= days <= 3650:
        raise ServiceError(_("Consent lasts between 1 day and 10 years."))
    now = timezone.now()
    with transaction.atomic():
        consent = Consent.objects.create(
            client=client,
            recipient=recipient,
            scope=scope,
            given_at=now,
            expires_at=now + timedelta(days=days),
            recorded_by=by.name,
        )
        if scope == ConsentScope.REPORTING and not client.reporting_consent:
            Client.objects.filter(pk=client.pk).update(reporting_consent=True)
        _event(
            by,
            "consent.record",
            client,
            consent,
            scope=scope,
            recipient=recipient.slug if recipient else None,
        )
    return consent


def consent_withdraw(*, by: Principal, consent: Consent) -> None:
    _writable(by, consent.client)
    with transaction.atomic():
        consent.withdrawn_at = timezone.now()
        consent.save(update_fields=["withdrawn_at"])
        if consent.scope == ConsentScope.REPORTING:
            Client.objects.filter(pk=consent.client_id).update(reporting_consent=False)
        _event(by, "consent.withdraw", consent.client, consent, scope=consent.scope)


def consent_in_force(
    client: Client, scope: str, recipient: Organisation | None = None, at: Any = None
) -> Consent | None:
    at = at or timezone.now()
    qs = client.consents.filter(
        scope=scope, withdrawn_at__isnull=True, given_at__lte=at, expires_at__gt=at
    )
    if recipient is not None:
        qs = qs.filter(recipient__in=[recipient]) | qs.filter(recipient__isnull=True)
    return qs.order_by("-expires_at").first()


def require_consent(client: Client, scope: str, recipient: Organisation | None = None) -> Consent:
    """Sharing needs consent in force; an expired one is refused with the date it ran out.
    (Help itself never depends on consent: only sharing calls this.)"""
    consent = consent_in_force(client, scope, recipient)
    if consent is not None:
        return consent
    last = (
        client.consents.filter(scope=scope, withdrawn_at__isnull=True)
        .order_by("-expires_at")
        .first()
    )
    if last is not None and last.expires_at <= timezone.now():
        raise ServiceError(
            _("Her consent to this ran out on %(date)s. Ask her again before sharing.")
            % {"date": f"{timezone.localtime(last.expires_at):%Y-%m-%d}"},
            "consent_expired",
        )
    raise ServiceError(
        _("She has not consented to this sharing. Ask her first."), "consent_missing"
    )


# --- aftercare, closing, retention ------------------------------------------------------------


def aftercare_add(
    *, by: Principal, client: Client, kind: str, due_on: date, assignee: str = "", note: str = ""
) -> AftercareTask:
    _writable(by, client)
    if kind not in AftercareTask.Kind.values:
        raise ServiceError(_("Unknown follow-up kind %(kind)r.") % {"kind": kind})
    with transaction.atomic():
        task = AftercareTask.objects.create(
            client=client,
            data_key_id=client.data_key_id,
            kind=kind,
            due_on=due_on,
            assignee=assignee or by.name,
            note=note,
            created_by=by.name,
        )
        _event(by, "aftercare.add", client, task)
    return task


def aftercare_done(*, by: Principal, task: AftercareTask, outcome: str = "") -> AftercareTask:
    _writable(by, task.client)
    with transaction.atomic():
        task.done_on, task.outcome = timezone.localdate(), outcome
        task.save(update_fields=["done_on", "outcome"])
        _event(by, "aftercare.done", task.client, task)
    return task


def client_close(*, by: Principal, client: Client, reason: str) -> Client:
    _writable(by, client)
    with transaction.atomic():
        client.closed_at, client.close_reason = timezone.now(), reason[:200]
        client.save(update_fields=["closed_at", "close_reason"])
        # Her words stay in the encrypted field only: an audit copy would outlive a shred.
        _event(by, "client.close", client)
    return client


def legal_hold_set(*, by: Principal, client: Client, on: bool, reason: str = "") -> Client:
    _writable(by, client)
    if on and not reason.strip():
        raise ServiceError(
            _("Say why the record is on hold (for example the court case)."), "reason_required"
        )
    with transaction.atomic():
        client.legal_hold, client.legal_hold_reason = on, reason.strip()[:200] if on else ""
        client.save(update_fields=["legal_hold", "legal_hold_reason"])
        _event(by, "client.legal_hold" if on else "client.legal_hold_lifted", client)
    return client


# --- services without a stay ---------------------------------------------------------------------


def service_record(
    *,
    by: Principal,
    client: Client,
    kind: str,
    channel: str = ServiceDelivery.Channel.IN_PERSON,
    delivered_on: date | None = None,
    minutes: int | None = None,
    language: str = "",
) -> ServiceDelivery:
    """One tap on the case page: a consultation, an accompaniment or interpretation."""
    _writable(by, client)
    if kind not in ServiceDelivery.Kind.values:
        raise ServiceError(_("Unknown service %(kind)r.") % {"kind": kind})
    if channel not in ServiceDelivery.Channel.values:
        raise ServiceError(_("Unknown channel %(channel)r.") % {"channel": channel})
    when = delivered_on or timezone.localdate()
    if when > timezone.localdate():
        raise ServiceError(_("A service cannot be recorded in the future."))
    if kind == ServiceDelivery.Kind.INTERPRETATION and not language:
        raise ServiceError(_("Say which language was interpreted."), "language_required")
    if minutes is not None and not 0 < minutes <= 24 * 60:
        raise ServiceError(_("Minutes must be between 1 and 1440."))
    with transaction.atomic():
        row = ServiceDelivery.objects.create(
            client=client,
            organisation=client.organisation,
            kind=kind,
            channel=channel,
            delivered_on=when,
            minutes=minutes,
            language=language[:8],
            delivered_by=by.name,
        )
        _event(by, "service.record", client, row, kind=kind)
    return row


# --- stays ------------------------------------------------------------------------------------


@retry_on_conflict
def stay_admit(
    *, by: Principal, client: Client, room_id: Any, bed: int | None = None, at: Any = None
) -> Stay:
    """Admit her household into a room of the organisation's own facility.

    Locks the room, asks every claim on its beds (stays, holds), picks a free bed, all in one
    transaction: two caseworkers admitting into the last bed at once cannot both succeed.
    ``bed`` reuses a bed already claimed for her (a hold turning into a stay, refuge.referrals).
    """
    from refuge.vacancies import beds

    require(by, can_view_cases)
    size = 1 + client.household.count()
    with transaction.atomic():
        room = beds.lock_room(room_id)
        at = at or timezone.now()  # after the lock: the moment the bed is really taken
        if room.facility.organisation_id != by.org_id:
            raise ServiceError(
                _("You can admit only into your own organisation's rooms."), "forbidden"
            )
        if Stay.objects.filter(client=client, discharged_at__isnull=True).exists():
            raise ServiceError(_("She already has a current stay; discharge it first."), "conflict")
        if bed is None:
            bed = beds.pick_bed(room, size, beds.claimed(room, at))
        stay = Stay.objects.create(
            client=client,
            facility=room.facility,
            room=room,
            bed=bed,
            household_size=size,
            admitted_at=at,
            admitted_by=by.name,
        )
        _event(by, "stay.admit", client, stay, facility=str(room.facility_id))
    return stay


@retry_on_conflict
def stay_discharge(*, by: Principal, stay: Stay, outcome: str) -> Stay:
    require(by, can_view_cases)
    if stay.facility.organisation_id != by.org_id:
        raise ServiceError(_("Only the facility's staff can discharge."), "forbidden")
    if stay.discharged_at is not None:
        raise ServiceError(_("This stay has already ended."), "conflict")
    if outcome not in Stay.Outcome.values:
        raise ServiceError(_("Unknown outcome %(outcome)r.") % {"outcome": outcome})
    from refuge.vacancies import beds

    with transaction.atomic():
        # The room is locked like every other change to its use (a hold, an admission, a
        # report), so the free figure a service reads under the lock cannot move meanwhile;
        # the stay is read again under it, so a double discharge ends it once.
        beds.lock_room(stay.room_id)
        stay = Stay.objects.select_related("client", "facility").get(pk=stay.pk)
        if stay.discharged_at is not None:
            raise ServiceError(_("This stay has already ended."), "conflict")
        stay.discharged_at, stay.discharged_by, stay.outcome = timezone.now(), by.name, outcome
        stay.save(update_fields=["discharged_at", "discharged_by", "outcome"])
        _event(by, "stay.discharge", stay.client, stay, outcome=outcome)
    return stay
