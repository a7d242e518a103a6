"""Sign-in: password (argon2, lockout by django-axes), then a TOTP code, then the app.

Every failure shows the same neutral message, whether the user name, the password or the code
was wrong, or the account is locked: the page must not tell a stranger which accounts exist.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.contrib import auth, messages
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.core import audit, services
from refuge.core.access import Principal, client_ip, principal
from refuge.core.forms import CodeForm, PasswordChangeForm, SignInForm
from refuge.core.roles import requires_second_factor


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


def locked_out(request: HttpRequest, credentials=None, *args, **kwargs) -> HttpResponse:
    """django-axes calls this once an account is locked: the same page and message as any failure."""
    username = (credentials or {}).get("username", "") if isinstance(credentials, dict) else ""
    _failed(request, username, "locked")
    if request.user.is_authenticated:
        auth.logout(request)
    return render(request, "core/login.html", {"form": SignInForm(), "error": neutral_failure()})


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
        user = auth.authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is not None and user.role is not None:
            auth.login(request, user)
            if requires_second_factor(user.role):
                has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
                target = reverse("core:login_code" if has_device else "core:enrol")
                return redirect(f"{target}?next={_next_url(request)}")
            audit.record(
                actor=principal(request), action="auth.sign_in", details={"second_factor": False}
            )
            return redirect(_next_url(request))
        if user is not None:  # a user with no active membership cannot sign in
            user_login_failed.send(
                sender=__name__, credentials={"username": username}, request=request
            )
        _failed(request, username, "password")
        error = neutral_failure()
    elif request.method == "POST":
        error = neutral_failure()
    return render(
        request, "core/login.html", {"form": form, "error": error, "next": _next_url(request)}
    )


def _code_failure(request: HttpRequest) -> HttpResponse | None:
    """Count a wrong code against the account; sign out completely once it is locked."""
    username = request.user.username
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
    _failed(request, username, "code")
    if AxesProxyHandler.is_locked(request, credentials={"username": username}):
        auth.logout(request)
        return render(
            request, "core/login.html", {"form": SignInForm(), "error": neutral_failure()}
        )
    return None


@never_cache
def login_code_view(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("core:login")
    if request.user.is_verified() or not requires_second_factor(request.user.role or ""):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    error = None
    if request.method == "POST":
        device = None
        if form.is_valid():
            code = form.cleaned_data["code"].strip()
            for candidate in TOTPDevice.objects.filter(user=request.user, confirmed=True):
                if candidate.verify_token(code):
                    device = candidate
                    break
        if device is not None:
            otp_login(request, device)
            AxesProxyHandler.user_logged_in(sender=None, request=request, user=request.user)
            audit.record(
                actor=principal(request), action="auth.sign_in", details={"second_factor": True}
            )
            return redirect(_next_url(request))
        locked = _code_failure(request)
        if locked is not None:
            return locked
        error = neutral_failure()
    return render(
        request, "core/login_code.html", {"form": form, "error": error, "next": _next_url(request)}
    )


@never_cache
def enrol_view(request: HttpRequest) -> HttpResponse:
    """First sign-in of a role that needs a second factor: scan the QR code, type a code."""
    if not request.user.is_authenticated:
        return redirect("core:login")
    if (
        TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
        and not request.user.is_verified()
    ):
        return redirect("core:login_code")
    device = services.totp_device_pending(user=request.user)
    form = CodeForm(request.POST or None)
    error = None
    if request.method == "POST":
        if form.is_valid() and device.verify_token(form.cleaned_data["code"].strip()):
            services.totp_device_confirm(user=request.user, device=device, actor=principal(request))
            otp_login(request, device)
            audit.record(
                actor=principal(request), action="auth.sign_in", details={"second_factor": True}
            )
            return redirect(_next_url(request))
        locked = _code_failure(request)
        if locked is not None:
            return locked
        error = _("That code did not match. Check the time on your phone and type the newest code.")
    secret = _b32(device.bin_key)
    return render(
        request,
        "core/enrol.html",
        {"form": form, "error": error, "secret": secret, "next": _next_url(request)},
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
def password_change_view(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("core:login")
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        from django.core.exceptions import ValidationError

        try:
            services.password_change(
                user=request.user,
                new_password=form.cleaned_data["new_password"],
                actor=principal(request),
            )
        except ValidationError as exc:
            form.add_error("new_password", exc)
        else:
            auth.update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password was changed."))
            return redirect("core:home")
    return render(request, "core/password_change.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit.record(actor=principal(request), action="auth.sign_out")
    auth.logout(request)
    return redirect("core:login")
