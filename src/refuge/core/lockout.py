"""Sign-in protection: who may try a password or a code, and when a lock starts and ends.

The rules (settings in ``refuge.settings``; the trade-offs in docs/decisions.md, "Lockout"):

- Each step counts its own failures. A right password never clears wrong codes, so a guesser
  who has the password cannot renew his chances by signing in again (issue 14, H1).
- A *bucket* is where attempts come from: a browser known to this account (its cookie, set at
  a completed sign-in or by an e-mailed unlock link), or else the source address. After
  ``REFUGE_LOCKOUT_FAILURES`` failures of one step within ``REFUGE_LOCKOUT_MINUTES``, that
  bucket is locked out of that account for the rest of the window. A guesser at one address
  is stopped; the rest of an office behind the same address is not (locks are per account).
- Across unknown browsers, an account has a ceiling. Wrong passwords from everywhere beyond
  ``REFUGE_LOCKOUT_ACCOUNT_CEILING`` in the window only *slow* unknown browsers to one attempt
  per ``REFUGE_LOCKOUT_SLOW_SECONDS``: a crowd of addresses cannot lock her out (M7).
  Wrong codes after a right password are different: the password is already known, and six
  digits leave few chances, so after ``REFUGE_SECOND_FACTOR_ACCOUNT_LIMIT`` of them from unknown
  browsers the code step stays closed to every unknown browser until she or a manager unlocks
  it (an e-mailed link, or the staff page). Her known browsers keep working throughout.
- Every attempt is written down *before* it is checked (and removed if it was right), under a
  lock on the account's row, so a burst of parallel guesses is counted exactly.

django-otp's per-device throttle is switched off (``OTP_TOTP_THROTTLE_FACTOR = 0``): it is
shared by every source, so it let the password holder keep the owner out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from refuge.core.models import KnownBrowser, SignInFailure, User

Step = SignInFailure.Step
COOKIE = "refuge_browser"
_COOKIE_ENTRIES = 5  # a shared office computer remembers up to five people
_BROWSERS_PER_USER = 10

# Notice kinds raised when a failure crosses a threshold (see refuge.core.notices).
BUCKET_LOCKED = {Step.PASSWORD: "sign_in_locked", Step.CODE: "second_factor_locked"}
ACCOUNT_SLOWED = "sign_in_slowed"
ACCOUNT_LOCKED = "account_locked"


def normalise(username: str) -> str:
    return username.strip().lower()[:150]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _window() -> timedelta:
    return timedelta(minutes=settings.REFUGE_LOCKOUT_MINUTES)


def _memory() -> timedelta:
    return timedelta(days=settings.REFUGE_SECOND_FACTOR_MEMORY_DAYS)


# --- known browsers ----------------------------------------------------------------------------


def _cookie_entries(request: HttpRequest) -> list[tuple[str, str]]:
    raw = request.COOKIES.get(COOKIE, "")
    entries = []
    for part in raw.split("|")[:_COOKIE_ENTRIES]:
        bid, sep, secret = part.partition(".")
        if sep and secret:
            try:
                uuid.UUID(bid)
            except ValueError:
                continue
            entries.append((bid, secret))
    return entries


def known_browser(request: HttpRequest, username: str) -> KnownBrowser | None:
    """The known browser of this account that sent the request, if its cookie is genuine."""
    entries = dict(_cookie_entries(request))
    if not entries:
        return None
    since = timezone.now() - timedelta(days=settings.REFUGE_KNOWN_BROWSER_DAYS)
    for browser in KnownBrowser.objects.filter(
        pk__in=list(entries), user__username__iexact=normalise(username), last_used_at__gt=since
    ):
        if hmac.compare_digest(browser.secret_hash, _hash(entries[str(browser.pk)])):
            return browser
    return None


def remember_browser(
    request: HttpRequest, response: HttpResponse, user: User, current: KnownBrowser | None = None
) -> None:
    """Make this browser a known one for the user (or note that it was used) and set its
    cookie, keeping the entries other people of a shared computer have in it."""
    if current is not None:
        KnownBrowser.objects.filter(pk=current.pk).update(last_used_at=timezone.now())
        return
    secret = secrets.token_urlsafe(24)
    browser = KnownBrowser.objects.create(user=user, secret_hash=_hash(secret))
    keep = list(
        KnownBrowser.objects.filter(user=user)
        .order_by("-last_used_at")
        .values_list("pk", flat=True)[:_BROWSERS_PER_USER]
    )
    KnownBrowser.objects.filter(user=user).exclude(pk__in=keep).delete()
    # Entries of other people who use this computer stay; her older entry (and any entry that
    # no longer exists) goes.
    found = dict(_cookie_entries(request))
    alive = {
        str(pk)
        for pk in KnownBrowser.objects.filter(pk__in=list(found))
        .exclude(user=user)
        .values_list("pk", flat=True)
    }
    others = [(bid, s) for bid, s in found.items() if bid in alive]
    entries = [(str(browser.pk), secret), *others][:_COOKIE_ENTRIES]
    response.set_cookie(
        COOKIE,
        "|".join(f"{bid}.{s}" for bid, s in entries),
        max_age=settings.REFUGE_KNOWN_BROWSER_DAYS * 86400,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def forget_browsers(*, user: User, keep: KnownBrowser | None = None) -> None:
    """After a reset of her password or second factor: whoever signed in before is no longer
    known (the browser she is using now may stay)."""
    qs = KnownBrowser.objects.filter(user=user)
    if keep is not None:
        qs = qs.exclude(pk=keep.pk)
    qs.delete()


# --- attempts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    reason: str  # "locked" (this bucket), "slowed" or "account_locked" (unknown browsers)


@dataclass
class Attempt:
    failure_id: int
    username: str
    step: str
    source: str
    browser: KnownBrowser | None
    crossings: list[str] = field(default_factory=list)


def _lock_account(username: str) -> None:
    # The account's row serialises its attempts (SQLite's IMMEDIATE transactions already do).
    # A user name that does not exist has nothing to protect, so nothing is locked for it.
    list(User.objects.select_for_update().filter(username__iexact=username).values_list("pk"))


def begin(
    *, username: str, step: str, source: str, browser: KnownBrowser | None
) -> Attempt | Refusal:
    """Admit one attempt, or refuse it. An admitted attempt counts as a failure until
    `finish` says it was right."""
    name = normalise(username)
    now = timezone.now()
    limit = settings.REFUGE_LOCKOUT_FAILURES
    with transaction.atomic():
        _lock_account(name)
        SignInFailure.objects.filter(at__lt=now - max(_memory(), _window())).delete()
        mine = SignInFailure.objects.filter(username=name, step=step)
        recent = mine.filter(at__gt=now - _window())
        if browser is not None:
            bucket = recent.filter(browser=browser)
        else:
            bucket = recent.filter(browser__isnull=True, source=source)
        in_bucket = bucket.count()
        if in_bucket >= limit:
            return Refusal("locked")
        crossings = [BUCKET_LOCKED[step]] if in_bucket + 1 == limit else []
        if browser is None and step == Step.PASSWORD:
            strangers = recent.filter(browser__isnull=True)
            counted = strangers.aggregate(n=Count("id"), newest=Max("at"))
            ceiling = settings.REFUGE_LOCKOUT_ACCOUNT_CEILING
            slow = timedelta(seconds=settings.REFUGE_LOCKOUT_SLOW_SECONDS)
            if counted["n"] >= ceiling and now - counted["newest"] < slow:
                return Refusal("slowed")
            if counted["n"] + 1 == ceiling:
                crossings.append(ACCOUNT_SLOWED)
        elif browser is None:
            strangers = mine.filter(browser__isnull=True, at__gt=now - _memory()).count()
            account_limit = settings.REFUGE_SECOND_FACTOR_ACCOUNT_LIMIT
            if strangers >= account_limit:
                return Refusal("account_locked")
            if strangers + 1 == account_limit:
                crossings.append(ACCOUNT_LOCKED)
        row = SignInFailure.objects.create(
            username=name, step=step, source=source[:45], browser=browser, at=now
        )
    return Attempt(
        failure_id=row.pk,
        username=name,
        step=step,
        source=source,
        browser=browser,
        crossings=crossings,
    )


def succeeded(attempt: Attempt) -> None:
    """The attempt was right: it and the earlier failures of its own bucket and step are
    forgotten. Other buckets, and the other step, keep theirs."""
    mine = SignInFailure.objects.filter(username=attempt.username, step=attempt.step)
    if attempt.browser is not None:
        mine.filter(browser=attempt.browser).delete()
    else:
        mine.filter(browser__isnull=True, source=attempt.source[:45]).delete()
    SignInFailure.objects.filter(pk=attempt.failure_id).delete()


def failed(attempt: Attempt) -> list[str]:
    """The attempt was wrong (its row stays). Returns the thresholds it crossed, and for a real
    account writes them to the audit log and announces them (refuge.core.notices)."""
    if not attempt.crossings:
        return attempt.crossings
    user = (
        User.objects.filter(username__iexact=attempt.username)
        .select_related("membership__organisation")
        .first()
    )
    if user is None:
        return attempt.crossings
    from refuge.core import audit
    from refuge.core.access import Principal
    from refuge.core.notices import SecurityNotice, announce

    with transaction.atomic():
        for kind in attempt.crossings:
            audit.record(
                actor=Principal(
                    name=user.username, role=None, organisation=None, ip=attempt.source
                ),
                action="auth.lockout",
                target_type="core.user",
                target_id=user.pk,
                target_org_slug=user.organisation.slug if user.organisation else "",
                details={"step": attempt.step, "kind": kind},
            )
            announce(
                SecurityNotice(
                    kind=kind,
                    user_id=user.pk,
                    organisation_id=user.organisation.pk if user.organisation else None,
                )
            )
    return attempt.crossings


def locks_now(crossings: list[str]) -> bool:
    """Whether a failure that crossed these thresholds shuts this source out of the account."""
    return bool({*BUCKET_LOCKED.values(), ACCOUNT_LOCKED} & set(crossings))


def clear(*, username: str) -> int:
    """Lift every lock on an account (an unlock). Returns how many failures were forgotten."""
    deleted, _ = SignInFailure.objects.filter(username=normalise(username)).delete()
    return deleted


@dataclass(frozen=True)
class LockState:
    locked_somewhere: bool  # at least one source or browser is locked out
    slowed: bool  # unknown browsers are slowed (password step)
    account_locked: bool  # the code step is closed to unknown browsers

    @property
    def any(self) -> bool:
        return self.locked_somewhere or self.slowed or self.account_locked


def lock_states(usernames: list[str]) -> dict[str, LockState]:
    """For the staff page: which of these accounts have a lock now (three queries)."""
    names = [normalise(u) for u in usernames]
    now = timezone.now()
    limit = settings.REFUGE_LOCKOUT_FAILURES
    recent = SignInFailure.objects.filter(username__in=names, at__gt=now - _window())
    buckets = {
        r["username"]
        for r in recent.values("username", "step", "source", "browser_id").annotate(n=Count("id"))
        if r["n"] >= limit
    }
    slowed = {
        r["username"]
        for r in recent.filter(step=Step.PASSWORD, browser__isnull=True)
        .values("username")
        .annotate(n=Count("id"))
        if r["n"] >= settings.REFUGE_LOCKOUT_ACCOUNT_CEILING
    }
    locked = {
        r["username"]
        for r in SignInFailure.objects.filter(
            username__in=names, step=Step.CODE, browser__isnull=True, at__gt=now - _memory()
        )
        .values("username")
        .annotate(n=Count("id"))
        if r["n"] >= settings.REFUGE_SECOND_FACTOR_ACCOUNT_LIMIT
    }
    return {
        original: LockState(
            locked_somewhere=name in buckets, slowed=name in slowed, account_locked=name in locked
        )
        for original, name in zip(usernames, names, strict=True)
    }
