"""Why a facility suits her, in words for people (the reasons for refusal are in
refuge.vacancies.reasons)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from refuge.directory.models import ServiceKind
from refuge.directory.pickers import language_label
from refuge.placement.fit import Reason


def why_text(reason: Reason) -> str:
    d = reason.data
    code = reason.code
    if code == "place_confirmed":
        return ngettext(
            "%(n)s free bed, confirmed by the system",
            "%(n)s free beds, confirmed by the system",
            d.get("free_beds") or 0,
        ) % {"n": d.get("free_beds") or 0}
    if code == "place_reported":
        return ngettext(
            "%(n)s free bed, as reported", "%(n)s free beds, as reported", d.get("free_beds") or 0
        ) % {"n": d.get("free_beds") or 0}
    if code == "availability_unknown":
        return _("Availability not known: call to check")
    if code == "family_room_fits":
        return _("A family room with %(beds)s beds for a household of %(household)s") % d
    if code == "in_home_region":
        return _("In her home region")
    if code == "distance":
        return _("%(km)s km from her home region") % d
    if code == "services":
        kinds = dict(ServiceKind.choices)
        names = [str(kinds[k]) for k in d["matched"] if k in kinds]
        return _("Offers: %(list)s") % {"list": ", ".join(names)}
    if code == "common_language":
        return _("Staff speak: %(list)s") % {
            "list": ", ".join(language_label(c) for c in d["languages"])
        }
    return code
