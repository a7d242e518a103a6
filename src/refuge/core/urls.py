from django.urls import path

from refuge.core.views import auth, pages

app_name = "core"
urlpatterns = [
    path("", pages.home, name="home"),
    path("healthz", pages.healthz, name="healthz"),
    path("login/", auth.login_view, name="login"),
    path("login/code/", auth.login_code_view, name="login_code"),
    path("logout/", auth.logout_view, name="logout"),
    path("account/second-factor/", auth.enrol_view, name="enrol"),
    path("account/second-factor/qr.svg", auth.enrol_qr_view, name="enrol_qr"),
    path("account/password/", auth.password_change_view, name="password_change"),
    path("staff/", pages.staff_list, name="staff_list"),
    path("staff/new/", pages.staff_new, name="staff_new"),
    path("staff/<int:user_id>/<slug:action>/", pages.staff_action, name="staff_action"),
    path("organisations/", pages.organisations, name="organisations"),
    path("organisations/<slug:slug>/", pages.organisation, name="organisation"),
    path("audit/", pages.audit_log, name="audit_log"),
]
