from django.urls import path, re_path

from . import views

app_name = "help"
urlpatterns = [
    path("", views.choose, name="choose"),
    path("sitemap.xml", views.sitemap, name="sitemap"),
    path("manage/", views.manage, name="manage"),
    path("manage/<slug:key>/<slug:lang>/", views.edit, name="edit"),
    path("<slug:lang>/", views.home, name="home"),
    path("<slug:lang>/region/<str:code>/", views.region, name="region"),
    path("<slug:lang>/leaflets/", views.leaflets, name="leaflets"),
    path("<slug:lang>/leaflets/<slug:slug>/", views.leaflet, name="leaflet"),
    path("<slug:lang>/safety/", views.safety, name="safety"),
    # Anything else under /help/ gets the help site's own 404 page, with the quick exit.
    re_path(r"^(?P<rest>.+)$", views.not_found, name="not_found"),
]
