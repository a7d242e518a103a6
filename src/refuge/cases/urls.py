from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_new, name="new"),
    path("follow-ups/", views.tasks, name="tasks"),
    path("<str:code>/", views.client_detail, name="detail"),
    path("<str:code>/household/", views.household, name="household"),
    path("<str:code>/intake/her/", views.intake_her, name="intake_her"),
    path("<str:code>/intake/household/", views.intake_household, name="intake_household"),
    path(
        "<str:code>/household/<uuid:member_id>/remove/",
        views.household_remove,
        name="household_remove",
    ),
    path("<str:code>/risk/", views.risk, name="risk"),
    path("<str:code>/risk/new/<slug:instrument>@<int:version>/", views.risk_form, name="risk_form"),
    path(
        "<str:code>/risk/new/<slug:instrument>@<int:version>/score/",
        views.risk_score,
        name="risk_score",
    ),
    path("<str:code>/risk/<uuid:assessment_id>/", views.risk_detail, name="risk_detail"),
    path("<str:code>/safety-plan/", views.safety_plan, name="safety_plan"),
    path("<str:code>/safety-plan/print/", views.safety_plan_print, name="safety_plan_print"),
    path("<str:code>/notes/", views.notes, name="notes"),
    path("<str:code>/consent/", views.consent, name="consent"),
    path(
        "<str:code>/consent/<int:consent_id>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("<str:code>/follow-ups/", views.aftercare, name="aftercare"),
    path("<str:code>/follow-ups/<uuid:task_id>/done/", views.aftercare_done, name="aftercare_done"),
    path("<str:code>/services/", views.services_tab, name="services"),
    path("<str:code>/stays/", views.stays, name="stays"),
    path("<str:code>/close/", views.close, name="close"),
    path("<str:code>/legal-hold/", views.legal_hold, name="legal_hold"),
    path("<str:code>/erase/", views.erase, name="erase"),
    path("<str:code>/her-copy/", views.survivor_copy, name="survivor_copy"),
]
