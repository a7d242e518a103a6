"""Region and country names in every public language.

The directory's regions carry English, Russian and, where they apply, Kyrgyz and Czech names.
The public pages need all five languages for every region, so the names the directory does
not have (Ukrainian for all; Kyrgyz for Russian and Czech regions; Czech for Russian and
Kyrgyz regions) are kept here, in the forms the languages' own reference works use. A name
the directory has always wins; a test checks that no region is left without a name.
"""

from __future__ import annotations

from refuge.directory.regions import region_data

EXTRA_REGION_NAMES: dict[str, dict[str, str]] = {
    "uk": {
        "RU-MOW": "Москва",
        "RU-MOS": "Московська область",
        "RU-BEL": "Бєлгородська область",
        "RU-BRY": "Брянська область",
        "RU-VLA": "Владимирська область",
        "RU-VOR": "Воронезька область",
        "RU-IVA": "Іванівська область",
        "RU-KLU": "Калузька область",
        "RU-KOS": "Костромська область",
        "RU-KRS": "Курська область",
        "RU-LIP": "Липецька область",
        "RU-ORL": "Орловська область",
        "RU-RYA": "Рязанська область",
        "RU-SMO": "Смоленська область",
        "RU-TAM": "Тамбовська область",
        "RU-TVE": "Тверська область",
        "RU-TUL": "Тульська область",
        "RU-YAR": "Ярославська область",
        "RU-VLG": "Вологодська область",
        "KG-GB": "Бішкек",
        "KG-GO": "Ош",
        "KG-B": "Баткенська область",
        "KG-C": "Чуйська область",
        "KG-J": "Джалал-Абадська область",
        "KG-N": "Наринська область",
        "KG-O": "Ошська область",
        "KG-T": "Таласька область",
        "KG-Y": "Іссик-Кульська область",
        "CZ-10": "Прага",
        "CZ-20": "Середньочеський край",
        "CZ-31": "Південночеський край",
        "CZ-32": "Пльзенський край",
        "CZ-41": "Карловарський край",
        "CZ-42": "Устецький край",
        "CZ-51": "Ліберецький край",
        "CZ-52": "Краловоградецький край",
        "CZ-53": "Пардубицький край",
        "CZ-63": "Край Височина",
        "CZ-64": "Південноморавський край",
        "CZ-71": "Оломоуцький край",
        "CZ-72": "Злінський край",
        "CZ-80": "Моравсько-Сілезький край",
    },
    "ky": {
        "RU-MOW": "Москва",
        "RU-MOS": "Москва облусу",
        "RU-BEL": "Белгород облусу",
        "RU-BRY": "Брянск облусу",
        "RU-VLA": "Владимир облусу",
        "RU-VOR": "Воронеж облусу",
        "RU-IVA": "Иваново облусу",
        "RU-KLU": "Калуга облусу",
        "RU-KOS": "Кострома облусу",
        "RU-KRS": "Курск облусу",
        "RU-LIP": "Липецк облусу",
        "RU-ORL": "Орёл облусу",
        "RU-RYA": "Рязань облусу",
        "RU-SMO": "Смоленск облусу",
        "RU-TAM": "Тамбов облусу",
        "RU-TVE": "Тверь облусу",
        "RU-TUL": "Тула облусу",
        "RU-YAR": "Ярославль облусу",
        "RU-VLG": "Вологда облусу",
        "CZ-10": "Прага",
        "CZ-20": "Орто Чехия крайы",
        "CZ-31": "Түштүк Чехия крайы",
        "CZ-32": "Пльзень крайы",
        "CZ-41": "Карловы Вары крайы",
        "CZ-42": "Усти-над-Лабем крайы",
        "CZ-51": "Либерец крайы",
        "CZ-52": "Градец-Кралове крайы",
        "CZ-53": "Пардубице крайы",
        "CZ-63": "Высочина крайы",
        "CZ-64": "Түштүк Моравия крайы",
        "CZ-71": "Оломоуц крайы",
        "CZ-72": "Злин крайы",
        "CZ-80": "Моравия-Силезия крайы",
    },
    "cs": {
        "RU-MOW": "Moskva",
        "RU-MOS": "Moskevská oblast",
        "RU-BEL": "Belgorodská oblast",
        "RU-BRY": "Brjanská oblast",
        "RU-VLA": "Vladimirská oblast",
        "RU-VOR": "Voroněžská oblast",
        "RU-IVA": "Ivanovská oblast",
        "RU-KLU": "Kalužská oblast",
        "RU-KOS": "Kostromská oblast",
        "RU-KRS": "Kurská oblast",
        "RU-LIP": "Lipecká oblast",
        "RU-ORL": "Orelská oblast",
        "RU-RYA": "Rjazaňská oblast",
        "RU-SMO": "Smolenská oblast",
        "RU-TAM": "Tambovská oblast",
        "RU-TVE": "Tverská oblast",
        "RU-TUL": "Tulská oblast",
        "RU-YAR": "Jaroslavská oblast",
        "RU-VLG": "Vologdská oblast",
        "KG-GB": "Biškek",
        "KG-GO": "Oš",
        "KG-B": "Batkenská oblast",
        "KG-C": "Čujská oblast",
        "KG-J": "Džalalabadská oblast",
        "KG-N": "Narynská oblast",
        "KG-O": "Ošská oblast",
        "KG-T": "Talaská oblast",
        "KG-Y": "Issykkulská oblast",
    },
}

EXTRA_COUNTRY_NAMES: dict[str, dict[str, str]] = {
    "uk": {"RU": "Росія", "KG": "Киргизстан", "CZ": "Чехія"},
}


def _directory_name(row: dict, lang: str) -> str:
    return (row.get(f"name_{lang}") or "").strip()


def region_name(code: str, lang: str, row: dict | None = None) -> str:
    """The region's name in `lang`: the directory's, else ours, else the English one."""
    row = row or next((r for r in region_data()["regions"] if r["code"] == code), {})
    return (
        _directory_name(row, lang)
        or EXTRA_REGION_NAMES.get(lang, {}).get(code, "")
        or row.get("name_en", "")
        or code
    )


def has_region_name(code: str, lang: str, row: dict) -> bool:
    return bool(_directory_name(row, lang) or EXTRA_REGION_NAMES.get(lang, {}).get(code))


def country_name(code: str, lang: str) -> str:
    row = next((c for c in region_data()["countries"] if c["code"] == code), {})
    return (
        _directory_name(row, lang)
        or EXTRA_COUNTRY_NAMES.get(lang, {}).get(code, "")
        or row.get("name_en", "")
        or code
    )


def has_country_name(code: str, lang: str) -> bool:
    row = next((c for c in region_data()["countries"] if c["code"] == code), {})
    return bool(_directory_name(row, lang) or EXTRA_COUNTRY_NAMES.get(lang, {}).get(code))
