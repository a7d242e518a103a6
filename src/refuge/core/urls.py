from django.urls import path

from refuge.core.views import auth, pages

app_name = "core"
urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", pages.healthz, name="healthz"),
    path("login/", auth.login_view, name="login"),
    path("login/code/", auth.login_code_view, name="login_code"),
    path("login/unlock/", auth.unlock_request_view, name="unlock_request"),
    path("login/unlock/<str:token>/", auth.unlock_view, name="unlock"),
    path("logout/", auth.logout_view, name="logout"),
    path("account/confirm/", auth.reauth_view, name="reauth"),
    path("account/second-factor/", auth.enrol_view, name="enrol"),
    path("account/second-factor/qr.svg", auth.enrol_qr_view, name="enrol_qr"),
    path("account/password/", auth.password_change_view, name="password_change"),
    path("staff/", pages.staff_list, name="staff_list"),
    path("staff/new/", pages.staff_new, name="staff_new"),
    path("staff/<int:user_id>/<slug:action>/", pages.staff_action, name="staff_action"),
    path("organisations/", pages.organisations, name="organisations"),
    path("organisations/<slug:slug>/", pages.organisation, name="organisation"),
    path(
        "organisations/<slug:slug>/staff/new/",
        pages.organisation_staff_new,
        name="organisation_staff_new",
    ),
    path("api-keys/", pages.api_keys, name="api_keys"),
    path("api-keys/new/", pages.api_key_new, name="api_key_new"),
    path("api-keys/<int:key_id>/revoke/", pages.api_key_revoke, name="api_key_revoke"),
    path("break-glass/", pages.break_glass, name="break_glass"),
    path("break-glass/<uuid:entry_id>/end/", pages.break_glass_close, name="break_glass_close"),
    path("audit/", pages.audit_log, name="audit_log"),
]
