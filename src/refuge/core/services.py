"""Every state change of the core app: organisations, staff, sign-in factors, API keys, keys."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.core import audit, crypto, lockout, shred_ledger
from refuge.core.access import Principal, require, require_reauthenticated
from refuge.core.models import (
    ApiKey,
    BreakGlass,
    DataKey,
    DeactivateReason,
    KnownBrowser,
    Membership,
    Organisation,
    RevokeReason,
    UnlockLink,
    User,
)
from refuge.core.notices import SecurityNotice, announce
from refuge.core.roles import (
    ADMIN_GRANT_NEEDS_REASON,
    RANK,
    OrgKind,
    Role,
    can_administer,
    can_manage_api_keys,
    can_open_break_glass,
    can_use_api_keys_for,
    grantable_by,
)


class ServiceError(Exception):
    """A refused change, with a message for people and a code for machines."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def temporary_password() -> str:
    # Four groups of five from an alphabet without look-alikes: easy to read out on the phone.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


# --- organisations and staff ---------------------------------------------------------------


def organisation_create(*, by: Principal | None, slug: str, name: str, kind: str) -> Organisation:
    if by is not None:
        require(by, can_administer)
    if kind not in OrgKind.values:
        raise ServiceError(_("Unknown organisation kind %(kind)r.") % {"kind": kind})
    with transaction.atomic():
        if Organisation.objects.filter(slug=slug).exists():
            raise ServiceError(
                _("An organisation with this short name exists already."), "duplicate"
            )
        org = Organisation.objects.create(slug=slug, name=name, kind=kind)
        audit.record(
            actor=by,
            action="organisation.create",
            target_type="core.organisation",
            target_id=org.pk,
            target_org_slug=org.slug,
            details={"kind": kind},
        )
    return org


@dataclass(frozen=True)
class NewStaff:
    user: User
    temporary_password: str


def _forbidden(message: str) -> ServiceError:
    return ServiceError(message, "forbidden")


def _grant(by: Principal | None, organisation: Organisation, role: str) -> bool:
    """Refuse unless ``by`` may give ``role`` in ``organisation`` (to a member of staff or to an
    API key). Returns True when the grant is break-glass-grade (an administrator giving a role
    that reads cases): it then needs a written reason and goes into the break-glass register.

    Managers give the roles of their own organisation; administrators give managers,
    coordinators, analysts and administrators anywhere, never caseworkers, operators, partners
    or facilitators (so an administrator cannot make herself a caseworker somewhere and read
    its cases); nobody gives a role that reaches further than her own (`roles.RANK`).
    """
    if by is None:  # the server's console, the demo loader
        return False
    if by.break_glass is not None or by.role is None:
        raise _forbidden(_("You cannot give roles."))
    if role not in grantable_by(by.role) or RANK[Role(role)] > RANK[Role(by.role)]:
        if by.role == Role.ADMIN:
            raise _forbidden(
                _("This role is given by the organisation's own manager, not by an administrator.")
            )
        raise _forbidden(_("Only an administrator can give this role."))
    if by.role == Role.MANAGER:
        if by.org_id != organisation.pk:
            raise _forbidden(_("Only a manager of this organisation can change its staff."))
        return False
    return role in ADMIN_GRANT_NEEDS_REASON


def check_reason(reason: str) -> str:
    """A break-glass reason: written out, not a word or two."""
    text = (reason or "").strip()
    least = settings.REFUGE_BREAK_GLASS_MIN_REASON
    if len(text) < least:
        raise ServiceError(
            _("Write the reason out: at least %(n)d characters.") % {"n": least}, "reason"
        )
    if len(text) > 2000:
        raise ServiceError(_("The reason is too long (at most 2,000 characters)."), "reason")
    return text


def _user_id(p: Principal | None) -> int | None:
    return p.user.pk if p is not None and p.user is not None else None


def _register_account_access(
    *, by: Principal, organisation: Organisation, subject: User | None, action: str, reason: str
) -> BreakGlass:
    """Enter a break-glass-grade grant (an account or an API key that reads cases) in the
    organisation's register."""
    entry = BreakGlass(
        kind=BreakGlass.Kind.ACCOUNT,
        user=by.user,
        organisation=organisation,
        subject=subject,
        action=action,
        data_key=data_key_create(),
        opened_at=timezone.now(),
    )
    entry.reason = reason
    entry.save()
    audit.record(
        actor=by,
        action="break_glass.account",
        target_type="core.breakglass",
        target_id=entry.pk,
        target_org_slug=organisation.slug,
        details={"action": action, "user": subject.pk if subject else None},
    )
    return entry


