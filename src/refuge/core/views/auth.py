"""Sign-in: password (argon2), then a TOTP code, then the app; re-authentication before
sensitive changes; unlocking. Who may try, and when a lock starts, is refuge.core.lockout.

Every failure shows the same neutral message, whether the user name, the password or the code
was wrong, or the account is locked: the page must not tell a stranger which accounts exist.
The session key changes at each step (password, code, re-authentication).
"""

from __future__ import annotations

import io
import time

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import auth, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.core import audit, lockout, mailer, services
from refuge.core.access import Principal, client_ip, mark_reauthenticated, principal
from refuge.core.forms import (
    CodeForm,
    PasswordChangeForm,
    ReauthForm,
    SignInForm,
    UnlockRequestForm,
)
from refuge.core.models import User
from refuge.core.roles import requires_second_factor

Step = lockout.Step


def neutral_failure() -> str:
    return _("Sign-in failed. Check your details and try again, or ask your manager for help.")


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("core:home")


def _failed(request: HttpRequest, username: str, step: str) -> None:
    audit.record(
        actor=Principal(
            name=username[:150] or "?", role=None, organisation=None, ip=client_ip(request)
        ),
        action="auth.sign_in_failed",
        details={"step": step},
    )


def _signed_out(request: HttpRequest) -> HttpResponse:
    """A session whose source is now locked out ends; the sign-in page says only the usual."""
    auth.logout(request)
    return render(request, "core/login.html", {"form": SignInForm(), "error": neutral_failure()})


def _verify_code(
    request: HttpRequest, user: User, form: CodeForm | ReauthForm, devices
) -> tuple[TOTPDevice | None, bool]:
    """Check a code against ``devices`` (a queryset of her devices) under the code step's
    counters. Returns the device that matched (or None) and whether this source is now shut
    out of her account (the caller signs the session out)."""
    browser = lockout.known_browser(request, user.username)
    gate = lockout.begin(
        username=user.username, step=Step.CODE, source=client_ip(request), browser=browser
    )
    if isinstance(gate, lockout.Refusal):
        _failed(request, user.username, f"code_{gate.reason}")
        return None, True
    device = None
    if form.is_valid():
        code = form.cleaned_data["code"].strip()
        # Locked, so that two requests cannot both spend the same code.
        with transaction.atomic():
            for candidate in devices.select_for_update():
                if candidate.verify_token(code):
                    device = candidate
                    break
    if device is not None:
        lockout.succeeded(gate)
        return device, False
    crossed = lockout.failed(gate)
    _failed(request, user.username, "code")
    return None, lockout.locks_now(crossed)


def _complete(request: HttpRequest, user: User, response: HttpResponse) -> HttpResponse:
    """The last step of a sign-in succeeded: record it and remember this browser."""
    audit.record(
        actor=principal(request),
        action="auth.sign_in",
        details={"second_factor": requires_second_factor(user.role or "")},
    )
    lockout.remember_browser(request, response, user, lockout.known_browser(request, user.username))
    return response


@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request))
    form = SignInForm(request.POST or None)
    error = None
    if request.GET.get("timeout"):
        messages.info(request, _("You were signed out after a period without activity."))
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        gate = lockout.begin(
            username=username,
            step=Step.PASSWORD,
            source=client_ip(request),
            browser=lockout.known_browser(request, username),
        )
        if isinstance(gate, lockout.Refusal):
            _failed(request, username, gate.reason)
            error = neutral_failure()
        else:
            user = auth.authenticate(
                request, username=username, password=form.cleaned_data["password"]
            )
            if user is not None and user.role is not None:
                lockout.succeeded(gate)
                auth.login(request, user)  # a new session key
                # Signing in is her first action (IdleTimeoutMiddleware counts from it).
                request.session["last_activity"] = time.time()
                if requires_second_factor(user.role):
                    has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
                    target = reverse("core:login_code" if has_device else "core:enrol")
                    return redirect(f"{target}?next={_next_url(request)}")
                return _complete(request, user, redirect(_next_url(request)))
            lockout.failed(gate)
            _failed(request, username, "password")
            error = neutral_failure()
    elif request.method == "POST":
        error = neutral_failure()
    return render(
        request, "core/login.html", {"form": form, "error": error, "next": _next_url(request)}
    )


