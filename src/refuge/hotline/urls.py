from django.urls import path

from . import views

app_name = "hotline"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("live/", views.queue_live, name="queue_live"),
    path("calls/new/", views.call_new, name="call_new"),
    path("calls/<int:pk>/", views.call_detail, name="call"),
    path("calls/<int:pk>/take/", views.call_take, name="call_take"),
    path("calls/<int:pk>/wrap-up/", views.wrapup, name="wrapup"),
    path("callbacks/", views.callbacks, name="callbacks"),
    path("callbacks/new/", views.callback_new, name="callback_new"),
    path("callbacks/<uuid:pk>/", views.callback_detail, name="callback"),
    path("callbacks/<uuid:pk>/attempt/", views.callback_attempt, name="callback_attempt"),
    path("callbacks/<uuid:pk>/close/", views.callback_close, name="callback_close"),
    path("figures/", views.figures_page, name="figures"),
    path("set-up/", views.setup, name="setup"),
    path("set-up/unreadable-events/", views.quarantine, name="quarantine"),
]
