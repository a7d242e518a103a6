"""SPEC S1 on the public side: crawl every public address (the help pages in every language,
every region, the leaflets, the sitemap, the 404 page, the HSDS feed with its searches) over
the whole demo network, and look for anything that locates a confidential facility.

The demo keeps confidential addresses empty (it invents none), so before crawling each
confidential facility is given a distinctive street, town, postcode, point and a
professionals-only phone: a leak of any of them would be found.
"""

from __future__ import annotations

import io
import json
import re
from collections import deque
from urllib.parse import urlsplit

import phonenumbers
from django.core.management import call_command
from django.test import Client, override_settings

from refuge.directory.models import ACCOMMODATION_KINDS, Facility, Phone, Region
from refuge.directory.regions import region_data
from refuge.help.conf import PUBLIC_LANGUAGES
from tests.help.pages import parse

HSDS = "/api/v1/hsds"


def _plant(facilities: list[Facility]) -> None:
    for i, f in enumerate(facilities):
        lat = (f.region.latitude if f.region else 45.0) + 0.0371 + i * 0.00113
        lon = (f.region.longitude if f.region else 60.0) - 0.0419 - i * 0.00127
        Facility.objects.filter(pk=f.pk).update(
            address=f"{17 + i} Concealed Lane",
            locality=f"Hushhamlet{i}",
            postal_code=f"98{i:03d}7",
            latitude=lat,
            longitude=lon,
        )
        Phone.objects.create(
            organisation_id=f.organisation_id,
            facility=f,
            number=f"+7495{731 + i:03d}{i:04d}",
            visibility="professionals",
        )


def _number_forms(value: float) -> set[str]:
    forms = {repr(value), str(value)}
    for places in range(2, 7):
        forms.add(f"{value:.{places}f}")
        forms.add(str(round(value, places)))
    return forms | {f.replace(".", ",") for f in forms}


def _phone_forms(e164: str) -> set[str]:
    forms = {e164, e164.lstrip("+")}
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return forms
    for fmt in (
        phonenumbers.PhoneNumberFormat.NATIONAL,
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        phonenumbers.PhoneNumberFormat.RFC3966,
    ):
        forms.add(phonenumbers.format_number(parsed, fmt))
    forms.add(str(parsed.national_number))
    return forms


def _generic_place_names() -> set[str]:
    """Region and country names: a confidential facility's town that equals one of them says
    no more than the region the public page shows anyway."""
    data = region_data()
    names = set()
    for row in [*data["regions"], *data["countries"]]:
        names |= {v for k, v in row.items() if k.startswith("name_") and v}
    return {n.casefold() for n in names}


def _secrets(confidential: list[Facility]) -> dict[str, str]:
    """{text to look for: what it is}."""
    generic = _generic_place_names()
    found: dict[str, str] = {}
    for f in confidential:
        label = f"{f.name} ({f.pk})"
        for field in ("address", "locality", "postal_code"):
            value = (getattr(f, field) or "").strip()
            if value and value.casefold() not in generic:
                found[value] = f"{field} of {label}"
        if f.latitude is not None:
            for form in _number_forms(f.latitude) | _number_forms(f.longitude):
                found[form] = f"point of {label}"
        for phone in f.phones.exclude(visibility="public"):
            for form in _phone_forms(phone.number):
                found[form] = f"non-public phone of {label}"
    return found


def _hidden_shelter_names(confidential: list[Facility]) -> dict[str, str]:
    return {
        f.name: f"name of hidden shelter {f.pk}"
        for f in confidential
        if f.kind in ACCOMMODATION_KINDS
    }


def _crawl_help(client: Client) -> dict[str, str]:
    """Breadth-first from the start page and the sitemap, following every link and
    resource under /help/ and /static/help/."""
    seen: dict[str, str] = {}
    queue = deque(["/help/", "/help/sitemap.xml", "/help/ru/nowhere/", "/help/de/"])
    queue.extend(f"/help/{lang}/" for lang in PUBLIC_LANGUAGES)
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url, headers={"accept-language": "ky"})
        assert response.status_code in {200, 302, 404}, (url, response.status_code)
        assert not response.cookies, url
        if response.streaming:
            body = b"".join(response.streaming_content).decode()
        else:
            body = response.content.decode()
        seen[url] = body
        targets: list[str] = []
        if response.status_code == 302:
            targets.append(response["Location"])
        elif url.endswith(".xml"):
            targets += [urlsplit(loc).path for loc in re.findall(r"<loc>(.*?)</loc>", body)]
            targets += [urlsplit(h).path for h in re.findall(r'href="(.*?)"', body)]
        elif "text/html" in response.get("Content-Type", ""):
            page = parse(body)
            targets += page.links + page.resources
        for target in targets:
            path = urlsplit(target).path
            if path.startswith(("/help/", "/static/help/")) and path not in seen:
                queue.append(path)
    return seen