def staff_create(
    *,
    by: Principal | None,
    organisation: Organisation,
    username: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    password: str | None = None,
    reason: str = "",
) -> NewStaff:
    """Create a member of staff. Without `password`, a temporary one to change at first sign-in.

    A person doing this must have re-authenticated; an administrator giving a role that reads
    cases also gives a written reason (break-glass-grade)."""
    if role not in Role.values:
        raise ServiceError(_("Unknown role %(role)r.") % {"role": role})
    graded = _grant(by, organisation, role)
    require_reauthenticated(by)
    if graded:
        reason = check_reason(reason)
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ServiceError(_("This user name is taken."), "duplicate")
        temp = password or temporary_password()
        user = User(
            username=username,
            first_name=first_name,
            last_name=last_name,
            email=email,
            must_change_password=password is None,
        )
        user.set_password(temp)
        user.save()
        Membership.objects.create(user=user, organisation=organisation, role=role)
        audit.record(
            actor=by,
            action="staff.create",
            target_type="core.user",
            target_id=user.pk,
            target_org_slug=organisation.slug,
            details={"role": role},
        )
        if by is not None:  # accounts made by the console or the demo loader announce nothing
            if graded:
                _register_account_access(
                    by=by,
                    organisation=organisation,
                    subject=user,
                    action="staff.create",
                    reason=reason,
                )
            announce(
                SecurityNotice(
                    kind="staff_created",
                    user_id=user.pk,
                    organisation_id=organisation.pk,
                    by_user_id=_user_id(by),
                )
            )
    return NewStaff(user=user, temporary_password=temp if password is None else "")


def _managed(by: Principal, member: User, *, gives_access: bool) -> tuple[Membership, bool]:
    """The member's membership if ``by`` may act on her account, and whether the act is
    break-glass-grade.

    ``gives_access``: the act lets whoever does it sign in as her (a new password, a removed
    second factor). Administrators may do that only to the roles they give; deactivating,
    activating and unlocking give nobody access and are open to them for every account.
    """
    m = member.membership_or_none
    if m is None:
        raise ServiceError(_("This user has no membership."))
    if by.break_glass is not None:
        raise _forbidden(_("Break-glass only reads."))
    if by.role == Role.MANAGER:
        _grant(by, m.organisation, m.role)
        return m, False
    if by.role != Role.ADMIN:
        raise _forbidden(_("Only a manager of this organisation can change its staff."))
    if not gives_access:
        return m, False
    return m, _grant(by, m.organisation, m.role)


def staff_actions(by: Principal, member: User) -> frozenset[str]:
    """What the staff page offers ``by`` for this member (the services decide again)."""
    if by.user is not None and by.user.pk == member.pk:
        return frozenset()
    allowed = set()
    for action, gives_access in (
        ("reset-password", True),
        ("reset-2fa", True),
        ("unlock", False),
        ("deactivate", False),
        ("activate", False),
    ):
        try:
            _, graded = _managed(by, member, gives_access=gives_access)
        except ServiceError:
            continue
        allowed.add(f"{action}:reason" if graded else action)
    return frozenset(allowed)


def _graded_reason(by: Principal, graded: bool, reason: str) -> str:
    if not graded:
        return ""
    require_reauthenticated(by)
    return check_reason(reason)


def _account_changed(
    *,
    by: Principal,
    m: Membership,
    member: User,
    action: str,
    kind: str,
    graded: bool = False,
    reason: str = "",
    details: dict | None = None,
) -> None:
    """What every change to a member's sign-in writes, inside its transaction: the audit
    event, the register entry when it is break-glass-grade, and the notice."""
    audit.record(
        actor=by,
        action=action,
        target_type="core.user",
        target_id=member.pk,
        target_org_slug=m.organisation.slug,
        details=details,
    )
    if graded:
        _register_account_access(
            by=by, organisation=m.organisation, subject=member, action=action, reason=reason
        )
    announce(
        SecurityNotice(
            kind=kind,
            user_id=member.pk,
            organisation_id=m.organisation.pk,
            by_user_id=_user_id(by),
        )
    )


