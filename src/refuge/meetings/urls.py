from django.urls import path

from . import views

app_name = "meetings"
urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("<int:meeting_id>/", views.meeting_detail, name="detail"),
    path("<int:meeting_id>/propose/", views.propose, name="propose"),
    path("<int:meeting_id>/held/", views.hold, name="hold"),
    path("<int:meeting_id>/minutes/", views.minutes, name="minutes"),
    path("<int:meeting_id>/cases/<str:code>/", views.case, name="case"),
    path("items/<uuid:item_id>/decide/", views.item_decide, name="item_decide"),
    path("items/<uuid:item_id>/conclude/", views.item_conclude, name="item_conclude"),
    path("items/<uuid:item_id>/actions/", views.action_new, name="action_new"),
    path("actions/<uuid:action_id>/done/", views.action_done, name="action_done"),
]
