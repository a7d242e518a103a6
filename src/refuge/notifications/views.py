"""Pages of notifications: my channels and quiet hours, Telegram linking and its webhook, push
devices and the service worker, failed deliveries (managers), the on-call rota (managers) and
the network's escalation time (coordinators)."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from refuge.core import audit, roles
from refuge.core.access import client_ip, principal, role_required
from refuge.core.models import User
from refuge.core.services import ServiceError

from . import links, selectors, services
from .forms import ChannelSettingsForm, PolicyForm, RotaForm
from .models import OnCall, PushSubscription, TelegramLink

SERVICE_WORKER = settings.PACKAGE_DIR / "notifications" / "static" / "notifications" / "sw.js"


def _any_role(role: str) -> bool:
    return True


def _manager(role: str) -> bool:
    return role == roles.Role.MANAGER


def _coordinator(role: str) -> bool:
    return role == roles.Role.COORDINATOR


@login_required
@role_required(_any_role)
def mine(request: HttpRequest) -> HttpResponse:
    user = request.user
    prefs = services.settings_for(user)
    if request.method == "POST":
        form = ChannelSettingsForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.channel_settings_update(
                    user=user,
                    email=d["email"],
                    telegram=d["telegram"],
                    push=d["push"],
                    quiet_from=d["quiet_from"],
                    quiet_until=d["quiet_until"],
                    tz=d["timezone"],
                )
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Your notification settings are saved."))
                return redirect("notifications:mine")
    else:
        form = ChannelSettingsForm(
            initial={
                "email": prefs.email,
                "telegram": prefs.telegram,
                "push": prefs.push,
                "quiet_from": prefs.quiet_from,
                "quiet_until": prefs.quiet_until,
                "timezone": prefs.timezone,
            }
        )
    return render(
        request,
        "notifications/mine.html",
        {
            "form": form,
            "has_email": bool(user.email),
            "telegram_ready": bool(settings.REFUGE_TELEGRAM_BOT_TOKEN),
            "telegram_linked": TelegramLink.objects.filter(user=user).exists(),
            "push_ready": bool(settings.REFUGE_VAPID_PUBLIC_KEY),
            "vapid_public_key": settings.REFUGE_VAPID_PUBLIC_KEY or "",
            "devices": PushSubscription.objects.filter(user=user).count(),
            "unread": selectors.unread_for(user)[:50],
            "is_manager": user.role == roles.Role.MANAGER,
            "is_coordinator": user.role == roles.Role.COORDINATOR,
        },
    )


@login_required
@role_required(_any_role)
@require_POST
def open_item(request: HttpRequest, delivery_id) -> HttpResponse:
    d = services.delivery_acknowledge(user=request.user, delivery_id=delivery_id)
    if d is None:
        return redirect("notifications:mine")
    return redirect(links.url_for(d.event))


# --- Telegram ------------------------------------------------------------------------------------


@login_required
@role_required(_any_role)
@require_POST
def telegram_link(request: HttpRequest) -> HttpResponse:
    if not settings.REFUGE_TELEGRAM_BOT_TOKEN:
        messages.error(request, _("Telegram is not set up on this server."))
        return redirect("notifications:mine")
    code = services.telegram_code_create(user=request.user)
    bot = settings.REFUGE_TELEGRAM_BOT_USERNAME
    return render(
        request,
        "notifications/telegram_link.html",
        {
            "code": code,
            "deep_link": f"https://t.me/{bot}?start={code}" if bot else "",
            "minutes": services.LINK_CODE_MINUTES,
        },
    )


@login_required
@role_required(_any_role)
@require_POST
def telegram_unlink(request: HttpRequest) -> HttpResponse:
    services.telegram_unlink(user=request.user)
    messages.success(request, _("Telegram is unlinked: nothing more will be sent there."))
    return redirect("notifications:mine")


@csrf_exempt
@require_POST
def telegram_webhook(request: HttpRequest) -> HttpResponse:
    """Telegram calls this with our secret in X-Telegram-Bot-Api-Secret-Token; anything else
    is refused with 403 and audited (no body is read or kept)."""
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not services.telegram_webhook_secret_ok(given):
        audit.record(
            actor=None,
            action="notification.telegram_webhook_refused",
            target_type="notifications.telegram",
            details={"ip": client_ip(request)},
        )
        return HttpResponseForbidden("forbidden")
    try:
        update = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"ok": True})  # Telegram would retry a 4xx/5xx for ever
    services.telegram_update_handle(update)
    return JsonResponse({"ok": True})


# --- Web Push ------------------------------------------------------------------------------------


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from our origin at a stable address (a hashed static name would change with every
    release and orphan the registrations)."""
    response = HttpResponse(
        SERVICE_WORKER.read_text(encoding="utf-8"), content_type="text/javascript"
    )
    response["Cache-Control"] = "no-cache"
    return response