def staff_reset_password(*, by: Principal, member: User, reason: str = "") -> str:
    """A manager sets a temporary password (shown once); the user must change it at sign-in.
    Every lock on the account is lifted, and every browser it knew is forgotten."""
    m, graded = _managed(by, member, gives_access=True)
    reason = _graded_reason(by, graded, reason)
    temp = temporary_password()
    with transaction.atomic():
        member.set_password(temp)
        member.must_change_password = True
        member.save(update_fields=["password", "must_change_password"])
        lockout.clear(username=member.username)
        lockout.forget_browsers(user=member)
        _account_changed(
            by=by,
            m=m,
            member=member,
            action="staff.reset_password",
            kind="password_reset",
            graded=graded,
            reason=reason,
        )
    return temp


def staff_reset_second_factor(*, by: Principal, member: User, reason: str = "") -> None:
    m, graded = _managed(by, member, gives_access=True)
    reason = _graded_reason(by, graded, reason)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=member).delete()
        lockout.forget_browsers(user=member)
        _account_changed(
            by=by,
            m=m,
            member=member,
            action="staff.reset_second_factor",
            kind="second_factor_reset",
            graded=graded,
            reason=reason,
        )


def staff_unlock(*, by: Principal, member: User) -> None:
    """Lift every sign-in lock on her account (her own password and code are unchanged)."""
    m, _graded = _managed(by, member, gives_access=False)
    with transaction.atomic():
        lockout.clear(username=member.username)
        _account_changed(
            by=by,
            m=m,
            member=member,
            action="auth.unlock",
            kind="account_unlocked",
            details={"by": "staff"},
        )


def staff_set_active(*, by: Principal, member: User, active: bool, reason: str = "") -> None:
    """``reason`` (a DeactivateReason, optional for callers other than the staff page) goes
    into the audit event of a deactivation."""
    m, _graded = _managed(by, member, gives_access=False)
    if by.user is not None and by.user.pk == member.pk:
        raise ServiceError(_("You cannot deactivate yourself."))
    if reason and (active or reason not in DeactivateReason.values):
        raise ServiceError(_("Choose why the account is deactivated."), "invalid_reason")
    with transaction.atomic():
        member.is_active = active
        member.save(update_fields=["is_active"])
        m.is_active = active
        m.save(update_fields=["is_active"])
        audit.record(
            actor=by,
            action="staff.activate" if active else "staff.deactivate",
            target_type="core.user",
            target_id=member.pk,
            target_org_slug=m.organisation.slug,
            details={"reason": reason} if reason else None,
        )


def password_change(
    *, user: User, new_password: str, actor: Principal, browser: KnownBrowser | None = None
) -> None:
    """She changes her own password. Outside the first change of a temporary password, only
    after re-authenticating. Every lock on her account is lifted (whoever caused it knew the
    old password) and every browser but ``browser`` (the one she is using) is forgotten."""
    if not user.must_change_password:
        require_reauthenticated(actor)
    validate_password(new_password, user)
    org = user.organisation
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        lockout.clear(username=user.username)
        lockout.forget_browsers(user=user, keep=browser)
        audit.record(
            actor=actor,
            action="auth.password_change",
            target_type="core.user",
            target_id=user.pk,
            target_org_slug=actor.org_slug or "",
        )
        announce(
            SecurityNotice(
                kind="password_changed",
                user_id=user.pk,
                organisation_id=org.pk if org else None,
            )
        )


# --- unlocking (lockout rules: refuge.core.lockout) --------------------------------------------


def _self(user: User, source: str) -> Principal:
    return Principal(name=user.username, role=None, organisation=None, ip=source)


