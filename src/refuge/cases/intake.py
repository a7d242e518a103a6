"""The guided intake (SPEC C5, issue 16): one path from the call card to a sent referral.

    her  →  household and safety  →  screening (live score)  →  a place (the search, prefilled)
         →  the referral  →  travel (on the referral's page once a shelter accepts)

Each step saves to her case file as the tabs do (the same service functions), so going back
and forward loses nothing, and the tabs show the same record. The steps only carry, in the
query, what she did not agree to keep: the region she must avoid, for this search only.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from refuge.directory.pickers import known_region

from .forms import children_text
from .templatetags.cases_tags import BANDS

SCREENING = ("refuge-screen", 1)
STEPS = (
    ("her", gettext_lazy("Her")),
    ("household", gettext_lazy("Household and safety")),
    ("screening", gettext_lazy("Screening")),
    ("search", gettext_lazy("A place")),
)


def _maybe(avoid: str) -> dict:
    return {"avoid": avoid} if avoid else {}


def avoid_of(request: HttpRequest) -> str:
    """The region to avoid carried in the query, when it is a region."""
    code = request.GET.get("avoid", "")
    return code if code and len(code) <= 10 and known_region(code) else ""


def query(request: HttpRequest) -> str:
    """The intake's query for the screening pages (``intake=1``, and a region to avoid that
    is not kept), or "" when the page was not reached through the intake."""
    if request.GET.get("intake") != "1":
        return ""
    avoid = avoid_of(request)
    return urlencode({"intake": 1, **_maybe(avoid)})


def screening_url(client, *, avoid: str = "") -> str:
    instrument, version = SCREENING
    url = reverse("cases:risk_form", args=[client.case_code, instrument, version])
    return f"{url}?{urlencode({'intake': 1, **_maybe(avoid)})}"


def search_url(client, request: HttpRequest | None = None, *, avoid: str = "") -> str:
    """The search, run at once from everything her case file says (``go``), and the region
    she must avoid that she did not agree to keep (``avoid``)."""
    avoid = avoid or (avoid_of(request) if request is not None else "")
    params = {"case": client.case_code, "go": 1, **_maybe(avoid)}
    return f"{reverse('referrals:search')}?{urlencode(params)}"


def steps(client, current: str, *, avoid: str = "") -> list[dict]:
    """The step bar: where she is, and links back (and forward, once her case is open).
    `client` is her case (or its code), None before it is opened."""
    urls = {"her": reverse("cases:new")}
    if client is not None:
        code = getattr(client, "case_code", client)
        instrument, version = SCREENING
        screening = reverse("cases:risk_form", args=[code, instrument, version])
        urls = {
            "her": reverse("cases:intake_her", args=[code]),
            "household": reverse("cases:intake_household", args=[code]),
            "screening": f"{screening}?{urlencode({'intake': 1, **_maybe(avoid)})}",
            "search": f"{reverse('referrals:search')}?{urlencode({'case': code, 'go': 1})}",
        }
    return [
        {"n": n, "key": key, "label": label, "url": urls.get(key, ""), "current": key == current}
        for n, (key, label) in enumerate(STEPS, start=1)
    ]


def household_initial(client) -> dict:
    children = [
        {"age": m.age, "sex": m.sex} for m in client.household.all() if m.relation == "child"
    ]
    return {"children": children_text(children), "pets": client.pets or None}


def screened_message(assessment) -> str:
    return _(
        "Screening finished: %(band)s risk. These are the places that can take her now, found "
        "from everything she told you."
    ) % {"band": BANDS.get(assessment.band, assessment.band)}


def call_from(request: HttpRequest):
    """The call the intake was started from (``?call=``), when this person may see it."""
    from refuge.core.access import principal
    from refuge.core.ids import int_or_none
    from refuge.hotline import selectors as hotline_selectors

    pk = int_or_none(request.GET.get("call") or request.POST.get("call"))
    if pk is None:
        return None
    try:
        return hotline_selectors.call_for_principal(principal(request), pk)
    except Http404:
        return None


def started_from_call(request: HttpRequest, call) -> None:
    from refuge.hotline import wrapup_hints

    wrapup_hints.intake_started(request, call.pk)