@login_required
@role_required(_any_role)
@require_POST
def push_subscribe(request: HttpRequest) -> HttpResponse:
    try:
        data = json.loads(request.body or b"{}")
        endpoint = str(data["endpoint"])
        keys = data["keys"]
        p256dh, auth = str(keys["p256dh"]), str(keys["auth"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return JsonResponse(
            {"code": "invalid", "message": _("Not a push subscription.")}, status=400
        )
    try:
        services.push_subscribe(
            by=principal(request),
            endpoint=endpoint,
            p256dh=p256dh,
            auth=auth,
            session_key=request.session.session_key,
        )
    except ServiceError as exc:
        status = 403 if exc.code == "forbidden" else 400
        return JsonResponse({"code": exc.code, "message": exc.message}, status=status)
    return JsonResponse({"ok": True})


@login_required
@role_required(_any_role)
@require_POST
def push_unsubscribe(request: HttpRequest) -> HttpResponse:
    endpoint = None
    if request.content_type == "application/json":
        try:
            endpoint = str(json.loads(request.body or b"{}").get("endpoint") or "") or None
        except (ValueError, AttributeError, UnicodeDecodeError):
            endpoint = None
    services.push_unsubscribe(user=request.user, endpoint=endpoint)
    if request.content_type == "application/json":
        return JsonResponse({"ok": True})
    messages.success(request, _("Notifications on your devices are turned off."))
    return redirect("notifications:mine")


# --- managers and coordinators -------------------------------------------------------------------


@login_required
@role_required(_manager)
def failed(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    if request.method == "POST":
        d = selectors.failed_delivery_for_manager(p, request.POST.get("delivery"))
        try:
            services.delivery_retry(by=p, delivery=d)
            messages.success(request, _("It will be sent again now."))
        except ServiceError as exc:
            messages.error(request, exc.message)
        return redirect("notifications:failed")
    return render(
        request,
        "notifications/failed.html",
        {"rows": selectors.failed_deliveries_for(p)[:200], "reasons": REASONS},
    )


# Lazy: built at import, read in the language of each request.
REASONS = {
    "smtp_unreachable": gettext_lazy("the mail server did not answer"),
    "smtp_recipient_refused": gettext_lazy("the mail server refused the address"),
    "no_email_address": gettext_lazy("no email address"),
    "telegram_unreachable": gettext_lazy("Telegram did not answer"),
    "telegram_not_linked": gettext_lazy("Telegram is not linked"),
    "telegram_not_configured": gettext_lazy("Telegram is not set up on this server"),
    "push_unreachable": gettext_lazy("the push service did not answer"),
    "push_no_device": gettext_lazy("no device is subscribed"),
    "push_not_configured": gettext_lazy("push is not set up on this server"),
    "recipient_inactive": gettext_lazy("the member of staff is deactivated"),
}


def _facilities(p):
    from refuge.directory.models import Facility

    return Facility.objects.filter(organisation_id=p.org_id).order_by("name")


@login_required
@role_required(_manager)
def rota(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    facilities = list(_facilities(p))
    staff = list(
        User.objects.filter(
            membership__organisation_id=p.org_id,
            membership__is_active=True,
            is_active=True,
            membership__role__in=[roles.Role.CASEWORKER, roles.Role.MANAGER],
        ).order_by("username")
    )
    this_week = services.monday(timezone.localdate())
    form = RotaForm(
        request.POST or None,
        facilities=facilities,
        staff=staff,
        initial={"week": this_week},
    )
    if request.method == "POST" and form.is_valid():
        facility = next(f for f in facilities if str(f.pk) == form.cleaned_data["facility"])
        chosen = [u for u in staff if str(u.pk) in form.cleaned_data["users"]]
        try:
            services.on_call_set(
                by=p, facility=facility, week=form.cleaned_data["week"], users=chosen
            )
            messages.success(request, _("The rota is saved."))
            return redirect("notifications:rota")
        except ServiceError as exc:
            messages.error(request, exc.message)
    rows = (
        OnCall.objects.filter(facility__in=facilities, week__gte=this_week)
        .select_related("facility", "user")
        .order_by("week", "facility__name")
    )
    return render(
        request, "notifications/rota.html", {"form": form, "rows": rows, "this_week": this_week}
    )


@login_required
@role_required(_coordinator)
def policy(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    current = services.policy()
    form = PolicyForm(
        request.POST or None, initial={"escalate_after_minutes": current.escalate_after_minutes}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_set(
                by=p, escalate_after_minutes=form.cleaned_data["escalate_after_minutes"]
            )
            messages.success(request, _("Saved."))
            return redirect("notifications:policy")
        except ServiceError as exc:
            messages.error(request, exc.message)
    return render(request, "notifications/policy.html", {"form": form})
