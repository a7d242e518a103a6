"""Issue 16: "no half-saved record, and the typed values come back with a message. Double submits
of every create form create one record." Signed in as each demo persona, crawl the pages it can
reach (as test_pages_fuzz does), then for every POST form it was shown:

- post it as shown (its own hidden fields, the one-time ``form_token`` among them; if that is
  refused, with its empty fields filled in plausibly) and then the very same data again: the
  second post adds no row to any model but the bookkeeping ones below;
- post it with each bad value in every field she can type in or choose from (hidden fields and
  the button pressed stay as shown, as she cannot change them; test_pages_fuzz tampers with
  those too, for 5xx only): an answer that is not a redirect (the form was refused) has added
  or removed no row of a domain model, is 200/400/403/404/409/422/429 and carries a message
  for the person (an error list, an error or an alert, the messages box), unless the form is a
  search, whose answer is its results;
- where the refused form comes back, the script tag typed into its text fields comes back too
  (escaped): what she typed is kept.

Rows are compared by each table's count and largest key, so an added or a removed row shows; a
row changed in place does not (a checksum of every row after every post would be too slow)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone

from refuge.core.models import User
from tests.conftest import sign_in
from tests.fuzz.test_pages_fuzz import BAD_VALUES, PERSONAS, Forms, _shape, shown_forms
from tests.leaks.test_crawl import crawl, demo, demo_home  # noqa: F401 (module fixtures)

# Bookkeeping written whatever the outcome of a post, never a record someone made with a form:
# the audit chain logs every read and refusal, the outbox logs what it tells whom, the one-time
# form tokens and rate counters count requests, sessions and sign-in memory follow the browser,
# and the task queue holds the e-mails and messages waiting to be sent.
BOOKKEEPING = {
    "core.auditevent",  # append-only chain: refusals and reads are audited too
    "core.audithead",  # the chain's head, moved by every audit event
    "core.formsubmission",  # the one-time tokens themselves
    "core.ratecounter",  # counts requests, refused ones included
    "core.signinfailure",  # counts failed steps
    "notifications.event",  # the outbox: what happened, raised by the services
    "notifications.delivery",  # the outbox: to whom, how
    "sessions.session",
    "django_tasks_database.dbtaskresult",  # e-mails and messages waiting to be sent
}
# Forms (by the shape of their address) that rightly make a second record when the very same
# data is posted again, each with the reason. None so far.
REPEATABLE: dict[str, str] = {}
REFUSED = {200, 400, 403, 404, 409, 422, 429}
MESSAGE = re.compile(r'class="(?:[^"]*\s)?(?:errorlist|error|messages)[\s"]|role="alert"')
TYPED = "<script>alert(1)</script>"
TYPED_BACK = "&lt;script&gt;alert(1)&lt;/script&gt;"
TEXT_KINDS = {"text", "search", "email", "tel", "url", "textarea"}
KEPT = ("csrfmiddlewaretoken", "form_token")
UNTYPED = {"hidden", "button", "submit"}
FILL = {
    "text": "Fuzz",
    "textarea": "Fuzz",
    "search": "Fuzz",
    "email": "fuzz@example.org",
    "tel": "+996312000000",
    "url": "https://example.org/",
    "number": "1",
    "date": timezone.localdate().isoformat(),
    "time": "10:00",
    "datetime-local": f"{timezone.localdate().isoformat()}T10:00",
}


def _tables():
    out = []
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in BOOKKEEPING or not model._meta.managed or model._meta.proxy:
            continue
        table, pk = (
            connection.ops.quote_name(n) for n in (model._meta.db_table, model._meta.pk.column)
        )
        integer = model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField")
        top = f"CAST(MAX({pk}) AS VARCHAR(64))" if integer else f"MAX(CAST({pk} AS VARCHAR(64)))"
        # Names come from the models and are quoted: nothing typed reaches this SQL.
        out.append((label, f"SELECT COUNT(*), {top} FROM {table}"))  # noqa: S608
    return out


def snapshot(tables) -> dict[str, tuple]:
    """Each table's row count and largest key, in one query."""
    sql = " UNION ALL ".join(
        f"SELECT {i}, q.* FROM ({q}) q"  # noqa: S608 - the queries of _tables()
        for i, (_, q) in enumerate(tables)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {tables[i][0]: (n, top) for i, n, top in cursor.fetchall()}


def _added(before: dict, after: dict) -> list[str]:
    return [t for t in before if after[t][0] > before[t][0]]


def _changed(before: dict, after: dict) -> list[str]:
    return [t for t in before if after[t] != before[t]]


def _filled(form: dict) -> dict:
    """The form's data with its empty fields given a plausible value of their kind."""
    return {k: v or FILL.get(form["t"].get(k, ""), "") for k, v in form["f"].items()}


def _text_fields(form: dict) -> set[str]:
    return {n for n, kind in form["t"].items() if kind in TEXT_KINDS and n not in KEPT}


def _comes_back(body: str, names: set[str]) -> bool | None:
    """Whether the script tag typed comes back, escaped; None where the form is not shown."""
    parser = Forms()
    parser.feed(body)
    if not any(names & set(form["f"]) for form in parser.forms):
        return None
    return TYPED_BACK in body


@pytest.mark.django_db
@pytest.mark.parametrize("username", PERSONAS)
def test_forms_keep_what_was_typed_and_never_save_twice(demo, username):  # noqa: F811
    user = User.objects.get(username=username)
    client = sign_in(HttpClient(raise_request_exception=False), user)
    pages = crawl(client)
    forms = [(a, f) for a, f in shown_forms(pages) if f["method"] == "post"]
    assert forms
    tables = _tables()
    twice, half_saved, bad_answers, silent, lost = [], [], [], [], []
    for action, form in forms:
        data = form["f"]
        if client.post(action, data).status_code not in (301, 302, 303):
            data = _filled(form)  # refused as shown (a required field left empty): fill it in
            client.post(action, data)
        before = snapshot(tables)
        r = client.post(action, data)
        added = _added(before, snapshot(tables))
        if added and _shape(urlparse(action).path) not in REPEATABLE:
            twice.append((action, r.status_code, added))
        texts = _text_fields(form)
        typeable = [k for k in form["f"] if k not in KEPT and form["t"].get(k) not in UNTYPED]
        for bad in BAD_VALUES if typeable else []:
            data = {**form["f"], **dict.fromkeys(typeable, bad)}
            data.pop("form_token", None)  # a post without a token goes straight to the view
            client.cookies.pop("messages", None)  # an earlier post's message is not this one's
            before = snapshot(tables)
            r = client.post(action, data)
            if r.status_code in (301, 302, 303):
                continue
            shown = (action, bad[:12], r.status_code)
            changed = _changed(before, snapshot(tables))
            if changed:
                half_saved.append((*shown, changed))
            if r.status_code not in REFUSED:
                bad_answers.append(shown)
            body = r.content.decode("utf-8", errors="replace")
            if form["role"] != "search" and not MESSAGE.search(body):
                silent.append(shown)

            if bad == TYPED and texts and _comes_back(body, texts) is False:
                lost.append((action, sorted(texts)))
        if user.is_active is False or "_auth_user_id" not in client.session:
            client = sign_in(HttpClient(raise_request_exception=False), user)
    problems = {
        "a second identical post added rows": twice,
        "a refused post added or removed rows": half_saved,
        "a refused post answered with an unexpected status": bad_answers,
        "a refused post answered without a message": silent,
        "a refused form came back without what was typed": lost,
    }
    found = {k: v[:10] for k, v in problems.items() if v}
    assert not found, f"{len(forms)} forms as {username}: {found}"