def unlock_link_request(
    *, username: str, source: str, link_for: Callable[[str], str]
) -> EmailMessage | None:
    """She asks for an unlock link. Returns the e-mail to send (outside the request, so that
    the answer takes as long whether or not the account exists), or None when there is no such
    account, no address to send to, or she had ``REFUGE_UNLOCK_LINKS_PER_HOUR`` this hour."""
    user = (
        User.objects.filter(username__iexact=username.strip()[:150], is_active=True)
        .select_related("membership__organisation")
        .first()
    )
    if user is None or not user.email or user.role is None:
        return None
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        recent = UnlockLink.objects.filter(user=user, created_at__gt=now - timedelta(hours=1))
        if recent.count() >= settings.REFUGE_UNLOCK_LINKS_PER_HOUR:
            return None
        minutes = settings.REFUGE_UNLOCK_LINK_MINUTES
        UnlockLink.objects.create(
            user=user,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            expires_at=now + timedelta(minutes=minutes),
        )
        audit.record(
            actor=_self(user, source),
            action="auth.unlock_link_sent",
            target_type="core.user",
            target_id=user.pk,
            target_org_slug=user.organisation.slug,
        )
    with translation.override(user.preferred_language or translation.get_language()):
        subject = _("Unlock your sign-in to Refuge")
        body = _(
            "Someone, we hope you, asked to unlock sign-in to your Refuge account.\n\n"
            "Open this link within %(minutes)d minutes, on the computer or phone you want to sign "
            "in from, and confirm:\n\n%(link)s\n\n"
            "It also lets that browser sign in while others are kept out. If you did not ask for "
            "this, do not open the link; tell your manager, as someone may know your password."
        ) % {"minutes": minutes, "link": link_for(token)}
    return EmailMessage(subject=subject, body=body, to=[user.email])


