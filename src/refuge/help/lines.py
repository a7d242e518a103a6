"""National phone numbers shown on the public pages, per country.

Only numbers that are well established are listed, each with its source; everything else on
the pages comes from the directory. These are safety-critical facts, so they change through
code review, not through the help-text editor.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class NationalLine:
    number: str  # as dialled
    kind: str  # emergency, police, ambulance, violence
    label: Promise
    note: Promise | None = None

    @property
    def href(self) -> str:
        return f"tel:{self.number}"

    @property
    def display(self) -> str:
        # 116006 is written in two groups of three everywhere it is published.
        return f"{self.number[:3]} {self.number[3:]}" if len(self.number) == 6 else self.number

    @property
    def is_emergency(self) -> bool:
        return self.kind in {"emergency", "police", "ambulance"}


EMERGENCY = pgettext_lazy("public help", "Emergency (police, ambulance, fire)")
POLICE = pgettext_lazy("public help", "Police")
AMBULANCE = pgettext_lazy("public help", "Ambulance")

NATIONAL_LINES: dict[str, tuple[NationalLine, ...]] = {
    # Russia: 112 is the single emergency number; 102 and 103 reach the police and the
    # ambulance from any phone.
    "RU": (
        NationalLine("112", "emergency", EMERGENCY),
        NationalLine("102", "police", POLICE),
        NationalLine("103", "ambulance", AMBULANCE),
    ),
    # Kyrgyzstan: 102 police and 103 ambulance; 117 is the Ministry of Labour, Social Security
    # and Migration's line on violence (seed 002: Forum of Women's NGOs, 2023).
    "KG": (
        NationalLine("102", "police", POLICE),
        NationalLine("103", "ambulance", AMBULANCE),
        NationalLine(
            "117",
            "violence",
            pgettext_lazy("public help", "Hotline 117 for people affected by violence"),
            pgettext_lazy(
                "public help", "Ministry of Labour, Social Security and Migration of Kyrgyzstan"
            ),
        ),
    ),
    # Czech Republic: 112 (EU), 158 police, 155 ambulance; 116 006 is the EU number for
    # victims of crime, run in Czechia by Bílý kruh bezpečí, free and day and night.
    "CZ": (
        NationalLine("112", "emergency", EMERGENCY),
        NationalLine("158", "police", POLICE),
        NationalLine("155", "ambulance", AMBULANCE),
        NationalLine(
            "116006",
            "violence",
            pgettext_lazy("public help", "Helpline for victims of crime and domestic violence"),
            pgettext_lazy("public help", "Free, day and night (Bílý kruh bezpečí)"),
        ),
    ),
}


def lines_for(country: str) -> tuple[NationalLine, ...]:
    return NATIONAL_LINES.get(country, ())


def emergency_lines(country: str) -> tuple[NationalLine, ...]:
    return tuple(line for line in lines_for(country) if line.is_emergency)


def violence_lines(country: str) -> tuple[NationalLine, ...]:
    return tuple(line for line in lines_for(country) if line.kind == "violence")
