"""Every state change of the directory: profiles, facilities, house rules, services, phones.

``by`` is the principal making the change, or None for the system (the shipped directory
loader and the HSDS importer, which write their own audit events).
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from refuge.core import audit
from refuge.core.access import Principal, require
from refuge.core.models import Organisation
from refuge.core.roles import Role, can_manage_facility
from refuge.core.services import ServiceError
from refuge.placement.geo import valid_point

from . import hours
from .hours_display import day_name
from .models import (
    FACILITY_PROFILE_FIELDS,
    HOUSE_RULE_FIELDS,
    HOUSE_RULE_TEXT_FIELDS,
    AddressVisibility,
    ContactVisibility,
    Cost,
    Facility,
    FacilityKind,
    FacilityService,
    Faith,
    HouseRules,
    OrganisationProfile,
    Phone,
    PhoneKind,
    Region,
    ServiceKind,
)

FACILITY_FIELDS = FACILITY_PROFILE_FIELDS
# Changes to these are audited by name only: the audit log must not become a copy of a
# confidential address.
SEALED_LOCATION_FIELDS = ("address", "postal_code", "latitude", "longitude")
LOCATION_FIELDS = frozenset({"locality", "address", "postal_code", "latitude", "longitude"})
RULE_FIELDS = (*HOUSE_RULE_FIELDS, *HOUSE_RULE_TEXT_FIELDS)
RULE_LIMITS = {
    "min_age": (0, 100),
    "max_children": (0, 30),
    "boys_max_age": (0, 25),
    "girls_max_age": (0, 25),
    "max_stay_days": (1, 3650),
}
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def check_can_manage(by: Principal | None, organisation_id: int) -> None:
    """The principal may manage facilities and this is their own organisation (None: system)."""
    if by is None:
        return
    require(by, can_manage_facility)
    if by.org_id != organisation_id:
        raise ServiceError(
            _("You can change only your own organisation's facilities."), "forbidden"
        )


def _audit(by: Principal | None, action: str, facility: Facility, **details: Any) -> None:
    audit.record(
        actor=by,
        action=action,
        target_type="directory.facility",
        target_id=facility.pk,
        target_org_slug=facility.organisation.slug,
        details=details or None,
    )


# --- phones ----------------------------------------------------------------------------------


def normalise_phone(raw: str, default_region: str = "") -> tuple[str, bool]:
    """(E.164, recognised) or a clear error. ``recognised`` is False for a number that is
    possible but not in the numbering plan phonenumbers knows (kept as published, flagged)."""
    text = (raw or "").strip().strip('"').strip()
    try:
        number = phonenumbers.parse(text, (default_region or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise ServiceError(
            _(
                "“%(raw)s” does not look like a phone number. Include the country code (+7, +996, +420) or choose the region."
            )
            % {"raw": raw},
            "invalid_phone",
        ) from exc
    if not phonenumbers.is_possible_number(number):
        raise ServiceError(
            _("“%(raw)s” does not look like a phone number.") % {"raw": raw}, "invalid_phone"
        )
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.is_valid_number(number)


def phone_display(e164: str) -> str:
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return e164


def phone_add(
    *,
    by: Principal | None,
    organisation: Organisation,
    facility: Facility | None = None,
    number: str,
    kind: str = PhoneKind.VOICE,
    description: str = "",
    visibility: str = ContactVisibility.PUBLIC,
    extension: str = "",
    default_region: str = "",
    phone_id=None,
) -> Phone:
    check_can_manage(by, organisation.pk)
    if facility is not None and facility.organisation_id != organisation.pk:
        raise ServiceError(_("This facility belongs to another organisation."), "forbidden")
    if kind not in PhoneKind.values:
        raise ServiceError(_("Unknown kind of phone."), "invalid")
    if visibility not in ContactVisibility.values:
        raise ServiceError(_("Unknown visibility."), "invalid")
    if not default_region and facility is not None and facility.region_id:
        default_region = facility.region_id[:2]
    e164, recognised = normalise_phone(number, default_region)
    with transaction.atomic():
        position = Phone.objects.filter(organisation=organisation, facility=facility).count()
        phone = Phone(
            organisation=organisation,
            facility=facility,
            number=e164,
            extension=str(extension or "")[:10],
            kind=kind,
            description=description[:200],
            visibility=visibility,
            recognised=recognised,
            position=position,
        )
        if phone_id is not None:
            phone.id = phone_id
        phone.save()
        if facility is not None:
            _touch(facility)
            _audit(by, "facility.phone_add", facility, phone=str(phone.pk))
        else:
            audit.record(
                actor=by,
                action="organisation.phone_add",
                target_type="core.organisation",
                target_id=organisation.pk,
                target_org_slug=organisation.slug,
                details={"phone": str(phone.pk)},
            )
    return phone


def phone_remove(*, by: Principal, phone: Phone) -> None:
    check_can_manage(by, phone.organisation_id)
    with transaction.atomic():
        facility = phone.facility
        pk = phone.pk
        phone.delete()
        if facility is not None:
            _touch(facility)
            _audit(by, "facility.phone_remove", facility, phone=str(pk))


# --- organisations -----------------------------------------------------------------------------


def organisation_profile(organisation: Organisation) -> OrganisationProfile:
    """The organisation's directory profile, created empty the first time it is needed."""
    profile, _created = OrganisationProfile.objects.get_or_create(organisation=organisation)
    return profile