def unlock_link_use(*, token: str, source: str) -> User | None:
    """Open an unlock link: every lock on her account is lifted. Returns her, or None for a
    link that is unknown, used, expired or for an account no longer active."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    with transaction.atomic():
        link = (
            UnlockLink.objects.select_for_update()
            .select_related("user")
            .filter(token_hash=digest)
            .first()
        )
        now = timezone.now()
        if link is None or link.used_at is not None or link.expires_at <= now:
            return None
        user = link.user
        if not user.is_active or user.role is None:
            return None
        link.used_at = now
        link.save(update_fields=["used_at"])
        lockout.clear(username=user.username)
        audit.record(
            actor=_self(user, source),
            action="auth.unlock",
            target_type="core.user",
            target_id=user.pk,
            target_org_slug=user.organisation.slug,
            details={"by": "link"},
        )
        announce(
            SecurityNotice(
                kind="account_unlocked", user_id=user.pk, organisation_id=user.organisation.pk
            )
        )
    return user


# --- break-glass ---------------------------------------------------------------------------------


def break_glass_open(*, by: Principal, organisation: Organisation, reason: str) -> BreakGlass:
    """An administrator opens read-only access to one organisation's cases, for
    ``REFUGE_BREAK_GLASS_MINUTES``, with a written reason, after re-authenticating. The
    organisation's managers are told at once (``break_glass_opened``). Any break-glass she had
    open ends (one organisation at a time)."""
    require(by, can_open_break_glass)
    if by.break_glass is not None:
        raise _forbidden(_("End the break-glass you have open first."))
    require_reauthenticated(by)
    reason = check_reason(reason)
    if not organisation.is_active:
        raise ServiceError(_("This organisation is not active."), "inactive")
    now = timezone.now()
    with transaction.atomic():
        for earlier in BreakGlass.objects.select_for_update().filter(
            user=by.user,
            kind=BreakGlass.Kind.CASE_ACCESS,
            closed_at__isnull=True,
            expires_at__gt=now,
        ):
            _break_glass_end(by=by, entry=earlier, now=now)
        entry = BreakGlass(
            kind=BreakGlass.Kind.CASE_ACCESS,
            user=by.user,
            organisation=organisation,
            data_key=data_key_create(),
            opened_at=now,
            expires_at=now + timedelta(minutes=settings.REFUGE_BREAK_GLASS_MINUTES),
        )
        entry.reason = reason
        entry.save()
        audit.record(
            actor=by,
            action="break_glass.open",
            target_type="core.breakglass",
            target_id=entry.pk,
            target_org_slug=organisation.slug,
            details={"minutes": settings.REFUGE_BREAK_GLASS_MINUTES},
        )
        announce(
            SecurityNotice(
                kind="break_glass_opened", user_id=by.user.pk, organisation_id=organisation.pk
            )
        )
    return entry


def _break_glass_end(*, by: Principal, entry: BreakGlass, now) -> None:
    entry.closed_at = now
    entry.closed_by = by.user
    entry.save(update_fields=["closed_at", "closed_by"])
    audit.record(
        actor=by,
        action="break_glass.close",
        target_type="core.breakglass",
        target_id=entry.pk,
        target_org_slug=entry.organisation.slug,
    )
    announce(
        SecurityNotice(
            kind="break_glass_closed",
            user_id=entry.user_id,
            organisation_id=entry.organisation_id,
            by_user_id=_user_id(by),
        )
    )


def break_glass_close(*, by: Principal, entry: BreakGlass) -> bool:
    """End a break-glass session before its time: the administrator who opened it, any
    administrator, or a manager of the organisation. Returns False if it had ended already."""
    user_id = _user_id(by)
    own = user_id is not None and user_id == entry.user_id
    manager_here = (
        by.break_glass is None and by.role == Role.MANAGER and by.org_id == entry.organisation_id
    )
    admin = by.break_glass is None and by.role == Role.ADMIN
    if not (own or manager_here or admin):
        raise _forbidden(_("You cannot end this break-glass session."))
    with transaction.atomic():
        locked = (
            BreakGlass.objects.select_for_update().select_related("organisation").get(pk=entry.pk)
        )
        now = timezone.now()
        if not locked.is_open(now):
            return False
        _break_glass_end(by=by, entry=locked, now=now)
    return True


# --- second factor ---------------------------------------------------------------------------


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled (created on first call, reused after)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def totp_device_confirm(*, user: User, device: TOTPDevice, actor: Principal) -> None:
    """Confirm the device being enrolled and drop any other. Replacing a confirmed device
    needs a re-authentication with it first (a session left open must not swap it)."""
    replacing = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    if replacing:
        require_reauthenticated(actor)
    org = user.organisation
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit.record(
            actor=actor,
            action="auth.second_factor_enrolled",
            target_type="core.user",
            target_id=user.pk,
            target_org_slug=actor.org_slug or "",
            details={"replaced": replacing},
        )
        announce(
            SecurityNotice(
                kind="second_factor_changed" if replacing else "second_factor_enrolled",
                user_id=user.pk,
                organisation_id=org.pk if org else None,
            )
        )


# --- API keys --------------------------------------------------------------------------------

API_KEY_PREFIX = "rfg_"


def _hash_secret(secret: str) -> str:
    # API keys are 256-bit random, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(secret.encode()).hexdigest()


API_KEY_MAX_DAYS = 5 * 366


def api_key_create(
    *,
    by: Principal | None,
    organisation: Organisation,
    role: str,
    name: str = "",
    days: int | None = None,
    reason: str = "",
) -> tuple[ApiKey, str]:
    """Create a key and return it with its full text, which is never shown again.

    It expires after ``days`` (``REFUGE_API_KEY_DAYS`` by default). A person issuing one
    re-authenticates first and gives only roles she may give to staff (`_grant`)."""
    if role not in Role.values or not can_use_api_keys_for(role):
        raise ServiceError(_("API keys cannot carry the role %(role)r.") % {"role": role})
    days = settings.REFUGE_API_KEY_DAYS if days is None else days
    if not 1 <= days <= API_KEY_MAX_DAYS:
        raise ServiceError(
            _("A key lasts from 1 to %(n)d days.") % {"n": API_KEY_MAX_DAYS}, "invalid_days"
        )
    graded = False
    if by is not None:
        require(by, can_manage_api_keys)
        graded = _grant(by, organisation, role)
        require_reauthenticated(by)
        if graded:
            reason = check_reason(reason)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            organisation=organisation,
            role=role,
            name=(name or role)[:100],
            prefix=prefix,
            secret_hash=_hash_secret(secret),
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit.record(
            actor=by,
            action="api_key.create",
            target_type="core.apikey",
            target_id=key.pk,
            target_org_slug=organisation.slug,
            details={"role": role, "prefix": prefix, "days": days},
        )
        if by is not None and by.user is not None:
            if graded:
                _register_account_access(
                    by=by,
                    organisation=organisation,
                    subject=None,
                    action="api_key.create",
                    reason=reason,
                )
            announce(
                SecurityNotice(
                    kind="api_key_issued", user_id=by.user.pk, organisation_id=organisation.pk
                )
            )
    return key, f"{API_KEY_PREFIX}{prefix}_{secret}"


def api_key_authenticate(text: str) -> ApiKey | None:
    if not text.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, secret = text[len(API_KEY_PREFIX) :].partition("_")
    if not sep:
        return None
    now = timezone.now()
    key = (
        ApiKey.objects.select_related("organisation")
        .filter(prefix=prefix, revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if key is None or not hmac.compare_digest(key.secret_hash, _hash_secret(secret)):
        return None
    if not key.organisation.is_active:
        return None
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def api_key_revoke(*, by: Principal | None, key: ApiKey, reason: str) -> None:
    """Revoke a key at once. Managers revoke their own organisation's keys, administrators any;
    the reason is one of `RevokeReason` (no free text)."""
    if by is not None:
        require(by, can_manage_api_keys)
        if by.break_glass is not None or (
            by.role != Role.ADMIN and by.org_id != key.organisation_id
        ):
            raise _forbidden(_("You cannot revoke this key."))
    if reason not in RevokeReason.values:
        raise ServiceError(_("Choose why the key is revoked."), "reason")
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        if locked.revoked_at is not None:
            raise ServiceError(_("This key was revoked already."), "revoked")
        locked.revoked_at = timezone.now()
        locked.revoked_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_reason"])
        key.revoked_at, key.revoked_reason = locked.revoked_at, reason
        audit.record(
            actor=by,
            action="api_key.revoke",
            target_type="core.apikey",
            target_id=key.pk,
            target_org_slug=key.organisation.slug,
            details={"prefix": key.prefix, "reason": reason},
        )
        if by is not None and by.user is not None:
            announce(
                SecurityNotice(
                    kind="api_key_revoked", user_id=by.user.pk, organisation_id=key.organisation_id
                )
            )


# --- data keys -------------------------------------------------------------------------------


def data_key_create() -> DataKey:
    """A new person's data key, wrapped by the active master key. Call inside the person's
    creation transaction."""
    kid, wrapped = crypto.wrap_data_key(os.urandom(32))
    return DataKey.objects.create(master_key_id=kid, wrapped=wrapped)


def data_key_shred(
    *,
    by: Principal | None,
    key: DataKey,
    reason: str,
    target_org_slug: str = "",
    target_type: str = "",
    target_id: object = "",
) -> None:
    """Destroy a data key: every field encrypted with it becomes unreadable, for good.

    ``reason`` is a category (it is stored and audited), never her words. The shred ledger
    outside the database gets the key's id first, so a restore cannot bring the key back."""
    with transaction.atomic():
        shred_ledger.append(key_id=key.pk, target_type=target_type, target_id=target_id)
        DataKey.objects.filter(pk=key.pk).update(
            wrapped=None, destroyed_at=timezone.now(), destroyed_reason=reason[:200]
        )
        crypto.key_cache.drop(key.pk)
        audit.record(
            actor=by,
            action="data_key.shred",
            target_type="core.datakey",
            target_id=key.pk,
            target_org_slug=target_org_slug,
            details={"reason": reason[:200]},
        )
    transaction.on_commit(lambda: crypto.key_cache.drop(key.pk))
    transaction.on_commit(_flush_old_versions)


