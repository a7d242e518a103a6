"""Demo organisations and one sign-in per role (loaded by `refuge load-demo`).

The password and authenticator secrets are random per installation and written to
REFUGE_HOME/demo-sign-ins.txt (git-ignored), which `refuge demo` prints.
"""

from __future__ import annotations

import base64
import json
import secrets

from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.core.models import Organisation, User
from refuge.core.roles import OrgKind, Role, requires_second_factor
from refuge.core.services import organisation_create, staff_create

ORGANISATIONS = [
    ("coalition-hub", "Central Region Shelter Coalition (hub)", OrgKind.HUB),
    ("kitezh", "Kitezh low-threshold refuge", OrgKind.SHELTER),
    ("coalition-hotline", "Coalition hotline", OrgKind.HOTLINE),
    ("sezim", "Sezim Crisis Center", OrgKind.CRISIS_CENTRE),
    ("vologda-police", "Vologda Oblast police, family violence unit", OrgKind.PARTNER),
    ("ekaterina-dvpp", "Ekaterina perpetrator programme", OrgKind.PROGRAMME),
    (
        "kg-ministry",
        "Ministry of Labour, Social Security and Migration (analysts)",
        OrgKind.PARTNER,
    ),
]

PERSONAS = [
    ("coordinator", "coalition-hub", Role.COORDINATOR, "Nadezhda", "Coordinator"),
    ("operator", "coalition-hotline", Role.OPERATOR, "Olga", "Operator"),
    ("caseworker", "kitezh", Role.CASEWORKER, "Marina", "Caseworker"),
    ("manager", "kitezh", Role.MANAGER, "Alena", "Manager"),
    ("caseworker-kg", "sezim", Role.CASEWORKER, "Aizada", "Caseworker"),
    ("partner", "vologda-police", Role.PARTNER, "Pavel", "Partner"),
    ("facilitator", "ekaterina-dvpp", Role.FACILITATOR, "Fyodor", "Facilitator"),
    ("analyst", "kg-ministry", Role.ANALYST, "Anara", "Analyst"),
    ("admin", "coalition-hub", Role.ADMIN, "Ivan", "Admin"),
]


def _sign_in_file():
    return settings.REFUGE_HOME / "demo-sign-ins.json"


def load(stdout) -> None:
    if User.objects.filter(username="coordinator").exists():
        stdout.write("Demo staff already present.")
        return
    orgs = {}
    for slug, name, kind in ORGANISATIONS:
        orgs[slug] = Organisation.objects.filter(slug=slug).first() or organisation_create(
            by=None, slug=slug, name=name, kind=kind
        )
    password = "demo-" + secrets.token_urlsafe(9)
    sign_ins = []
    for username, slug, role, first, last in PERSONAS:
        new = staff_create(
            by=None,
            organisation=orgs[slug],
            username=username,
            role=role,
            first_name=first,
            last_name=last,
            email=f"{username}@example.org",
            password=password,
        )
        secret = ""
        if requires_second_factor(role):
            device = TOTPDevice.objects.create(user=new.user, name="demo", confirmed=True)
            secret = base64.b32encode(device.bin_key).decode().rstrip("=")
        sign_ins.append(
            {"username": username, "role": role, "organisation": slug, "totp_secret": secret}
        )
    settings.REFUGE_HOME.mkdir(parents=True, exist_ok=True)
    path = _sign_in_file()
    path.write_text(
        json.dumps({"password": password, "users": sign_ins}, indent=1), encoding="utf-8"
    )
    path.chmod(0o600)
    stdout.write(f"Demo staff created; sign-ins written to {path}.")


def sign_in_text() -> str:
    path = _sign_in_file()
    if not path.exists():
        return "No demo sign-ins found (was the database loaded by another installation?)."
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = [
        "",
        f"Demo sign-ins (password for everyone: {data['password']})",
        "Roles that can see a person need a six-digit code: add the secret to an authenticator",
        "app, or run `.venv/bin/refuge totp-code USERNAME` for the current code.",
        "",
        f"  {'user name':<15} {'role':<12} {'organisation':<20} authenticator secret",
    ]
    for u in data["users"]:
        lines.append(
            f"  {u['username']:<15} {u['role']:<12} {u['organisation']:<20} {u['totp_secret'] or '(none needed)'}"
        )
    return "\n".join(lines) + "\n"