def _crawl_hsds(client: Client, probes: list[str]) -> dict[str, str]:
    seen: dict[str, str] = {}

    def get(url: str) -> dict:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        seen[url] = response.content.decode()
        return response.json()

    def pages(base: str, extra: str = "") -> list[dict]:
        items, number = [], 1
        while True:
            doc = get(f"{base}?per_page=200&page={number}{extra}")
            items += doc["contents"]
            if doc["last_page"] or not doc["contents"]:
                return items
            number += 1

    get(f"{HSDS}/")
    for service in pages(f"{HSDS}/services"):
        get(f"{HSDS}/services/{service['id']}")
    pages(f"{HSDS}/services", "&full=true")
    for org in pages(f"{HSDS}/organizations"):
        get(f"{HSDS}/organizations/{org['id']}?full_service=true")
    for sal in pages(f"{HSDS}/service_at_locations"):
        get(f"{HSDS}/service_at_locations/{sal['id']}")
    for probe in probes:
        for endpoint in ("services", "organizations", "service_at_locations"):
            get(f"{HSDS}/{endpoint}?search={probe}&per_page=200")
    return seen


def _leaks(bodies: dict[str, str], secrets: dict[str, str]) -> list[tuple[str, str, str]]:
    found = []
    for url, body in bodies.items():
        # JSON escapes non-ASCII; look at the text as a reader would get it.
        text = body
        if url.startswith(HSDS):
            text = json.dumps(json.loads(body), ensure_ascii=False)
        for secret, what in secrets.items():
            pattern = rf"(?<![\w.,]){re.escape(secret)}(?![\w]|[.,]\d)"
            if re.search(pattern, text):
                found.append((url, secret, what))
    return found


def test_no_public_address_reveals_a_confidential_facility(db, tmp_path):
    with override_settings(REFUGE_HOME=tmp_path):
        call_command("load_demo", stdout=io.StringIO())
    confidential = list(
        Facility.objects.filter(address_visibility="confidential").select_related("region")
    )
    originals = _secrets(confidential)  # the demo's own values, before planting
    assert len(confidential) >= 10
    _plant(confidential)
    confidential = list(
        Facility.objects.filter(address_visibility="confidential")
        .select_related("region")
        .prefetch_related("phones")
    )
    secrets = {**originals, **_secrets(confidential)}
    assert len(secrets) > 20 * len(confidential)

    client = Client()
    help_pages = _crawl_help(client)
    probes = [f.locality for f in confidential[:3]] + [f.address for f in confidential[:3]]
    feed = _crawl_hsds(client, probes)

    # Coverage: every page in every language, every region, every leaflet.
    regions = list(Region.objects.values_list("code", flat=True))
    expected = {
        f"/help/{lang}/{suffix}"
        for lang in PUBLIC_LANGUAGES
        for suffix in [
            "",
            "safety/",
            "leaflets/",
            "leaflets/emergency/",
            "leaflets/rights/",
            "leaflets/counselling/",
            *[f"region/{code}/" for code in regions],
        ]
    }
    assert expected <= set(help_pages), sorted(expected - set(help_pages))[:5]
    assert "/static/help/help.css" in help_pages and "/static/help/help.js" in help_pages
    assert len(feed) > 20

    leaks = _leaks({**help_pages, **feed}, secrets)
    assert not leaks, leaks[:10]
    # On the help pages a hidden shelter is not even named.
    named = _leaks(help_pages, _hidden_shelter_names(confidential))
    assert not named, named[:10]
    # The crawl does see what is public: it would notice a leak.
    public = Facility.objects.filter(address_visibility="public", listed_publicly=True).first()
    assert public is not None and any(public.name in body for body in help_pages.values())
    print(
        f"\ncrawled {len(help_pages)} help addresses and {len(feed)} HSDS addresses; "
        f"looked for {len(secrets)} strings of {len(confidential)} confidential facilities"
    )
