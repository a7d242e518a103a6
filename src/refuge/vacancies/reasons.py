"""Reason codes of refuge.placement.fit in words for people (translated)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from refuge.placement.fit import Reason


def reason_text(reason: Reason) -> str:
    """Why the facility cannot take the household, in one short phrase."""
    d = reason.data
    code = reason.code
    if code == "no_capacity":
        return _("No free place for this household now")
    if code == "household_too_large":
        if "max_children" in d:
            return _("Takes at most %(n)s children") % {"n": d["max_children"]}
        return _("Its rooms hold at most %(largest)s people; this household is %(size)s") % d
    if code == "children_not_accepted":
        return _("Does not take children")
    if code == "boys_age_limit":
        return _("Boys only up to age %(limit)s") % d
    if code == "girls_age_limit":
        return _("Girls only up to age %(limit)s") % d
    if code == "too_young":
        return _("Only women aged %(min_age)s or over") % d
    if code == "gender":
        return _("Women only")
    if code == "pets_not_accepted":
        return _("No pets")
    if code == "no_wheelchair_access":
        return _("No wheelchair access")
    if code == "substance_use_not_accepted":
        return _("Does not take women who use alcohol or drugs")
    if code == "mental_health_not_accepted":
        return _("Does not take women with mental-health conditions")
    if code == "documents_required":
        if d.get("document") == "residence_permit":
            return _("Residence permit required")
        return _("Passport required")
    if code == "local_registration_required":
        return _("Local registration required")
    if code == "foreign_citizens_not_accepted":
        return _("Does not take foreign citizens")
    if code == "no_common_language":
        return _("No language in common with the staff")
    if code == "too_close":
        if d.get("region"):
            return _("In a region she must avoid")
        if d.get("unknown_location"):
            return _("Its location is not known, so the distance cannot be checked")
        if "within" in d:
            return _("Closer than %(within)s km to where she must stay away") % d
        return _("Only %(km)s km from where she must stay away") % d
    if code == "stay_too_long":
        return _("Stays of at most %(max_days)s days") % d
    if code == "compromised":
        return _("Location compromised: send no one")
    return code


def unverified_text(reason: Reason) -> str:
    """A rule the facility has not stated that matters for this household: call to check."""
    code = reason.code
    d = reason.data
    if code == "children_not_accepted":
        return _("Children: not stated")
    if code == "pets_not_accepted":
        return _("Pets: not stated")
    if code == "no_wheelchair_access":
        return _("Wheelchair access: not stated")
    if code == "substance_use_not_accepted":
        return _("Alcohol or drug use: not stated")
    if code == "mental_health_not_accepted":
        return _("Mental-health conditions: not stated")
    if code == "documents_required":
        if d.get("document") == "residence_permit":
            return _("Residence permit: not stated whether required")
        return _("Passport: not stated whether required")
    if code == "local_registration_required":
        return _("Local registration: not stated whether required")
    if code == "foreign_citizens_not_accepted":
        return _("Foreign citizens: not stated")
    if code == "no_common_language":
        return _("Language: check (interpretation offered or staff languages not stated)")
    return reason_text(reason)
