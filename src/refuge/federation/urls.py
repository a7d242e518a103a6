from django.urls import path

from . import handover_views, travel_views, views

app_name = "federation"
urlpatterns = [
    path("", views.peers, name="peers"),
    path("peers/<uuid:peer_id>/untrust/", views.peer_untrust, name="peer_untrust"),
    path("sharing/", views.sharing, name="sharing"),
    path("referrals/", views.referrals, name="referrals"),
    path("referrals/send/", views.referral_send, name="referral_send"),
    path(
        "referrals/<uuid:referral_id>/withdraw/",
        views.referral_withdraw,
        name="referral_withdraw",
    ),
    path("referrals/<uuid:referral_id>/answer/", views.referral_answer, name="referral_answer"),
    path("referrals/<uuid:referral_id>/release/", views.referral_release, name="referral_release"),
    path(
        "referrals/<uuid:referral_id>/consent/",
        handover_views.record_consent,
        name="record_consent",
    ),
    path("referrals/<uuid:referral_id>/journey/", travel_views.journey, name="journey"),
    path(
        "referrals/<uuid:referral_id>/journey/arrived/",
        travel_views.journey_arrive,
        name="journey_arrive",
    ),
    path(
        "referrals/sent/<uuid:referral_id>/journey/",
        travel_views.journey_sent,
        name="journey_sent",
    ),
]
