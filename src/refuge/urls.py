from importlib.util import find_spec

from django.conf import settings
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.i18n import set_language

from refuge.api import api, api_not_found

# Each domain app mounts its pages under its own prefix (if it has a urls module).
APP_PREFIXES = {
    "refuge.help": "help/",
    "refuge.directory": "directory/",
    "refuge.vacancies": "vacancies/",
    "refuge.hotline": "hotline/",
    "refuge.cases": "cases/",
    "refuge.referrals": "referrals/",
    "refuge.insights": "insights/",
    "refuge.programmes": "programmes/",
    "refuge.meetings": "meetings/",
    "refuge.notifications": "notifications/",
    "refuge.federation": "federation/",
}

urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/", api_not_found),
    path("i18n/setlang/", set_language, name="set_language"),
    # Pages name their icon; a browser that asks for /favicon.ico anyway is sent to it. Its
    # address is looked up per request: in production it comes from the collected files'
    # manifest, which does not exist yet when `migrate` first imports this module.
    path(
        "favicon.ico", lambda request: HttpResponsePermanentRedirect(static("refuge/favicon.svg"))
    ),
]
for app, prefix in APP_PREFIXES.items():
    if app in settings.INSTALLED_APPS and find_spec(f"{app}.urls") is not None:
        urlpatterns.append(path(prefix, include(f"{app}.urls")))
# The worklist's live parts and daily sheets (the home page itself stays core:home).
if "refuge.notifications" in settings.INSTALLED_APPS:
    urlpatterns.append(path("worklist/", include("refuge.notifications.worklist_urls")))
urlpatterns.append(path("", include("refuge.core.urls")))

handler400 = "refuge.core.views.errors.bad_request"
handler403 = "refuge.core.views.errors.forbidden"
handler404 = "refuge.core.views.errors.not_found"
handler500 = "refuge.core.views.errors.server_error"
