from django.contrib import admin
from django.urls import include, path

from connections.urls import auth_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    *auth_urlpatterns,
    path("", include("connections.urls")),
]

handler403 = "connections.views.no_access"
