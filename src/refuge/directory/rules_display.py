"""House rules in words, for profiles (one line per rule, "not stated" where it is)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import Cost, HouseRules


def _yes_no(value: bool | None) -> str:
    if value is None:
        return _("not stated")
    return _("yes") if value else _("no")


def _limit(value: int | None, text: str) -> str:
    return _("no limit") if value is None else text % {"n": value}


def rules_summary(rules: HouseRules) -> list[tuple[str, str]]:
    children = _yes_no(rules.children_accepted)
    if rules.children_accepted:
        parts = [
            _limit(rules.max_children, _("at most %(n)s")),
            _("boys up to %(n)s") % {"n": rules.boys_max_age}
            if rules.boys_max_age is not None
            else _("boys of any age"),
            _("girls up to %(n)s") % {"n": rules.girls_max_age}
            if rules.girls_max_age is not None
            else _("girls of any age"),
        ]
        children = _("yes") + " (" + ", ".join(parts) + ")"
    langs = ", ".join(rules.staff_languages or []) or _("not stated")
    cost = dict(Cost.choices).get(rules.cost or "", _("not stated"))
    if rules.cost_note:
        cost = f"{cost}: {rules.cost_note}"
    lines = [
        (_("Who"), _("women only") if rules.women_only else _("any gender")),
        (
            _("Minimum age"),
            _("not stated") if rules.min_age is None else str(rules.min_age),
        ),
        (_("Children"), children),
        (_("Pets"), _yes_no(rules.pets_accepted)),
        (_("Wheelchair access"), _yes_no(rules.wheelchair_accessible)),
        (_("Women who use alcohol or drugs"), _yes_no(rules.substance_use_accepted)),
        (_("Women with mental-health conditions"), _yes_no(rules.mental_health_accepted)),
        (_("Passport required"), _yes_no(rules.requires_passport)),
        (
            _("Residence permit required (foreign citizens)"),
            _yes_no(rules.requires_residence_permit),
        ),
        (_("Local registration required"), _yes_no(rules.requires_local_registration)),
        (_("Foreign citizens accepted"), _yes_no(rules.foreign_citizens_accepted)),
        (_("Staff languages"), langs),
        (
            _("Longest stay"),
            _limit(rules.max_stay_days, _("%(n)s days")),
        ),
        (_("Cost"), cost),
    ]
    if rules.notes:
        lines.append((_("Other rules"), rules.notes))
    return lines
