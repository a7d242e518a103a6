"""A year of demo calls on the coalition's shared PBX and the Kyrgyz 117 line.

Deterministic (seeded) and fast: the calls go through `services.calls_bulk_load`, which
derives each call exactly as live PBX events are derived (merge, caller key, region, repeat
flags) and records the wrap-ups. Callers' numbers are generated, hashed and dropped like real
ones; they exist nowhere after loading. Loading twice adds nothing.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, time, timedelta

from django.utils import timezone

from refuge.core.access import Principal
from refuge.core.models import Organisation, User

from . import merge, services
from .models import Call, Callback, Line
from .services import CallRecord, WrapUpData
from .windows import Window

SEED = 20231117
DAYS = 365

# (number, name, owner, country, region, service area, regional line, calls a day)
LINES = [
    ("74950000001", "Coalition hotline", "coalition-hotline", "RU", "RU-MOW",
     "RU-MOW,RU-MOS,RU-VLA,RU-YAR,RU-TVE,RU-TUL,RU-KLU,RU-SMO,RU-RYA,RU-IVA,RU-KOS",
     False, 6.5),
    ("74950000002", "Kitezh refuge line", "kitezh", "RU", "RU-MOW", "RU-MOW,RU-MOS", False, 1.6),
    ("74872000003", "Tula regional number", "coalition-hotline", "RU", "RU-TUL", "RU-TUL",
     True, 0.6),
    ("117", "117 hotline (Kyrgyzstan)", "sezim", "KG", "KG-GB", "KG", False, 3.2),
]  # fmt: skip
EXTENSIONS = [("operator", "101"), ("caseworker", "201"), ("caseworker-kg", "301")]

# Where callers of each country are: (area code or "" for a mobile, weight).
RU_AREAS = [
    ("495", 14), ("499", 6), ("496", 6), ("498", 2), ("492", 3), ("485", 3), ("482", 3),
    ("487", 3), ("484", 2), ("481", 2), ("491", 2), ("493", 2), ("494", 2), ("473", 1),
    ("812", 1), ("343", 1), ("861", 1), ("", 46),
]  # fmt: skip
KG_AREAS = [
    ("312", 16), ("313", 6), ("3222", 6), ("3234", 3), ("3422", 3), ("3522", 2), ("3622", 3),
    ("3722", 4), ("3922", 3), ("", 54),
]  # fmt: skip
RU_MOBILE = ["915", "916", "903", "926", "985", "910", "920", "962", "905", "999"]
KG_MOBILE = ["555", "700", "702", "550", "770", "777", "220", "507"]

# Calls by hour of the day (relative), and by weekday (Monday first): evenings and weekends
# are busier on a domestic-violence line.
HOURS = [2, 1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 8, 8, 8, 8, 8, 9, 10, 11, 11, 9, 6, 4]
WEEKDAYS = [1.05, 0.95, 0.95, 0.95, 1.0, 1.1, 1.15]


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def _number(rng: random.Random, country: str) -> str:
    """A caller's number as Mango sends it (international digits)."""
    if country == "KG":
        area = _pick(rng, KG_AREAS)
        if not area:
            return "996" + rng.choice(KG_MOBILE) + f"{rng.randrange(10**6):06d}"
        return "996" + area + f"{rng.randrange(10 ** (9 - len(area))):0{9 - len(area)}d}"
    area = _pick(rng, RU_AREAS)
    if not area:
        return "7" + rng.choice(RU_MOBILE) + f"{rng.randrange(2 * 10**6, 10**7):07d}"
    return "7" + area + f"{rng.randrange(2 * 10**6, 10**7):07d}"


def _wrapup(rng: random.Random, country: str) -> WrapUpData:
    contact = rng.choices(
        ["victim", "friend_family", "professional", "causing_harm", "silent_other"],
        weights=[70, 12, 8, 2, 8],
    )[0]
    if contact == "silent_other":
        return WrapUpData(contact)
    abuse = frozenset(
        a
        for a, p in (
            ("psychological", 0.8),
            ("physical", 0.55),
            ("economic", 0.35),
            ("sexual", 0.12),
            ("digital", 0.15),
        )
        if rng.random() < p
    )
    needs: dict[str, str | None] = {}
    for need, p, p_unmet, reasons in (
        ("shelter", 0.3, 0.35, ["no_place", "does_not_fit", "documents", "declined"]),
        ("counselling", 0.5, 0.05, ["no_service", "language"]),
        ("legal", 0.35, 0.12, ["no_service", "language", "call_ended"]),
        ("information", 0.4, 0.02, ["call_ended"]),
        ("safety", 0.2, 0.1, ["declined", "no_service"]),
        ("social", 0.15, 0.25, ["no_service", "documents"]),
        ("children", 0.1, 0.2, ["no_service", "does_not_fit"]),
        ("medical", 0.05, 0.1, ["no_service"]),
    ):
        if rng.random() < p:
            needs[need] = rng.choice(reasons) if rng.random() < p_unmet else None
    if country == "KG" and "counselling" in needs and rng.random() < 0.1:
        needs["counselling"] = "language"  # Kyrgyz-speaking psychologists are few (seed 002)
    outcomes = {
        o
        for o, p in (
            ("information", 0.6),
            ("counselling", 0.45),
            ("referral", 0.3),
            ("placement", 0.08 if "shelter" in needs else 0.0),
            ("callback", 0.1),
        )
        if rng.random() < p
    } or {"information"}
    return WrapUpData(contact, frozenset(abuse), frozenset(outcomes), needs)


