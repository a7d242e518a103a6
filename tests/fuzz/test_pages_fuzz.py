"""Issues 14 and 16: the HTML pages and forms never answer 5xx. Signed in as each demo persona,
crawl the pages it can reach; then ask again with every id in the path and every query value
replaced by bad values (`abc`, a random UUID, 0, fifteen nines, a NUL-free script tag), and post
every form it was shown with bad values (10,000 characters, script tags, a right-to-left
override, impossible dates, negative and huge numbers, unknown choices), and every form twice.
Each persona runs in its own transaction, rolled back after it."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlparse

import pytest
from django.test import Client as HttpClient

from refuge.core.models import User
from tests.conftest import sign_in
from tests.leaks.test_crawl import crawl, demo, demo_home  # noqa: F401 (module fixtures)

BAD_IDS = ["abc", str(uuid.UUID(int=7)), "0", "9" * 15]
BAD_VALUES = ["x" * 10_000, "<script>alert(1)</script>", "\u202eevil", "-1", "9" * 15, "9999-99-99"]
ID = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+|[A-Z]{2}-[A-Z0-9-]+)$"
)
# Forms whose success would end the persona's session or lock it out of the rest of the crawl.
SKIP_ACTIONS = ("/logout", "/i18n/", "/account/", "/login", "/confirm")


class Forms(HTMLParser):
    """Every <form> of a page: its method, action, role and fields with a value a browser would
    send (``f``), and each field's kind (``t``: an input's type, "textarea", "select" or "button")."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "method": (a.get("method") or "get").lower(),
                    "action": a.get("action"),
                    "role": a.get("role"),
                    "f": {},
                    "t": {},
                }
            )
        elif not self.forms:
            return
        elif tag in ("input", "textarea") and a.get("name"):
            kind = "textarea" if tag == "textarea" else (a.get("type") or "text").lower()
            self.forms[-1]["t"].setdefault(a["name"], kind)
            if kind in ("checkbox", "radio") and "checked" not in a:
                self.forms[-1]["f"].setdefault(a["name"], a.get("value") or "on")
                return
            if kind not in ("submit", "button", "image", "file"):
                self.forms[-1]["f"][a["name"]] = a.get("value") or ""
        elif tag == "button" and a.get("name"):
            self.forms[-1]["f"].setdefault(a["name"], a.get("value") or "")
            self.forms[-1]["t"].setdefault(a["name"], "button")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.forms[-1]["t"].setdefault(a["name"], "select")
        elif tag == "option" and self._select:
            self.forms[-1]["f"].setdefault(self._select, a.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def _shape(path: str) -> str:
    return "/".join(":id" if ID.match(p) else p for p in path.split("/"))


def _mutated_paths(urls) -> list[str]:
    out, shapes = [], set()
    for url in urls:
        parsed = urlparse(url)
        parts = parsed.path.split("/")
        for i, part in enumerate(parts):
            if not ID.match(part):
                continue
            key = (_shape(parsed.path), i)
            if key in shapes:
                continue
            shapes.add(key)
            out += ["/".join([*parts[:i], bad, *parts[i + 1 :]]) for bad in BAD_IDS]
        if parsed.query:
            key = (
                _shape(parsed.path),
                "?" + ",".join(sorted(k for k, _ in parse_qsl(parsed.query))),
            )
            if key not in shapes:
                shapes.add(key)
                pairs = parse_qsl(parsed.query, keep_blank_values=True)
                for bad in BAD_IDS + BAD_VALUES[:3]:
                    out.append(parsed.path + "?" + urlencode([(k, bad) for k, _ in pairs]))
    return out


def shown_forms(pages: dict[str, str]) -> list[tuple[str, dict]]:
    """(action, form) for each form of the crawled pages, once per shape (method, action with
    its ids blanked, field names), leaving out those that would end the session."""
    out, seen = [], set()
    for url, body in pages.items():
        if not body.lstrip().startswith(("<!doctype", "<!DOCTYPE", "<html")):
            continue
        parser = Forms()
        parser.feed(body)
        for form in parser.forms:
            action = form["action"] or urlparse(url).path
            if action.startswith(("http:", "https:")) or any(s in action for s in SKIP_ACTIONS):
                continue
            key = (form["method"], _shape(urlparse(action).path), tuple(sorted(form["f"])))
            if key in seen:
                continue
            seen.add(key)
            out.append((action, form))
    return out


def _form_requests(pages: dict[str, str]) -> list[tuple[str, str, dict]]:
    out = []
    for action, form in shown_forms(pages):
        fields = form["f"]
        out.append((form["method"], action, dict(fields)))  # as shown (and again: twice)
        out.append((form["method"], action, dict(fields)))
        for bad in BAD_VALUES:
            out.append((form["method"], action, {k: bad for k in fields}))
        for name in [n for n in fields if n not in ("csrfmiddlewaretoken", "form_token")]:
            out.append((form["method"], action, {**fields, name: "no-such-choice"}))
    return out


PERSONAS = ["coordinator", "operator", "caseworker", "manager", "admin", "partner", "facilitator"]


@pytest.mark.django_db
@pytest.mark.parametrize("username", PERSONAS)
def test_no_page_or_form_answers_5xx(demo, username):  # noqa: F811
    user = User.objects.get(username=username)
    client = sign_in(HttpClient(raise_request_exception=False), user)
    pages = crawl(client)
    assert len(pages) >= 3
    errors = []
    for path in _mutated_paths(pages):
        r = client.get(path)
        if r.status_code >= 500:
            errors.append(("GET", path[:200], r.status_code))
    for method, action, data in _form_requests(pages):
        r = client.get(action, data) if method == "get" else client.post(action, data)
        if r.status_code >= 500:
            shown = {k: (v[:20] + "…" if len(v) > 20 else v) for k, v in data.items()}
            errors.append((method.upper(), action, r.status_code, shown))
        if user.is_active is False or "_auth_user_id" not in client.session:
            client = sign_in(HttpClient(raise_request_exception=False), user)
    assert not errors, f"{len(errors)} answers 5xx as {username}: {errors[:15]}"
