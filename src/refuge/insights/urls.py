from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tables/<slug:key>.csv", views.table_csv, name="table_csv"),
    path("exports/", views.exports_page, name="exports"),
    path("exports/download/", views.export_download, name="export_download"),
    path("exports/participation/", views.exports_participation, name="exports_participation"),
    path("outcomes/", views.outcomes, name="outcomes"),
    path("outcomes/record/", views.outcome_find, name="outcome_find"),
    path("outcomes/case/<str:code>/", views.outcome_case, name="outcome_case"),
    path("simulation/", views.simulation, name="simulation"),
]