def _flush_old_versions() -> None:
    """SQLite keeps the old page (with the wrapped key) in its WAL file until a checkpoint;
    copy the WAL back and truncate it now. (secure_delete zeroes the freed bytes in the pages;
    PostgreSQL's dead tuples and WAL: docs/deployment.md, "Erasure and PostgreSQL".)"""
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def master_key_rotate(*, by: Principal | None, batch: int = 500) -> int:
    """Re-wrap every data key with the active master key. Data is not re-encrypted (it is
    under the data keys, which do not change). Returns how many keys were re-wrapped."""
    keys = crypto.master_keys()
    done = 0
    while True:
        with transaction.atomic():
            rows = list(
                DataKey.objects.select_for_update()
                .filter(wrapped__isnull=False)
                .exclude(master_key_id=keys.active_id)[:batch]
            )
            if not rows:
                break
            for row in rows:
                raw = crypto.unwrap_data_key(row.master_key_id, row.wrapped, keys)
                row.master_key_id, row.wrapped = crypto.wrap_data_key(raw, keys)
            DataKey.objects.bulk_update(rows, ["master_key_id", "wrapped"])
            done += len(rows)
    if done:
        audit.record(
            actor=by,
            action="master_key.rotate",
            target_type="core.datakey",
            details={"rewrapped": done, "to": keys.active_id},
        )
    return done
