from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("items/<uuid:delivery_id>/open/", views.open_item, name="open"),
    path("telegram/link/", views.telegram_link, name="telegram_link"),
    path("telegram/unlink/", views.telegram_unlink, name="telegram_unlink"),
    path("telegram/webhook/", views.telegram_webhook, name="telegram_webhook"),
    path("push/subscribe/", views.push_subscribe, name="push_subscribe"),
    path("push/unsubscribe/", views.push_unsubscribe, name="push_unsubscribe"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("failed/", views.failed, name="failed"),
    path("rota/", views.rota, name="rota"),
    path("policy/", views.policy, name="policy"),
]
