"""A double submit never makes two records (issue 16, item 4).

A form that creates something carries a one-time token (``{% form_token %}``); its view is
wrapped in ``@once``. The first POST with a token claims it in the database (a unique row, so two
requests racing each other on two servers cannot both claim it); a second POST with the same
token (a double click, a reload of the result, a retry after a timeout) does nothing and is
sent where the first one led, with a message saying so. A submission that did not go through
(the form came back with errors, or the view failed) gives its token back. A view whose
success is a page shown once rather than a redirect (a new API key's secret, a temporary
password) says where a repeat should go by setting ``response.once_result``, so she can correct
and send again. A POST without a token (the API, a page opened before this existed) is handled
as before.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

FIELD = "form_token"
KEEP = timedelta(days=1)
WAIT_SECONDS = 10.0  # how long a second submit waits for the first one's outcome


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _safe(request: HttpRequest, url: str) -> str:
    ok = url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()})
    return url if url and ok else request.path


def _repeat(request: HttpRequest, token: str) -> HttpResponse:
    from refuge.core.models import FormSubmission

    deadline = time.monotonic() + WAIT_SECONDS
    row = FormSubmission.objects.filter(token=token, user=request.user).first()
    while row is not None and not row.result and time.monotonic() < deadline:
        time.sleep(0.1)  # the first submit is still being handled
        row = FormSubmission.objects.filter(token=token, user=request.user).first()
    if row is not None and row.result:
        messages.info(request, _("This form had already been sent; here is what came of it."))
        return HttpResponseRedirect(_safe(request, row.result))
    messages.info(request, _("This form is already being sent. Wait a moment and look again."))
    return HttpResponseRedirect(request.path)


def once(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        from refuge.core.models import FormSubmission

        token = request.POST.get(FIELD, "") if request.method == "POST" else ""
        if not token or len(token) > 64 or not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        try:
            with transaction.atomic():
                claim = FormSubmission.objects.create(token=token, user=request.user)
        except IntegrityError:
            return _repeat(request, token)
        try:
            response = view(request, *args, **kwargs)
        except BaseException:
            FormSubmission.objects.filter(pk=claim.pk).delete()
            raise
        done = getattr(response, "once_result", "")  # a page shown once (a new key's secret)
        if response.status_code in (301, 302, 303) and response.get("Location"):
            FormSubmission.objects.filter(pk=claim.pk).update(result=response["Location"][:300])
        elif done:
            FormSubmission.objects.filter(pk=claim.pk).update(result=done[:300])
        else:  # shown again with its errors: she may correct it and send it again
            FormSubmission.objects.filter(pk=claim.pk).delete()
        FormSubmission.objects.filter(
            user=request.user, created_at__lt=timezone.now() - KEEP
        ).delete()
        return response

    return wrapper
