from django.urls import path

from . import views

app_name = "directory"
urlpatterns = [
    path("", views.facility_list, name="list"),
    path("new/", views.facility_new, name="facility_new"),
    path("organisation/", views.organisation_edit, name="organisation_edit"),
    path("<uuid:facility_id>/", views.facility_detail, name="detail"),
    path("<uuid:facility_id>/edit/", views.facility_edit, name="facility_edit"),
    path("<uuid:facility_id>/rules/", views.rules_edit, name="rules_edit"),
    path("<uuid:facility_id>/hours/", views.hours_edit, name="hours_edit"),
    path("<uuid:facility_id>/phones/", views.phone_add, name="phone_add"),
    path(
        "<uuid:facility_id>/phones/<uuid:phone_id>/remove/",
        views.phone_remove,
        name="phone_remove",
    ),
]
