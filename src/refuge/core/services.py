"""Every state change of the core app: organisations, staff, sign-in factors, API keys, keys."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from axes.utils import reset as axes_reset
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.core import audit, crypto
from refuge.core.access import Principal, require
from refuge.core.models import ApiKey, DataKey, Membership, Organisation, User
from refuge.core.roles import MANAGER_GRANTABLE, OrgKind, Role, can_administer, can_use_api_keys_for


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
        raise ServiceError(f"Unknown organisation kind {kind!r}.")
    with transaction.atomic():
        if Organisation.objects.filter(slug=slug).exists():
            raise ServiceError("An organisation with this short name exists already.", "duplicate")
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


def _check_grant(by: Principal | None, organisation: Organisation, role: str) -> None:
    if by is None or by.role == Role.ADMIN:
        return
    if by.role != Role.MANAGER or by.org_id != organisation.pk:
        raise ServiceError("Only a manager of this organisation can change its staff.", "forbidden")
    if role not in MANAGER_GRANTABLE:
        raise ServiceError("Only an administrator can give this role.", "forbidden")


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
) -> NewStaff:
    """Create a member of staff. Without `password`, a temporary one to change at first sign-in."""
    if role not in Role.values:
        raise ServiceError(f"Unknown role {role!r}.")
    _check_grant(by, organisation, role)
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise ServiceError("This user name is taken.", "duplicate")
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
    return NewStaff(user=user, temporary_password=temp if password is None else "")


def _managed(by: Principal, member: User) -> Membership:
    m = member.membership_or_none
    if m is None:
        raise ServiceError("This user has no membership.")
    _check_grant(by, m.organisation, m.role)
    return m


def staff_reset_password(*, by: Principal, member: User) -> str:
    """A manager sets a temporary password (shown once); the user must change it at sign-in."""
    m = _managed(by, member)
    temp = temporary_password()
    with transaction.atomic():
        member.set_password(temp)
        member.must_change_password = True
        member.save(update_fields=["password", "must_change_password"])
        axes_reset(username=member.username)
        audit.record(
            actor=by,
            action="staff.reset_password",
            target_type="core.user",
            target_id=member.pk,
            target_org_slug=m.organisation.slug,
        )
    return temp


def staff_reset_second_factor(*, by: Principal, member: User) -> None:
    m = _managed(by, member)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=member).delete()
        audit.record(
            actor=by,
            action="staff.reset_second_factor",
            target_type="core.user",
            target_id=member.pk,
            target_org_slug=m.organisation.slug,
        )


def staff_set_active(*, by: Principal, member: User, active: bool) -> None:
    m = _managed(by, member)
    if by.user is not None and by.user.pk == member.pk:
        raise ServiceError("You cannot deactivate yourself.")
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
        )


def password_change(*, user: User, new_password: str, actor: Principal) -> None:
    validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        audit.record(
            actor=actor,
            action="auth.password_change",
            target_type="core.user",
            target_id=user.pk,
            target_org_slug=actor.org_slug or "",
        )


# --- second factor ---------------------------------------------------------------------------


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled (created on first call, reused after)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def totp_device_confirm(*, user: User, device: TOTPDevice, actor: Principal) -> None:
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
        )


# --- API keys --------------------------------------------------------------------------------

API_KEY_PREFIX = "rfg_"


def _hash_secret(secret: str) -> str:
    # API keys are 256-bit random, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(
    *, by: Principal | None, organisation: Organisation, role: str, name: str = ""
) -> tuple[ApiKey, str]:
    """Create a key and return it with its full text, which is never shown again."""
    if role not in Role.values or not can_use_api_keys_for(role):
        raise ServiceError(f"API keys cannot carry the role {role!r}.")
    if by is not None:
        require(by, can_administer)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            organisation=organisation,
            role=role,
            name=name or role,
            prefix=prefix,
            secret_hash=_hash_secret(secret),
        )
        audit.record(
            actor=by,
            action="api_key.create",
            target_type="core.apikey",
            target_id=key.pk,
            target_org_slug=organisation.slug,
            details={"role": role, "prefix": prefix},
        )
    return key, f"{API_KEY_PREFIX}{prefix}_{secret}"


def api_key_authenticate(text: str) -> ApiKey | None:
    if not text.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, secret = text[len(API_KEY_PREFIX) :].partition("_")
    if not sep:
        return None
    key = (
        ApiKey.objects.select_related("organisation")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.secret_hash, _hash_secret(secret)):
        return None
    if not key.organisation.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def api_key_revoke(*, by: Principal, key: ApiKey) -> None:
    require(by, can_administer)
    with transaction.atomic():
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record(
            actor=by,
            action="api_key.revoke",
            target_type="core.apikey",
            target_id=key.pk,
            target_org_slug=key.organisation.slug,
        )


# --- data keys -------------------------------------------------------------------------------


def data_key_create() -> DataKey:
    """A new person's data key, wrapped by the active master key. Call inside the person's
    creation transaction."""
    kid, wrapped = crypto.wrap_data_key(os.urandom(32))
    return DataKey.objects.create(master_key_id=kid, wrapped=wrapped)


def data_key_shred(
    *, by: Principal | None, key: DataKey, reason: str, target_org_slug: str = ""
) -> None:
    """Destroy a data key: every field encrypted with it becomes unreadable, for good."""
    with transaction.atomic():
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
