from django.urls import path

from . import worklist_views as views

app_name = "worklist"
urlpatterns = [
    path("items/", views.items, name="items"),
    path("counts/", views.counts, name="counts"),
    path("sheet/", views.sheet_network, name="sheet_network"),
    path("sheet/<uuid:facility_id>/", views.sheet_facility, name="sheet_facility"),
]