def organisation_profile_update(
    *, by: Principal | None, organisation: Organisation, **values: Any
) -> OrganisationProfile:
    check_can_manage(by, organisation.pk)
    allowed = {"alternate_name", "description", "email", "website"}
    if unknown := set(values) - allowed:
        raise ServiceError(
            _("Unknown profile fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        profile = organisation_profile(organisation)
        changed = [k for k, v in values.items() if getattr(profile, k) != v]
        for k, v in values.items():
            setattr(profile, k, v)
        profile.save()
        if changed:
            audit.record(
                actor=by,
                action="organisation.profile_update",
                target_type="core.organisation",
                target_id=organisation.pk,
                target_org_slug=organisation.slug,
                details={"fields": sorted(changed)},
            )
    return profile


# --- facilities --------------------------------------------------------------------------------


def _clean_facility(values: dict[str, Any]) -> dict[str, Any]:
    if unknown := set(values) - set(FACILITY_FIELDS):
        raise ServiceError(
            _("Unknown facility fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    out = dict(values)
    if "name" in out:
        out["name"] = (out["name"] or "").strip()
        if not out["name"]:
            raise ServiceError(_("A facility needs a name."), "invalid")
    if "kind" in out and out["kind"] not in FacilityKind.values:
        raise ServiceError(_("Unknown kind of facility."), "invalid")
    if "faith" in out and (out["faith"] or "") not in Faith.values:
        raise ServiceError(_("Unknown faith."), "invalid")
    if "address_visibility" in out and out["address_visibility"] not in AddressVisibility.values:
        raise ServiceError(_("Unknown address visibility."), "invalid")
    region = out.get("region")
    if isinstance(region, str):
        region_obj = Region.objects.filter(code=region).first()
        if region_obj is None:
            raise ServiceError(_("Unknown region %(code)s.") % {"code": region}, "invalid")
        out["region"] = region_obj
    if "country" in out:
        out["country"] = (out["country"] or "").upper()
        if out["country"] and not re.fullmatch(r"[A-Z]{2}", out["country"]):
            raise ServiceError(_("A country is a two-letter code (RU, KG, CZ)."), "invalid")
    if out.get("region") is not None:
        if out.get("country") and out["country"] != out["region"].country:
            raise ServiceError(_("The region is not in that country."), "invalid")
        out["country"] = out["region"].country
    return out


def _check_point(facility: Facility) -> None:
    lat, lon = facility.latitude, facility.longitude
    if (lat is None) != (lon is None):
        raise ServiceError(_("Give both latitude and longitude, or neither."), "invalid")
    if lat is not None and not valid_point(lat, lon):
        raise ServiceError(
            _("Latitude must be between −90 and 90 and longitude between −180 and 180."),
            "invalid",
        )
    if facility.faith and facility.kind != FacilityKind.FAITH_BASED:
        raise ServiceError(_("A faith is given only for a faith-based shelter."), "invalid")


def facility_create(
    *,
    by: Principal | None,
    organisation: Organisation,
    name: str,
    kind: str,
    rules: dict[str, Any] | None = None,
    services: dict[str, str] | list[str] | None = None,
    hsds_ids: dict[str, Any] | None = None,
    **values: Any,
) -> Facility:
    """Create a facility of `organisation` with its house rules (defaults: women only, nothing
    else stated) and the services it offers."""
    check_can_manage(by, organisation.pk)
    values = _clean_facility({"name": name, "kind": kind, **values})
    with transaction.atomic():
        organisation_profile(organisation)
        facility = Facility(organisation=organisation, **values)
        for key, value in (hsds_ids or {}).items():
            setattr(facility, key, value)
        _check_point(facility)
        facility.save()
        HouseRules.objects.create(facility=facility, **_clean_rules(rules or {}))
        _set_services(facility, services or {})
        _audit(
            by,
            "facility.create",
            facility,
            kind=facility.kind,
            region=facility.region_id or "",
            visibility=facility.address_visibility,
        )
    return facility


def facility_update(*, by: Principal | None, facility: Facility, **values: Any) -> Facility:
    check_can_manage(by, facility.organisation_id)
    values = _clean_facility(values)
    with transaction.atomic():
        current = Facility.objects.select_for_update().get(pk=facility.pk)
        changed = {}
        for key, value in values.items():
            old = getattr(current, key)
            if old != value:
                changed[key] = value
                setattr(current, key, value)
        _check_point(current)
        if not changed:
            return current
        current.save()
        details: dict[str, Any] = {"fields": sorted(changed)}
        visible = {
            k: (v.pk if isinstance(v, Region) else v)
            for k, v in changed.items()
            if k not in LOCATION_FIELDS and k not in {"description", "source_note"}
        }
        if visible:
            details["values"] = visible
        _audit(by, "facility.update", current, **details)
    return current


def facility_locations_reseal() -> int:
    """Seal every confidential facility's location again under the active master key (run by
    ``rotate-master-key``, so the old key can go). Returns how many facilities."""
    fields = [Facility._meta.get_field(name) for name in SEALED_LOCATION_FIELDS]
    done = 0
    with transaction.atomic():
        rows = Facility.objects.select_for_update().filter(
            address_visibility=AddressVisibility.CONFIDENTIAL
        )
        for facility in rows.only("pk", "address_visibility", *SEALED_LOCATION_FIELDS):
            update = {f.attname: f.pre_save(facility, add=False) for f in fields}
            Facility.objects.filter(pk=facility.pk).update(**update)
            done += 1
    return done


class CompromiseReason(models.TextChoices):
    """Why a facility is marked compromised, or why it is safe again (a category only: the
    audit keeps no free text about the threat)."""

    ADDRESS_KNOWN = (
        "address_known",
        gettext_lazy("Its address is known to someone who threatens her"),
    )
    SEEN_NEARBY = "seen_nearby", gettext_lazy("He or people sent by him were seen near it")
    STAFF_THREATENED = "staff_threatened", gettext_lazy("Staff or residents were threatened")
    OTHER_RISK = "other_risk", gettext_lazy("Another risk the coordinator judged")
    THREAT_GONE = (
        "threat_gone",
        gettext_lazy("Safe again: the threat has gone (moved away, in custody)"),
    )
    MARKED_BY_MISTAKE = "mistake", gettext_lazy("Safe again: it was marked by mistake")


MARK_REASONS = ("address_known", "seen_nearby", "staff_threatened", "other_risk")
LIFT_REASONS = ("threat_gone", "mistake")


def facility_set_compromised(
    *, by: Principal | None, facility: Facility, compromised: bool, reason: str = ""
) -> None:
    """Mark (or clear) a facility whose location is known to the threat; placement then sends
    no one there. SPEC C6: a coordinator does this (the evacuation workflow builds on it), and
    from the pages always with a reason (issue 16): marking and lifting are both audited with
    their category."""
    if by is not None and by.role != Role.COORDINATOR:
        raise ServiceError(_("Only a coordinator can mark a facility compromised."), "forbidden")
    if by is not None and reason not in (MARK_REASONS if compromised else LIFT_REASONS):
        raise ServiceError(_("Choose why."), "reason_required")
    with transaction.atomic():
        Facility.objects.filter(pk=facility.pk).update(
            compromised_since=timezone.now() if compromised else None
        )
        details = {"reason": reason} if reason else {}
        action = "facility.compromised" if compromised else "facility.safe_again"
        _audit(by, action, facility, **details)


# --- house rules -------------------------------------------------------------------------------


def _clean_rules(values: dict[str, Any]) -> dict[str, Any]:
    if unknown := set(values) - set(RULE_FIELDS):
        raise ServiceError(
            _("Unknown house rules: %(rules)s.") % {"rules": ", ".join(sorted(unknown))}
        )
    out = dict(values)
    for name, (low, high) in RULE_LIMITS.items():
        value = out.get(name)
        if value is not None and not (low <= int(value) <= high):
            raise ServiceError(
                _("%(rule)s must be between %(low)s and %(high)s.")
                % {"rule": HouseRules._meta.get_field(name).verbose_name, "low": low, "high": high},
                "invalid",
            )
    if "staff_languages" in out:
        langs = []
        for code in out["staff_languages"] or []:
            code = str(code).strip().lower()
            if not LANGUAGE_CODE.match(code):
                raise ServiceError(
                    _("“%(code)s” is not a language code (use two letters: ru, ky, en, cs).")
                    % {"code": code},
                    "invalid",
                )
            if code not in langs:
                langs.append(code)
        out["staff_languages"] = langs
    if "cost" in out and (out["cost"] or "") not in Cost.values:
        raise ServiceError(_("Cost is free, paid or not stated."), "invalid")
    if out.get("children_accepted") is False and (
        out.get("max_children") or out.get("boys_max_age") or out.get("girls_max_age")
    ):
        raise ServiceError(
            _("Limits on children make no sense when children are not accepted."), "invalid"
        )
    return out


def house_rules_update(*, by: Principal | None, facility: Facility, **values: Any) -> HouseRules:
    check_can_manage(by, facility.organisation_id)
    values = _clean_rules(values)
    with transaction.atomic():
        rules, _created = HouseRules.objects.select_for_update().get_or_create(facility=facility)
        merged = {name: getattr(rules, name) for name in RULE_FIELDS} | values
        _clean_rules(merged)
        changed = {k: v for k, v in values.items() if getattr(rules, k) != v}
        if not changed:
            return rules
        for key, value in changed.items():
            setattr(rules, key, value)
        rules.save()
        _audit(by, "facility.rules_update", facility, changes=changed)
    return rules


# --- opening hours -----------------------------------------------------------------------------


def hours_problem_message(problem: hours.Problem) -> str:
    """A manager's words for what is wrong with one line of the hours."""
    if problem.code == "no_days":
        return _("Opening hours, line %(line)s: choose at least one day.") % {"line": problem.line}
    if problem.code == "closes_before_opens":
        return _(
            "Opening hours, line %(line)s: the opening time must be before the closing time. "
            "Hours past midnight are two lines (for example 19:00–24:00 and 00:00–08:00)."
        ) % {"line": problem.line}
    if problem.code == "overlap":
        return _("Opening hours, lines %(line)s and %(other)s overlap on %(day)s.") % {
            "line": problem.line,
            "other": problem.other,
            "day": day_name(problem.day),
        }
    if problem.code == "bad_day":
        return _("Opening hours, line %(line)s: unknown day of the week.") % {"line": problem.line}
    return _("Opening hours, line %(line)s: a time is between 00:00 and 24:00.") % {
        "line": problem.line
    }


def clean_hours(windows: list[hours.Window] | list[dict]) -> list[hours.Window]:
    """Windows (or their JSON form) checked, or a ServiceError that names every bad line."""
    try:
        found = [w if isinstance(w, hours.Window) else hours.Window.from_json(w) for w in windows]
    except ValueError as exc:
        raise ServiceError(_("Opening hours: a time is written as HH:MM."), "invalid") from exc
    if problems := hours.problems(found):
        raise ServiceError(" ".join(hours_problem_message(p) for p in problems), "invalid")
    return hours.normalise(found)


def facility_hours_set(
    *, by: Principal | None, facility: Facility, windows: list[hours.Window] | list[dict]
) -> bool:
    """Replace the facility's opening hours (an empty list: not stated). Returns whether
    anything changed."""
    check_can_manage(by, facility.organisation_id)
    stored = hours.dumps(clean_hours(windows))
    with transaction.atomic():
        current = Facility.objects.select_for_update().get(pk=facility.pk)
        if current.opening_hours == stored:
            return False
        # update(): the public pages' "last changed" must move, so updated_at is set here.
        now = timezone.now()
        Facility.objects.filter(pk=facility.pk).update(opening_hours=stored, updated_at=now)
        facility.opening_hours, facility.updated_at = stored, now
        _audit(by, "facility.hours_update", current, hours=stored)
    return True


# --- services ----------------------------------------------------------------------------------


def _touch(facility: Facility) -> None:
    """A change to what the facility publishes (phones, services) is a change of the facility:
    its "last changed" and HSDS ``last_modified`` move, so ``modified_after`` finds it."""
    now = timezone.now()
    Facility.objects.filter(pk=facility.pk).update(updated_at=now)
    facility.updated_at = now


def _set_services(facility: Facility, services: dict[str, str] | list[str]) -> list[str]:
    wanted = services if isinstance(services, dict) else {k: "" for k in services}
    if unknown := set(wanted) - set(ServiceKind.values):
        raise ServiceError(
            _("Unknown services: %(services)s.") % {"services": ", ".join(sorted(unknown))}
        )
    existing = {s.kind: s for s in FacilityService.objects.filter(facility=facility)}
    changed = []
    for kind, note in wanted.items():
        note = (note or "")[:300]
        if kind not in existing:
            FacilityService.objects.create(facility=facility, kind=kind, note=note)
            changed.append(f"+{kind}")
        elif existing[kind].note != note:
            FacilityService.objects.filter(pk=existing[kind].pk).update(note=note)
            changed.append(f"~{kind}")
    gone = [kind for kind in existing if kind not in wanted]
    if gone:
        FacilityService.objects.filter(facility=facility, kind__in=gone).delete()
        changed += [f"-{kind}" for kind in gone]
    return changed


def facility_services_set(
    *, by: Principal | None, facility: Facility, services: dict[str, str] | list[str]
) -> list[str]:
    """Replace the services a facility offers (kind → note). Returns the changes."""
    check_can_manage(by, facility.organisation_id)
    with transaction.atomic():
        changed = _set_services(facility, services)
        if changed:
            _touch(facility)
            _audit(by, "facility.services_update", facility, changes=sorted(changed))
    return changed


# --- shipped and imported directories ---------------------------------------------------------


def organisation_import(
    *,
    by: Principal | None,
    hsds_id: str,
    name: str,
    kind: str,
    slug: str,
    **profile: Any,
) -> tuple[Organisation, bool]:
    """Create or update an organisation known by its HSDS id (the shipped directory and the
    HSDS importer). Returns (organisation, created)."""
    from refuge.core.services import organisation_create

    existing = (
        OrganisationProfile.objects.select_related("organisation").filter(hsds_id=hsds_id).first()
    )
    with transaction.atomic():
        if existing is None:
            organisation = Organisation.objects.filter(slug=slug).first()
            if organisation is None:
                organisation = organisation_create(by=by, slug=slug, name=name, kind=kind)
                created = True
            else:
                created = False
            record, _new = OrganisationProfile.objects.get_or_create(organisation=organisation)
            if str(record.hsds_id) != str(hsds_id):
                OrganisationProfile.objects.filter(pk=record.pk).update(hsds_id=hsds_id)
        else:
            organisation, created = existing.organisation, False
        if organisation.name != name:
            Organisation.objects.filter(pk=organisation.pk).update(name=name)
            organisation.name = name
            audit.record(
                actor=by,
                action="organisation.rename",
                target_type="core.organisation",
                target_id=organisation.pk,
                target_org_slug=organisation.slug,
                details={"name": name},
            )
        organisation_profile_update(by=by, organisation=organisation, **profile)
    return organisation, created


def phones_replace(
    *,
    by: Principal | None,
    organisation: Organisation,
    facility: Facility | None,
    phones: list[dict[str, Any]],
) -> bool:
    """Make the phones of a facility (or, with facility None, of the organisation itself) be
    exactly `phones` (dicts with id, number in E.164, kind, description, extension,
    visibility). Returns whether anything changed."""
    check_can_manage(by, organisation.pk)
    with transaction.atomic():
        existing = {
            str(p.pk): p for p in Phone.objects.filter(organisation=organisation, facility=facility)
        }
        wanted_ids = {str(p["id"]) for p in phones}
        changed = False
        for position, item in enumerate(phones):
            values = {
                "number": item["number"],
                "kind": item.get("kind") or PhoneKind.VOICE,
                "description": (item.get("description") or "")[:200],
                "extension": str(item.get("extension") or "")[:10],
                "visibility": item.get("visibility") or ContactVisibility.PUBLIC,
                "recognised": item.get("recognised", True),
                "position": position,
            }
            current = existing.get(str(item["id"]))
            if current is None:
                Phone.objects.update_or_create(
                    id=item["id"],
                    defaults={"organisation": organisation, "facility": facility, **values},
                )
                changed = True
            elif any(getattr(current, k) != v for k, v in values.items()):
                Phone.objects.filter(pk=current.pk).update(**values)
                changed = True
        gone = [pk for pk in existing if pk not in wanted_ids]
        if gone:
            Phone.objects.filter(pk__in=gone).delete()
            changed = True
        if changed and facility is not None:
            _touch(facility)
            _audit(by, "facility.phones_replace", facility, count=len(phones))
        elif changed:
            OrganisationProfile.objects.filter(organisation=organisation).update(
                updated_at=timezone.now()
            )
    return changed
