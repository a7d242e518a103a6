from django.urls import path

from . import views

app_name = "vacancies"
urlpatterns = [
    path("", views.board_page, name="board"),
    path("rows/", views.board_rows, name="board_rows"),
    path("facility/<uuid:facility_id>/", views.facility_page, name="facility"),
    path("facility/<uuid:facility_id>/report/", views.report, name="report"),
    path("facility/<uuid:facility_id>/confirm/", views.confirm, name="confirm"),
    path("facility/<uuid:facility_id>/settings/", views.settings, name="settings"),
    path("facility/<uuid:facility_id>/rooms/new/", views.room_new, name="room_new"),
    path("facility/<uuid:facility_id>/rooms/<int:room_id>/", views.room_edit, name="room_edit"),
]
