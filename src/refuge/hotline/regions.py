"""Where a caller is calling from, from the number alone, kept only as an ISO 3166-2 code.

The number itself is never stored: `place_for_number` turns it into a region code and the
caller key (a keyed HMAC, see services) and the number is dropped.

Landline numbers carry their region in the area code (the Russian "ABC" codes, the Kyrgyz
area codes). Mobile numbers do not (in Russia numbers have been portable between regions
since 2013), so for them only the country is known, unless the call came in on a regional
line (a line whose callers are taken to be in its region, see `Line.region_from_line`).

The tables are public numbering plans. An area code shared by a city and the surrounding
oblast (495 is mostly Moscow city, partly the oblast) is mapped to its main region: this is
a statistic about where calls come from, never an address.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from django.utils.translation import gettext_lazy as _

# ISO 3166-2 codes and names of the regions the tables below can produce.
REGION_NAMES = {
    "RU": _("Russia (region not known)"),
    "KG": _("Kyrgyzstan (region not known)"),
    # Central Federal District
    "RU-MOW": _("Moscow"),
    "RU-MOS": _("Moscow Oblast"),
    "RU-BEL": _("Belgorod Oblast"),
    "RU-BRY": _("Bryansk Oblast"),
    "RU-VLA": _("Vladimir Oblast"),
    "RU-VOR": _("Voronezh Oblast"),
    "RU-IVA": _("Ivanovo Oblast"),
    "RU-KLU": _("Kaluga Oblast"),
    "RU-KOS": _("Kostroma Oblast"),
    "RU-KRS": _("Kursk Oblast"),
    "RU-LIP": _("Lipetsk Oblast"),
    "RU-ORL": _("Oryol Oblast"),
    "RU-RYA": _("Ryazan Oblast"),
    "RU-SMO": _("Smolensk Oblast"),
    "RU-TAM": _("Tambov Oblast"),
    "RU-TVE": _("Tver Oblast"),
    "RU-TUL": _("Tula Oblast"),
    "RU-YAR": _("Yaroslavl Oblast"),
    # North-West
    "RU-SPE": _("Saint Petersburg"),
    "RU-LEN": _("Leningrad Oblast"),
    "RU-PSK": _("Pskov Oblast"),
    "RU-NGR": _("Novgorod Oblast"),
    "RU-VLG": _("Vologda Oblast"),
    "RU-ARK": _("Arkhangelsk Oblast"),
    "RU-MUR": _("Murmansk Oblast"),
    "RU-KR": _("Republic of Karelia"),
    "RU-KO": _("Komi Republic"),
    "RU-KGD": _("Kaliningrad Oblast"),
    # Volga
    "RU-NIZ": _("Nizhny Novgorod Oblast"),
    "RU-KIR": _("Kirov Oblast"),
    "RU-MO": _("Republic of Mordovia"),
    "RU-CU": _("Chuvash Republic"),
    "RU-ME": _("Mari El Republic"),
    "RU-PNZ": _("Penza Oblast"),
    "RU-ULY": _("Ulyanovsk Oblast"),
    "RU-TA": _("Republic of Tatarstan"),
    "RU-SAR": _("Saratov Oblast"),
    "RU-SAM": _("Samara Oblast"),
    "RU-UD": _("Udmurt Republic"),
    "RU-PER": _("Perm Krai"),
    "RU-BA": _("Republic of Bashkortostan"),
    "RU-ORE": _("Orenburg Oblast"),
    # South and North Caucasus
    "RU-VGG": _("Volgograd Oblast"),
    "RU-AST": _("Astrakhan Oblast"),
    "RU-KL": _("Republic of Kalmykia"),
    "RU-KDA": _("Krasnodar Krai"),
    "RU-ROS": _("Rostov Oblast"),
    "RU-AD": _("Republic of Adygea"),
    "RU-STA": _("Stavropol Krai"),
    "RU-KB": _("Kabardino-Balkar Republic"),
    "RU-SE": _("Republic of North Ossetia–Alania"),
    "RU-CE": _("Chechen Republic"),
    "RU-DA": _("Republic of Dagestan"),
    "RU-IN": _("Republic of Ingushetia"),
    "RU-KC": _("Karachay-Cherkess Republic"),
    # Urals, Siberia, Far East
    "RU-SVE": _("Sverdlovsk Oblast"),
    "RU-TYU": _("Tyumen Oblast"),
    "RU-KHM": _("Khanty-Mansi Autonomous Okrug"),
    "RU-YAN": _("Yamalo-Nenets Autonomous Okrug"),
    "RU-CHE": _("Chelyabinsk Oblast"),
    "RU-KGN": _("Kurgan Oblast"),
    "RU-OMS": _("Omsk Oblast"),
    "RU-TOM": _("Tomsk Oblast"),
    "RU-NVS": _("Novosibirsk Oblast"),
    "RU-KEM": _("Kemerovo Oblast"),
    "RU-ALT": _("Altai Krai"),
    "RU-AL": _("Altai Republic"),
    "RU-KK": _("Republic of Khakassia"),
    "RU-KYA": _("Krasnoyarsk Krai"),
    "RU-TY": _("Tuva Republic"),
    "RU-IRK": _("Irkutsk Oblast"),
    "RU-BU": _("Republic of Buryatia"),
    "RU-ZAB": _("Zabaykalsky Krai"),
    "RU-SA": _("Sakha (Yakutia) Republic"),
    "RU-AMU": _("Amur Oblast"),
    "RU-KHA": _("Khabarovsk Krai"),
    "RU-PRI": _("Primorsky Krai"),
    "RU-SAK": _("Sakhalin Oblast"),
    "RU-YEV": _("Jewish Autonomous Oblast"),
    "RU-MAG": _("Magadan Oblast"),
    "RU-KAM": _("Kamchatka Krai"),
    "RU-CHU": _("Chukotka Autonomous Okrug"),
    # Kyrgyzstan
    "KG-GB": _("Bishkek"),
    "KG-GO": _("Osh (city)"),
    "KG-C": _("Chüy Region"),
    "KG-O": _("Osh Region"),
    "KG-J": _("Jalal-Abad Region"),
    "KG-B": _("Batken Region"),
    "KG-N": _("Naryn Region"),
    "KG-T": _("Talas Region"),
    "KG-Y": _("Issyk-Kul Region"),
}

# Area codes at the start of the national significant number -> region. Longest prefix wins.
# Russia: geographic "ABC" codes (mobile "DEF" codes start with 9 and carry no region).
_RU = {
    "495": "RU-MOW", "499": "RU-MOW", "496": "RU-MOS", "498": "RU-MOS",
    "472": "RU-BEL", "483": "RU-BRY", "492": "RU-VLA", "473": "RU-VOR", "493": "RU-IVA",
    "484": "RU-KLU", "494": "RU-KOS", "471": "RU-KRS", "474": "RU-LIP", "486": "RU-ORL",
    "491": "RU-RYA", "481": "RU-SMO", "475": "RU-TAM", "482": "RU-TVE", "487": "RU-TUL",
    "485": "RU-YAR",
    "812": "RU-SPE", "813": "RU-LEN", "811": "RU-PSK", "816": "RU-NGR", "817": "RU-VLG",
    "820": "RU-VLG", "818": "RU-ARK", "815": "RU-MUR", "814": "RU-KR", "821": "RU-KO",
    "401": "RU-KGD",
    "831": "RU-NIZ", "833": "RU-KIR", "834": "RU-MO", "835": "RU-CU", "836": "RU-ME",
    "841": "RU-PNZ", "842": "RU-ULY", "843": "RU-TA", "855": "RU-TA", "845": "RU-SAR",
    "846": "RU-SAM", "848": "RU-SAM", "341": "RU-UD", "342": "RU-PER", "347": "RU-BA",
    "353": "RU-ORE",
    "844": "RU-VGG", "851": "RU-AST", "847": "RU-KL", "861": "RU-KDA", "862": "RU-KDA",
    "863": "RU-ROS", "877": "RU-AD", "865": "RU-STA", "879": "RU-STA", "866": "RU-KB",
    "867": "RU-SE", "871": "RU-CE", "872": "RU-DA", "873": "RU-IN", "878": "RU-KC",
    "343": "RU-SVE", "345": "RU-TYU", "346": "RU-KHM", "349": "RU-YAN", "351": "RU-CHE",
    "352": "RU-KGN", "381": "RU-OMS", "382": "RU-TOM", "383": "RU-NVS", "384": "RU-KEM",
    "385": "RU-ALT", "388": "RU-AL", "390": "RU-KK", "391": "RU-KYA", "394": "RU-TY",
    "395": "RU-IRK", "301": "RU-BU", "302": "RU-ZAB", "411": "RU-SA", "416": "RU-AMU",
    "421": "RU-KHA", "423": "RU-PRI", "424": "RU-SAK", "426": "RU-YEV", "413": "RU-MAG",
    "415": "RU-KAM", "427": "RU-CHU",
}  # fmt: skip
# Kyrgyzstan: area codes (mobile numbers start with 5, 7 or 2 and carry no region).
_KG = {
    "312": "KG-GB", "313": "KG-C", "3222": "KG-GO", "32": "KG-O", "34": "KG-T",
    "35": "KG-N", "36": "KG-B", "37": "KG-J", "39": "KG-Y",
}  # fmt: skip
AREA_CODES = {"RU": _RU, "KG": _KG}

# What the region of a call rests on (stored with the call, shown on the figures page).
SOURCE_NUMBER = "number"  # the area code of the caller's number
SOURCE_LINE = "line"  # a regional line; the number gave only the country
SOURCE_COUNTRY = "country"  # only the country is known
SOURCE_PBX = "pbx"  # the PBX said (e.g. an IVR choice), through the plain JSON webhook
SOURCE_MANUAL = "manual"  # entered by the operator
SOURCE_UNKNOWN = ""  # hidden number or none at all

_ANONYMOUS = {"", "anonymous", "restricted", "unknown", "private", "unavailable", "hidden"}


def region_name(code: str) -> str:
    if not code:
        return str(_("not known"))
    return str(REGION_NAMES.get(code, code))


def is_region_code(code: str) -> bool:
    """ISO 3166-1 alpha-2 country or a 3166-2 subdivision ("KG", "RU-MOW", "KG-GB")."""
    if len(code) == 2:
        return code.isalpha() and code.isupper()
    country, sep, sub = code.partition("-")
    return bool(
        sep
        and len(country) == 2
        and country.isalpha()
        and country.isupper()
        and 1 <= len(sub) <= 3
        and sub.isalnum()
        and sub.upper() == sub
    )


def normalise_number(raw: str | None, default_country: str = "RU") -> str | None:
    """E.164 form of a caller's number, or None for a hidden, foreign-format or invalid one.

    PBXs send numbers as "+79161234567", "79161234567" (Mango: international digits without
    the plus) or in national form ("84951234567", "0312661592"); SIP and client identities
    ("sip:…", "client:…") are not phone numbers.
    """
    if raw is None:
        return None
    text = str(raw).strip()
    if text.casefold() in _ANONYMOUS or ":" in text or "@" in text:
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits or len(digits) > 15:
        return None
    if text.startswith("+") or text.startswith("00"):
        candidates = ["+" + (digits[2:] if text.startswith("00") else digits)]
    else:
        # The line's national format first ("84951234567", "0312661592"; phonenumbers also
        # recognises the country's own calling code), then international digits without the
        # plus, which is how Mango sends numbers of other countries ("996555123456").
        candidates = [digits, "+" + digits]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, default_country or None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


@dataclass(frozen=True)
class Place:
    region: str  # ISO 3166-2 subdivision, or a bare country code, or ""
    source: str

    @property
    def specific(self) -> bool:
        return "-" in self.region


def place_for_number(e164: str | None) -> Place:
    """The region of a valid E.164 number from its area code; the country if that is all."""
    if not e164:
        return Place("", SOURCE_UNKNOWN)
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return Place("", SOURCE_UNKNOWN)
    country = phonenumbers.region_code_for_number(number) or ""
    if not country or country == "ZZ":
        return Place("", SOURCE_UNKNOWN)
    table = AREA_CODES.get(country)
    if table and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        nsn = phonenumbers.national_significant_number(number)
        for length in range(min(5, len(nsn)), 0, -1):
            region = table.get(nsn[:length])
            if region:
                return Place(region, SOURCE_NUMBER)
    return Place(country, SOURCE_COUNTRY)


def parse_area(text: str) -> list[str]:
    """A line's service area: comma-separated region or country codes ("KG", "RU-MOW,RU-MOS")."""
    codes = [c.strip().upper() for c in (text or "").split(",") if c.strip()]
    return [c for c in codes if is_region_code(c)]


def in_area(region: str, area: list[str]) -> bool | None:
    """Is a caller in the line's service area? None when it cannot be told.

    A bare country ("RU": a mobile number) is out of the area only if the area has no part of
    that country; inside the country it cannot be told.
    """
    if not region or not area:
        return None
    country = region.split("-")[0]
    if "-" in region:
        return any(a == region or a == country for a in area)
    if any(a == country or a.startswith(country + "-") for a in area):
        return True if country in area else None
    return False


def caller_place(
    e164: str | None,
    *,
    line_area: list[str] | None = None,
    line_region: str = "",
    region_from_line: bool = False,
) -> Place:
    """The region to keep for a caller: the number's, or the regional line's within its country."""
    place = place_for_number(e164)
    if (
        region_from_line
        and line_region
        and place.source in (SOURCE_COUNTRY, SOURCE_UNKNOWN)
        and (not place.region or line_region.split("-")[0] == place.region)
    ):
        return Place(line_region, SOURCE_LINE)
    return place