@never_cache
def login_code_view(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("core:login")
    user = request.user
    if user.is_verified() or not requires_second_factor(user.role or ""):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    error = None
    if request.method == "POST":
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
        device, shut_out = _verify_code(request, user, form, devices)
        if device is not None:
            otp_login(request, device)
            request.session.cycle_key()  # the verified session gets a key of its own
            return _complete(request, user, redirect(_next_url(request)))
        if shut_out:
            return _signed_out(request)
        error = neutral_failure()
    return render(
        request, "core/login_code.html", {"form": form, "error": error, "next": _next_url(request)}
    )


@never_cache
def enrol_view(request: HttpRequest) -> HttpResponse:
    """First sign-in of a role that needs a second factor: scan the QR code, type a code.
    A verified member replacing her authenticator re-authenticates with the old one first."""
    if not request.user.is_authenticated:
        return redirect("core:login")
    user = request.user
    has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    if has_device and not user.is_verified():
        return redirect("core:login_code")
    replacing = has_device
    if replacing and not principal(request).reauthenticated:
        return redirect(f"{reverse('core:reauth')}?next={reverse('core:enrol')}")
    device = services.totp_device_pending(user=user)
    form = CodeForm(request.POST or None)
    error = None
    if request.method == "POST":
        pending = TOTPDevice.objects.filter(pk=device.pk, confirmed=False)
        confirmed, shut_out = _verify_code(request, user, form, pending)
        if confirmed is not None:
            services.totp_device_confirm(user=user, device=confirmed, actor=principal(request))
            otp_login(request, confirmed)
            request.session.cycle_key()
            if replacing:
                messages.success(request, _("Your new authenticator is set up."))
                return redirect(_next_url(request))
            return _complete(request, user, redirect(_next_url(request)))
        if shut_out:
            return _signed_out(request)
        error = _("That code did not match. Check the time on your phone and type the newest code.")
    return render(
        request,
        "core/enrol.html",
        {
            "form": form,
            "error": error,
            "secret": _b32(device.bin_key),
            "next": _next_url(request),
            "replacing": replacing,
        },
    )


def _b32(key: bytes) -> str:
    import base64

    return base64.b32encode(key).decode().rstrip("=")


@never_cache
def enrol_qr_view(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return HttpResponse(status=404)
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        return HttpResponse(status=404)
    img = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    img.save(buf)
    return HttpResponse(buf.getvalue(), content_type="image/svg+xml")


@never_cache
def reauth_view(request: HttpRequest) -> HttpResponse:
    """Her password and a fresh code again, before a sensitive change (ASVS 3.7.1). Failures
    count as at sign-in; once this source is locked out, the session ends."""
    if not request.user.is_authenticated:
        return redirect("core:login")
    user = request.user
    devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    needs_code = devices.exists()
    form = ReauthForm(request.POST or None, needs_code=needs_code)
    error = None
    if request.method == "POST":
        gate = lockout.begin(
            username=user.username,
            step=Step.PASSWORD,
            source=client_ip(request),
            browser=lockout.known_browser(request, user.username),
        )
        if isinstance(gate, lockout.Refusal):
            _failed(request, user.username, f"reauth_{gate.reason}")
            return _signed_out(request)
        password_ok = form.is_valid() and user.check_password(form.cleaned_data["password"])
        if not password_ok:
            crossed = lockout.failed(gate)
            _failed(request, user.username, "reauth_password")
            if lockout.locks_now(crossed):
                return _signed_out(request)
            error = neutral_failure()
        else:
            lockout.succeeded(gate)
            device, shut_out = (None, False)
            if needs_code:
                device, shut_out = _verify_code(request, user, form, devices)
            if shut_out:
                return _signed_out(request)
            if device is not None or not needs_code:
                request.session.cycle_key()
                mark_reauthenticated(request)
                audit.record(actor=principal(request), action="auth.reauthenticated")
                return redirect(_next_url(request))
            error = neutral_failure()
    return render(
        request,
        "core/reauth.html",
        {
            "form": form,
            "error": error,
            "next": _next_url(request),
            "minutes": settings.REFUGE_REAUTH_MINUTES,
        },
    )


@never_cache
def password_change_view(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("core:login")
    user = request.user
    # A temporary password is changed straight after signing in with it; any other change
    # needs the password and a fresh code again.
    if not user.must_change_password and not principal(request).reauthenticated:
        return redirect(f"{reverse('core:reauth')}?next={reverse('core:password_change')}")
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        from django.core.exceptions import ValidationError

        try:
            services.password_change(
                user=user,
                new_password=form.cleaned_data["new_password"],
                actor=principal(request),
                browser=lockout.known_browser(request, user.username),
            )
        except ValidationError as exc:
            form.add_error("new_password", exc)
        else:
            auth.update_session_auth_hash(request, user)
            messages.success(request, _("Your password was changed."))
            return redirect("core:home")
    return render(request, "core/password_change.html", {"form": form})


@never_cache
def unlock_request_view(request: HttpRequest) -> HttpResponse:
    """Locked out? An unlock link by e-mail. The answer is the same whether or not the account
    exists or has an address."""
    form = UnlockRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def link_for(token: str) -> str:
            path = reverse("core:unlock", args=[token])
            base = settings.REFUGE_PUBLIC_URL.rstrip("/")
            return f"{base}{path}" if base else request.build_absolute_uri(path)

        message = services.unlock_link_request(
            username=form.cleaned_data["username"], source=client_ip(request), link_for=link_for
        )
        if message is not None:
            request._refuge_mail = mailer.send_soon(message)  # type: ignore[attr-defined]
        messages.info(
            request,
            _(
                "If this account has an e-mail address, a link to unlock it is on its way. "
                "It works once, for %(minutes)d minutes. No e-mail? Ask your manager to unlock "
                "your account."
            )
            % {"minutes": settings.REFUGE_UNLOCK_LINK_MINUTES},
        )
        return redirect("core:login")
    return render(request, "core/unlock_request.html", {"form": form})


@never_cache
def unlock_view(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed link: confirm with a button (a mail scanner that follows links must not
    spend it), then every lock on the account is lifted and this browser becomes a known one."""
    error = None
    if request.method == "POST":
        user = services.unlock_link_use(token=token[:100], source=client_ip(request))
        if user is not None:
            messages.success(request, _("Your account is unlocked. Sign in now."))
            response = redirect("core:login")
            lockout.remember_browser(request, response, user)
            return response
        error = _("This link does not work any more: it was used, it expired, or it is wrong.")
    return render(request, "core/unlock.html", {"error": error})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        p = principal(request)
        if p.break_glass is not None:  # signing out ends break-glass now, not at its time
            from refuge.core.models import BreakGlass

            services.break_glass_close(by=p, entry=BreakGlass.objects.get(pk=p.break_glass.id))
        audit.record(actor=p, action="auth.sign_out")
    auth.logout(request)
    return redirect("core:login")
