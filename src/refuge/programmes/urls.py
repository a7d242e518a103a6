from django.urls import path

from . import views

app_name = "programmes"
urlpatterns = [
    path("", views.home, name="home"),
    path("groups/<int:group_id>/", views.group, name="group"),
    path("groups/<int:group_id>/enrol/", views.enrol, name="enrol"),
    path("groups/<int:group_id>/sessions/", views.session_new, name="session_new"),
    path("groups/<int:group_id>/sessions/<int:number>/", views.register, name="register"),
    path("participants/<str:code>/", views.participant, name="participant"),
    path("<int:programme_id>/outcomes/", views.outcomes, name="outcomes"),
    path("partner-support/", views.partner_support_list, name="partner_support_list"),
    path("partner-support/<uuid:support_id>/", views.partner_support, name="partner_support"),
]
