"""Demo outcome surveys for the demo clients (refuge.cases.demo): a "before" for every woman, an
"after" for about two in three, through the same service as the survey page. Invented answers
with a plausible shape (fewer injuries and fears after support, more safety). Idempotent."""

from __future__ import annotations

import random

from refuge.cases.models import Client
from refuge.core.access import Principal
from refuge.core.models import User

from . import services, surveys
from .models import SurvivorOutcome

# Chance of "yes" before and after support, and of "does not know or prefers not to say".
SHAPE = {
    "injured_3m": (0.55, 0.15),
    "feels_very_safe": (0.1, 0.55),
    "afraid_often": (0.8, 0.35),
    "children_exposed": (0.45, 0.1),
    "safe_housing": (0.2, 0.6),
    "own_income": (0.3, 0.45),
    "knows_where_help": (0.35, 0.9),
    "someone_to_turn_to": (0.4, 0.75),
}
DONT_KNOW = 0.06


def _answers(rng: random.Random, phase: int) -> dict[str, str]:
    out = {}
    for item in surveys.get().items:
        p = SHAPE.get(item.id, (0.5, 0.5))[phase]
        if rng.random() < DONT_KNOW:
            out[item.id] = "dk"
        else:
            out[item.id] = "yes" if rng.random() < p else "no"
    return out


def load(stdout) -> None:
    if SurvivorOutcome.objects.exists():
        return
    rng = random.Random(7)  # noqa: S311 - demo data
    staff = {
        u.organisation.pk: Principal.for_user(u)
        for u in User.objects.filter(username__in=["caseworker", "caseworker-kg"])
        if u.organisation is not None
    }
    made = 0
    for client in Client.objects.filter(organisation_id__in=staff).order_by(
        "created_at", "case_code"
    ):
        by = staff[client.organisation_id]
        services.survivor_outcome_record(
            by=by, client=client, phase="before", answers=_answers(rng, 0)
        )
        made += 1
        if rng.random() < 0.7:
            services.survivor_outcome_record(
                by=by, client=client, phase="after", answers=_answers(rng, 1)
            )
            made += 1
    stdout.write(f"Demo outcome surveys: {made}.")
