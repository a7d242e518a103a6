"""Demo clients for Kitezh (Moscow) and Sezim (Bishkek): invented people, realistic shapes."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from refuge.cases import services
from refuge.cases.models import Client, ServiceDelivery
from refuge.core.access import Principal
from refuge.core.models import User

NAMES = {
    "caseworker": [
        "Anna",
        "Olga",
        "Svetlana",
        "Irina",
        "Natalia",
        "Elena",
        "Maria",
        "Tatiana",
        "Yulia",
        "Darya",
        "Ksenia",
        "Valentina",
    ],
    "caseworker-kg": ["Aigul", "Nurzhan", "Cholpon", "Aizhan", "Gulnara", "Asel"],
}
REGIONS = {
    "caseworker": ["RU-MOW", "RU-MOS", "RU-VLA", "RU-TVE", "RU-YAR", "RU-TUL"],
    "caseworker-kg": ["KG-GB", "KG-C", "KG-O", "KG-J"],
}


def load(stdout) -> None:
    if Client.objects.exists():
        return
    rng = random.Random(11)  # noqa: S311 - demo data
    total = 0
    for username, names in NAMES.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        p = Principal.for_user(user)
        for i, name in enumerate(names):
            client = services.client_create(
                by=p,
                name=f"{name} {chr(65 + i)}.",
                age_band=rng.choice(["18-24", "25-34", "25-34", "35-44", "45-54"]),
            )
            services.client_update(
                by=p,
                client=client,
                languages=["ky", "ru"] if username.endswith("kg") else ["ru"],
                citizenship="KG"
                if username.endswith("kg")
                else rng.choice(["RU", "RU", "UA", "TJ"]),
                documents=rng.sample(["passport", "local_registration"], k=rng.randint(0, 2)),
                residence_region=rng.choice(REGIONS[username]),
                pets=int(rng.random() < 0.15),
            )
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                services.household_member_add(
                    by=p, client=client, age=rng.randint(0, 17), sex=rng.choice(["male", "female"])
                )
            yes = rng.choice([3, 6, 9, 11, 12, 15, 17])
            services.assessment_save(
                by=p,
                client=client,
                instrument_id="dash-structure",
                version=1,
                answers={f"q{n}": "yes" if n <= yes else "no" for n in range(1, 25)},
                finish=True,
            )
            services.consent_record(by=p, client=client, scope="reporting", days=365)
            if yes >= 14:
                services.consent_record(by=p, client=client, scope="meeting", days=180)
            for _ in range(rng.randint(1, 6)):
                services.service_record(
                    by=p,
                    client=client,
                    kind=rng.choice(ServiceDelivery.Kind.values[:7]),
                    channel=rng.choice(ServiceDelivery.Channel.values),
                    delivered_on=timezone.localdate() - timedelta(days=rng.randint(0, 300)),
                )
            total += 1
    stdout.write(f"Demo clients: {total}.")
