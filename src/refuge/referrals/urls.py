from django.urls import path

from . import views

app_name = "referrals"
urlpatterns = [
    path("search/", views.search_page, name="search"),
    path("send/", views.send, name="send"),
    path("turn-away/", views.turn_away, name="turn_away"),
    path("inbox/", views.inbox, name="inbox"),
    path("sent/", views.sent, name="sent"),
    path("turn-aways/", views.turnaways, name="turnaways"),
    path("waiting-list/", views.waitlist, name="waitlist"),
    path("partner-requests/", views.partner_requests, name="partner_requests"),
    path("evacuation/", views.evacuation, name="evacuation"),
    path("<uuid:referral_id>/", views.detail, name="detail"),
    path("<uuid:referral_id>/<slug:action>/", views.act, name="act"),
]