def _records(now: datetime, lines: dict[str, Line], users: dict[str, User]) -> list[CallRecord]:
    rng = random.Random(SEED)  # noqa: S311 - deterministic demo data, not secrets
    tz = timezone.get_default_timezone()
    records: list[CallRecord] = []
    callers: dict[str, list[str]] = {}  # per line: numbers that may call again
    seq = 0
    start_day = (now.astimezone(tz) - timedelta(days=DAYS)).date()
    operators = {"74950000001": "operator", "74950000002": "caseworker", "117": "caseworker-kg",
                 "74872000003": "operator"}  # fmt: skip
    for offset in range(DAYS + 1):
        day = start_day + timedelta(days=offset)
        season = 1.0 + 0.25 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365)
        holiday = (
            1.4 if (day.month == 1 and day.day <= 8) or (day.month == 3 and day.day == 8) else 1
        )
        for number, _name, _org, country, _region, _area, _regional, per_day in LINES:
            mean = per_day * season * holiday * WEEKDAYS[day.weekday()]
            n = sum(1 for _ in range(int(mean * 3)) if rng.random() < 1 / 3)
            pool = callers.setdefault(number, [])
            for _ in range(n):
                hour = rng.choices(range(24), weights=HOURS)[0]
                created = datetime.combine(
                    day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=tz
                )
                if created > now - timedelta(minutes=10):
                    continue
                if pool and rng.random() < 0.28:
                    caller = rng.choice(pool[-60:])  # she calls again within weeks
                elif rng.random() < 0.06:
                    caller = ""  # hidden number
                else:
                    caller = _number(rng, "KG" if country == "KG" or rng.random() < 0.02 else "RU")
                    pool.append(caller)
                busy = hour in (10, 11, 19, 20, 21)
                fate = rng.random()
                short_p, abandon_p = 0.06, (0.2 if busy else 0.1)
                t0 = created.timestamp()
                if fate < short_p:
                    answered, ended = None, t0 + rng.randint(1, 4)
                elif fate < short_p + abandon_p:
                    answered, ended = None, t0 + rng.randint(6, 240)
                else:
                    wait = min(600, int(rng.expovariate(1 / (45 if busy else 18))) + 4)
                    talk = int(min(5400, rng.lognormvariate(math.log(540), 0.7)))
                    answered, ended = t0 + wait, t0 + wait + talk
                seq += 1
                operator = users.get(operators[number]) if answered else None
                records.append(
                    CallRecord(
                        provider="mango",
                        entry_id=f"demo-{seq:06d}",
                        summary=merge.Summary(
                            direction=merge.INCOMING,
                            created=t0,
                            answered=answered,
                            forwarded=t0 + 3,
                            ended=ended,
                            result="1" if answered else "0",
                            disconnect_reason="1110",
                        ),
                        line=lines[number],
                        external_number=caller,
                        answered_by=operator,
                        # The last answered calls of the day are still waiting for a wrap-up.
                        wrapup=_wrapup(rng, country)
                        if answered and ended < (now - timedelta(hours=1)).timestamp()
                        else None,
                    )
                )
    return records


def load(stdout) -> None:
    if Call.objects.filter(provider="mango", entry_id="demo-000001").exists():
        stdout.write("Demo calls already present.")
        return
    orgs = {o.slug: o for o in Organisation.objects.filter(slug__in={ln[2] for ln in LINES})}
    lines = {}
    for number, name, slug, country, region, area, regional, _per_day in LINES:
        lines[number] = services.line_save(
            by=None,
            number=number,
            name=name,
            organisation=orgs.get(slug),
            default_country=country,
            region=region,
            service_area=area,
            region_from_line=regional,
        )
    users = {u.username: u for u in User.objects.filter(username__in=[u for u, _e in EXTENSIONS])}
    for username, extension in EXTENSIONS:
        if username in users:
            services.extension_assign(by=None, user=users[username], identity=extension)
    now = timezone.now()
    records = _records(now, lines, users)
    # Unassigned answered calls of the last hour are left for the queue's wrap-up list.
    added = services.calls_bulk_load(by=None, records=records)
    _callbacks(users.get("operator"), now)
    stdout.write(f"Demo calls loaded: {added} calls on {len(lines)} lines.")


def _callbacks(operator: User | None, now: datetime) -> None:
    if operator is None or Callback.objects.exists():
        return
    p = Principal.for_user(operator)
    week, workdays = tuple(range(7)), (0, 1, 2, 3, 4)
    calls = list(
        Call.objects.filter(
            organisation=operator.organisation, wrapup__outcome_callback=True
        ).order_by("-created_at")[:4]
    )
    plans = [
        ("+7 916 201-11-01", "Marina", [Window(workdays, time(10), time(13))], "Europe/Moscow"),
        ("+7 495 201-11-02", "", [Window(week, time(0), time(23, 59))], "Europe/Moscow"),
        ("+7 985 201-11-03", "Sveta", [Window((5, 6), time(9), time(12)),
                                       Window(workdays, time(14), time(16))], "Europe/Moscow"),
        ("+996 555 201 104", "Aida", [Window(week, time(18), time(21))], "Asia/Bishkek"),
    ]  # fmt: skip
    for i, (number, name, safe, tz) in enumerate(plans):
        services.callback_create(
            by=p,
            safe_number=number,
            safe_times=safe,
            tz=tz,
            call=calls[i] if i < len(calls) else None,
            name_to_ask=name,
            may_leave_message=i == 1,
            language="ky" if tz == "Asia/Bishkek" else "ru",
        )
